"""How fast the chain runs, per report, against the human relay of sec. 3.6 (messages passed to the police
within 10 minutes): received -> the first operator action on its incident, -> the first follow-up recorded,
-> the first terugkoppeling delivered to the beheerder, as the report's facts keep them (app.stats.facts).
Medians and p90 come from app.stats.portable: exact, over the period's durations only; over many reports
from the histograms per day and month that app.stats.facts keeps (see `times`)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import CTE

from app.stats.facts import MEASURES, bucket_width
from app.stats.models import DayDuration, MonthDuration, ReportFact
from app.stats.period import cover, day_bucket_index
from app.stats.portable import EMPTY, Spread, Spreads, spreads
from app.stats.reports import facts_in_scope, in_area, in_days
from app.stats.scope import Scope

HUMAN_RELAY_SECONDS = 600  # sec. 3.6: Tilburg passes WhatsApp messages to the police within 10 minutes
EXACT_UP_TO = 20_000  # reports; sorting this many durations takes about as long as reading the histograms


def materialized(statement: Select[Any], name: str) -> CTE:
    """A CTE computed once per statement (PostgreSQL 12+, SQLite 3.35+), not once for every reference to its
    columns."""
    return statement.cte(name).prefix_with("MATERIALIZED")


async def _exact(session: AsyncSession, scope: Scope) -> Spreads:
    """Sorts the period's durations: exact, for the scopes with few reports."""
    durations = materialized(
        select(day_bucket_index(ReportFact.day, scope.period.months()).label("month"),
               *[ReportFact.__table__.c[f"{measure}_s"].label(measure) for measure in MEASURES])
        .where(*facts_in_scope(scope)), "durations")
    return await spreads(session, durations, MEASURES, baseline=HUMAN_RELAY_SECONDS, by="month")


async def _histogram_rows(session: AsyncSession, scope: Scope) -> list[Any]:
    """(measure, month index, bucket, n): from the month and day durations as the period's cover reads them
    (app.stats.period.cover); a subtracted day's row comes with a negative n."""
    months = scope.period.months()
    reading = cover(scope.period)
    rows: list[Any] = []
    if reading.months:
        month = MonthDuration
        index = day_bucket_index(month.month, months).label("month")
        keys = (month.measure, index, month.bucket)
        rows += (await session.execute(
            select(*keys, func.sum(month.n)).where(month.month.in_(reading.months),
                                                   *in_area(scope, month.wijk, None)).group_by(*keys))).all()
    day = DayDuration
    index = day_bucket_index(day.day, months).label("month")
    keys = (day.measure, index, day.bucket)
    for ranges, sign in ((reading.plus, 1), (reading.minus, -1)):
        if ranges:
            summed_days = await session.execute(
                select(*keys, func.sum(day.n)).where(in_days(day.day, ranges), *in_area(scope, day.wijk, None))
                .group_by(*keys))
            rows += [(measure, month_index, bucket, sign * int(n or 0))
                     for measure, month_index, bucket, n in summed_days]
    return rows


def _from_histogram(counts: Counter[int]) -> Spread:
    """Median and p90 as percentile_cont would give them if the values in each bucket lay evenly spread over
    it; the count within the baseline is exact (the baseline ends a bucket)."""
    n = sum(counts.values())
    if not n:
        return EMPTY
    ordered = sorted(counts.items())

    def value_at(rank: int) -> float:
        seen = 0
        for end, count in ordered:
            if rank < seen + count:
                width = bucket_width(end)
                return end - width + width * (rank - seen + 0.5) / count
            seen += count
        return float(ordered[-1][0])

    def quantile(q: float) -> float:
        position = q * (n - 1)
        below = math.floor(position)
        low, high = value_at(below), value_at(min(below + 1, n - 1))
        return low + (position - below) * (high - low)

    within = sum(count for end, count in ordered if end <= HUMAN_RELAY_SECONDS)
    return Spread(n, quantile(0.5), quantile(0.9), within)


async def _histograms(session: AsyncSession, scope: Scope) -> Spreads:
    per_month: dict[str, dict[int, Counter[int]]] = {measure: {} for measure in MEASURES}
    for measure, month, bucket, n in await _histogram_rows(session, scope):
        per_month[measure].setdefault(int(month), Counter())[int(bucket)] += int(n)
    measured: Spreads = {}
    for measure, months in per_month.items():
        overall: Counter[int] = Counter()
        for counts in months.values():
            overall.update(counts)
        measured[measure] = {None: _from_histogram(overall),
                             **{month: _from_histogram(counts) for month, counts in months.items()}}
    return measured


async def times(session: AsyncSession, scope: Scope, reports: int) -> dict[str, Any]:
    """`reports`: how many the scope holds. Up to EXACT_UP_TO (and for a single group or an operation, which the
    histograms do not keep) the percentiles are exact; over more they come from the histograms, within a bucket's width
    (docs/performance.md: the error measured in the benchmark)."""
    exact = reports <= EXACT_UP_TO or scope.group_id is not None or scope.operation_id is not None
    measured = await (_exact(session, scope) if exact else _histograms(session, scope))
    months = scope.period.months()

    def spread(measure: str, key: int | None) -> dict[str, Any]:
        return measured[measure].get(key, EMPTY).as_json(HUMAN_RELAY_SECONDS)

    return {
        "baseline_s": HUMAN_RELAY_SECONDS,
        **{measure: spread(measure, None) for measure in MEASURES},
        "per_month": [{"month": bucket.label, **{measure: spread(measure, index) for measure in MEASURES}}
                      for index, bucket in enumerate(months)],
    }
