"""SQL that gives the same numbers on SQLite and PostgreSQL: whole seconds between two times, and the median
and 90th percentile of a column of durations.

PostgreSQL has `percentile_cont`. SQLite has none, so there the rows are ranked with window functions and
the two values around the wanted position are interpolated with the formula PostgreSQL uses
(orderedsetaggs.c: position = p * (n - 1); lo + (position - floor(position)) * (hi - lo), in doubles). Both
work on whole seconds, so both engines see the same inputs and do the same arithmetic:
tests/stats/test_percentiles.py checks them against a plain Python implementation on each engine."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Float, Integer, case, cast, extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Subquery

QUANTILES = (0.5, 0.9)


def epoch_seconds(column: Any, dialect: str) -> Any:
    """Whole seconds since 1970 (fractions dropped alike on both engines; SQLite stores UTC text)."""
    if dialect == "postgresql":
        return cast(func.floor(extract("epoch", column)), BigInteger)
    return cast(func.strftime("%s", column), Integer)


def seconds_between(later: Any, earlier: Any, dialect: str) -> Any:
    return epoch_seconds(later, dialect) - epoch_seconds(earlier, dialect)


@dataclass(frozen=True)
class Spread:
    """The distribution of one duration: how many, the median and p90 (seconds), and how many were at most
    the baseline."""

    n: int
    median: float | None
    p90: float | None
    within: int

    def as_json(self, baseline: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"n": self.n, "median_s": _round(self.median), "p90_s": _round(self.p90)}
        if baseline is not None:
            out["within_baseline"] = self.within
            out["within_baseline_share"] = round(self.within / self.n, 4) if self.n else None
        return out


EMPTY = Spread(0, None, None, 0)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


async def spreads(session: AsyncSession, durations: Subquery, *, baseline: int = 0,
                  by: str | None = None) -> dict[Hashable, Spread]:
    """Median and p90 of `durations.c.seconds` (NULLs left out), overall (key None) or per `durations.c[by]`."""
    dialect = session.get_bind().dialect.name
    statement = (_postgres if dialect == "postgresql" else _sqlite)(durations, baseline, by)
    rows = (await session.execute(statement)).all()
    return {row.key: Spread(int(row.n), _float(row.q50), _float(row.q90), int(row.within or 0)) for row in rows
            if row.n}


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _key(durations: Subquery, by: str | None) -> Any:
    return durations.c[by] if by else None


def _postgres(durations: Subquery, baseline: int, by: str | None) -> Any:
    seconds = cast(durations.c.seconds, Float)
    key = _key(durations, by)
    q50, q90 = (func.percentile_cont(q).within_group(seconds) for q in QUANTILES)
    statement = select((key if key is not None else cast(None, Integer)).label("key"), func.count().label("n"),
                       q50.label("q50"), q90.label("q90"),
                       func.sum(case((durations.c.seconds <= baseline, 1), else_=0)).label("within"))
    statement = statement.where(durations.c.seconds.is_not(None))
    return statement.group_by(key) if key is not None else statement


def _sqlite(durations: Subquery, baseline: int, by: str | None) -> Any:
    key = _key(durations, by)
    partition = {"partition_by": key} if key is not None else {}
    ranked = select(
        durations.c.seconds.label("x"), (key if key is not None else cast(None, Integer)).label("key"),
        func.row_number().over(order_by=durations.c.seconds, **partition).label("rn"),
        func.count().over(**partition).label("n"),
    ).where(durations.c.seconds.is_not(None)).subquery()
    q50, q90 = (_interpolated(ranked, q) for q in QUANTILES)
    return (select(ranked.c.key, ranked.c.n, q50.label("q50"), q90.label("q90"),
                   func.sum(case((ranked.c.x <= baseline, 1), else_=0)).label("within"))
            .group_by(ranked.c.key, ranked.c.n))


def _interpolated(ranked: Subquery, q: float) -> Any:
    """percentile_cont's result from the ranked rows of one group (rn 1..n): rows floor(p(n-1)) and the
    next one (0-based), interpolated."""
    position = (ranked.c.n - 1) * q
    below = cast(position, Integer)  # floor: the position is never negative
    above = case((below + 2 > ranked.c.n, ranked.c.n), else_=below + 2)
    lo = func.max(case((ranked.c.rn == below + 1, ranked.c.x)))
    hi = func.max(case((ranked.c.rn == above, ranked.c.x)))
    return lo + (position - below) * (hi - lo)
