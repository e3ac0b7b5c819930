"""An operator marks an incident for keeping: its reports then outlive the ordinary retention, until the
Wet politiegegevens period configured for kept incidents (retention_kept_days) has passed since the mark."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import StaffUser
from app.core.database import utcnow
from app.core.errors import NotFound
from app.core.principal import Principal
from app.core.settings import Settings
from app.incidents.models import Incident
from app.privacy.models import RetentionHold
from app.privacy.schemas import KeepStatusOut


async def keep_incident(session: AsyncSession, settings: Settings, actor: Principal, incident_id: int,
                        reason: str) -> RetentionHold:
    """Marks (or marks again, from now) the incident for keeping; audited."""
    if await session.get(Incident, incident_id) is None:
        raise NotFound("Het incident")
    now = utcnow()
    hold = await session.get(RetentionHold, incident_id) or RetentionHold(incident_id=incident_id)
    hold.reason = reason.strip()
    hold.marked_by_id = actor.id if actor.kind == "staff" else None
    hold.marked_at = now
    hold.keep_until = now + timedelta(days=settings.retention_kept_days)
    session.add(hold)
    audit.record(session, actor, "incident.keep", target_type="incident", target_id=incident_id,
                 reason=hold.reason, keep_until=hold.keep_until.isoformat())
    await session.commit()
    return hold


async def keep_status(session: AsyncSession, settings: Settings, incident_id: int) -> KeepStatusOut:
    """The incident's hold as the console shows it next to the "Bewaren (Wpg)" button."""
    if await session.get(Incident, incident_id) is None:
        raise NotFound("Het incident")
    periods = {"retention_days": settings.retention_report_text_days, "kept_days": settings.retention_kept_days}
    hold = await session.get(RetentionHold, incident_id)
    if hold is None:
        return KeepStatusOut(incident_id=incident_id, kept=False, **periods)
    marked_by = await session.scalar(select(StaffUser.display_name).where(StaffUser.id == hold.marked_by_id)) \
        if hold.marked_by_id is not None else None
    return KeepStatusOut(incident_id=incident_id, kept=hold.keep_until > utcnow(), reason=hold.reason,
                         marked_at=hold.marked_at, marked_by=marked_by, keep_until=hold.keep_until, **periods)
