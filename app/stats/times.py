"""How fast the chain runs, per report, against the human relay of sec. 3.6 (messages passed to the police
within 10 minutes): received -> the first operator action on its incident, -> the first follow-up recorded,
-> the first terugkoppeling delivered to the beheerder. Medians and p90 come from app.stats.portable."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, String, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import CTE, Subquery

from app.audit.models import AuditEntry
from app.broadcast.models import Delivery
from app.intake.models import Report, ReportFeedback
from app.stats.period import bucket_index
from app.stats.portable import EMPTY, seconds_between, spreads
from app.stats.reports import in_scope
from app.stats.scope import Scope

HUMAN_RELAY_SECONDS = 600  # sec. 3.6: Tilburg passes WhatsApp messages to the police within 10 minutes
MEASURES = ("first_action", "first_follow_up", "feedback_delivered")


def _moments(scope: Scope) -> Subquery:
    """Per report of the scope: when it arrived, an operator's first action on its incident after that (claim,
    decision, merge, split), the first follow-up recorded, the first terugkoppeling delivered. Joins and one
    GROUP BY rather than a lookup per report and moment: PostgreSQL then hashes, which took half the time."""
    first_action = and_(AuditEntry.target_type == "incident", AuditEntry.target_id == cast(Report.incident_id, String),
                        AuditEntry.actor_type == "staff", AuditEntry.at >= Report.received_at,
                        AuditEntry.at >= scope.period.start)
    return (select(Report.received_at.label("received_at"),
                   bucket_index(Report.received_at, scope.period.months()).label("month"),
                   func.min(AuditEntry.at).label("first_action"), func.min(ReportFeedback.at).label("first_follow_up"),
                   func.min(Delivery.delivered_at).label("feedback_delivered"))
            .outerjoin(AuditEntry, first_action)
            .outerjoin(ReportFeedback, and_(ReportFeedback.report_id == Report.id, ReportFeedback.kind == "follow_up"))
            .outerjoin(Delivery, and_(Delivery.report_id == Report.id, Delivery.purpose == "feedback"))
            .where(*in_scope(scope)).group_by(Report.id, Report.received_at)).subquery()


def materialized(statement: Select[Any], name: str) -> CTE:
    """A CTE computed once per statement (PostgreSQL 12+, SQLite 3.35+), not once for every reference to its
    columns."""
    return statement.cte(name).prefix_with("MATERIALIZED")


async def times(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    dialect = session.get_bind().dialect.name
    moments = _moments(scope)
    durations = materialized(
        select(moments.c.month, *[seconds_between(moments.c[measure], moments.c.received_at, dialect).label(measure)
                                  for measure in MEASURES]), "durations")
    measured = await spreads(session, durations, MEASURES, baseline=HUMAN_RELAY_SECONDS, by="month")
    months = scope.period.months()

    def spread(measure: str, key: int | None) -> dict[str, Any]:
        return measured[measure].get(key, EMPTY).as_json(HUMAN_RELAY_SECONDS)

    return {
        "baseline_s": HUMAN_RELAY_SECONDS,
        **{measure: spread(measure, None) for measure in MEASURES},
        "per_month": [{"month": bucket.label, **{measure: spread(measure, index) for measure in MEASURES}}
                      for index, bucket in enumerate(months)],
    }
