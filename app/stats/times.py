"""How fast the chain runs, per report, against the human relay of sec. 3.6 (messages passed to the police
within 10 minutes): received -> the first operator action on its incident, -> the first follow-up recorded,
-> the first terugkoppeling delivered to the beheerder, as the report's facts keep them (app.stats.facts).
Medians and p90 come from app.stats.portable: exact, over the period's durations only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import CTE

from app.stats.models import ReportFact
from app.stats.period import day_bucket_index
from app.stats.portable import EMPTY, spreads
from app.stats.reports import facts_in_scope
from app.stats.scope import Scope

HUMAN_RELAY_SECONDS = 600  # sec. 3.6: Tilburg passes WhatsApp messages to the police within 10 minutes
MEASURES = ("first_action", "first_follow_up", "feedback_delivered")


def materialized(statement: Select[Any], name: str) -> CTE:
    """A CTE computed once per statement (PostgreSQL 12+, SQLite 3.35+), not once for every reference to its
    columns."""
    return statement.cte(name).prefix_with("MATERIALIZED")


async def times(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    durations = materialized(
        select(day_bucket_index(ReportFact.day, scope.period.months()).label("month"),
               *[ReportFact.__table__.c[f"{measure}_s"].label(measure) for measure in MEASURES])
        .where(*facts_in_scope(scope)), "durations")
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
