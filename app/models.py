"""Imports every domain's models so that the metadata (and Alembic) sees all tables."""

from app.audit.models import AuditEntry, AuditPersonal
from app.auth.models import ApiToken, StaffUser
from app.broadcast.models import Broadcast, Delivery, RateLimitState, WhatsAppWindow
from app.core.database import Base
from app.events.models import Event
from app.hotspots.models import HotspotRecord, SignalementRecord
from app.incidents.models import Incident
from app.intake.models import (
    CaseCounter,
    QuarantinedMessage,
    Report,
    ReportFeedback,
    ReportPhoto,
    WhatsAppStatus,
)
from app.learning.models import LabelledExample
from app.operations.models import Operation, OperationMessage, OperationParticipant
from app.privacy.models import PurgeCursor, RetentionHold
from app.registry.models import Beheerder, Gemeente, Group, Region, Street, WallDisplay, Wijk
from app.stats.models import (
    DayCount,
    DayDuration,
    FactChange,
    MonthCount,
    MonthDuration,
    ReportFact,
    WeekCount,
)

__all__ = [
    "ApiToken", "AuditEntry", "Base", "Beheerder", "CaseCounter", "Event", "QuarantinedMessage", "Report",
    "ReportFeedback", "ReportPhoto", "WhatsAppStatus", "Incident", "Gemeente", "Group", "HotspotRecord", "Region",
    "SignalementRecord", "StaffUser", "Street", "WallDisplay", "Wijk",
    "Broadcast", "Delivery", "RateLimitState", "WhatsAppWindow", "LabelledExample",
    "Operation", "OperationMessage", "OperationParticipant", "PurgeCursor", "RetentionHold",
    "DayCount", "DayDuration", "FactChange", "MonthCount", "MonthDuration", "ReportFact", "WeekCount",
    "AuditPersonal",
]
