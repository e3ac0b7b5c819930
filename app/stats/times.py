"""How fast the chain runs, per report, against the human relay of sec. 3.6 (messages passed to the police
within 10 minutes): received -> the first operator action on its incident, -> the first follow-up recorded,
-> the first terugkoppeling delivered to the beheerder. Medians and p90 come from app.stats.portable."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.broadcast.models import Delivery
from app.intake.models import Report, ReportFeedback
from app.stats.period import bucket_index
from app.stats.portable import EMPTY, Spread, seconds_between, spreads
from app.stats.reports import in_scope
from app.stats.scope import Scope

HUMAN_RELAY_SECONDS = 600  # sec. 3.6: Tilburg passes WhatsApp messages to the police within 10 minutes
MEASURES = ("first_action", "first_follow_up", "feedback_delivered")


def _first_action() -> Any:
    """An operator's first action (claim, decision, merge, split) on the report's incident after it arrived."""
    return (select(func.min(AuditEntry.at))
            .where(AuditEntry.target_type == "incident", AuditEntry.target_id == cast(Report.incident_id, String),
                   AuditEntry.actor_type == "staff", AuditEntry.at >= Report.received_at)
            .scalar_subquery())


def _first_follow_up() -> Any:
    return (select(func.min(ReportFeedback.at))
            .where(ReportFeedback.report_id == Report.id, ReportFeedback.kind == "follow_up").scalar_subquery())


def _feedback_delivered() -> Any:
    return (select(func.min(Delivery.delivered_at))
            .where(Delivery.report_id == Report.id, Delivery.purpose == "feedback").scalar_subquery())


_MOMENTS = {"first_action": _first_action, "first_follow_up": _first_follow_up,
            "feedback_delivered": _feedback_delivered}


async def _spreads_of(session: AsyncSession, scope: Scope, measure: str) -> dict[Hashable, Spread]:
    dialect = session.get_bind().dialect.name
    durations = (select(seconds_between(_MOMENTS[measure](), Report.received_at, dialect).label("seconds"),
                        bucket_index(Report.received_at, scope.period.months()).label("month"))
                 .where(*in_scope(scope))).subquery()
    overall = await spreads(session, durations, baseline=HUMAN_RELAY_SECONDS)
    per_month = await spreads(session, durations, baseline=HUMAN_RELAY_SECONDS, by="month")
    return {None: overall.get(None, EMPTY), **per_month}


async def times(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    measured = {measure: await _spreads_of(session, scope, measure) for measure in MEASURES}
    months = scope.period.months()
    return {
        "baseline_s": HUMAN_RELAY_SECONDS,
        **{measure: measured[measure][None].as_json(HUMAN_RELAY_SECONDS) for measure in MEASURES},
        "per_month": [
            {"month": bucket.label, **{measure: measured[measure].get(index, EMPTY).as_json(HUMAN_RELAY_SECONDS)
                                       for measure in MEASURES}}
            for index, bucket in enumerate(months)],
    }
