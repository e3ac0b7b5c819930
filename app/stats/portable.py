"""SQL that gives the same numbers on SQLite and PostgreSQL: whole seconds between two times, and the median
and 90th percentile of a column of durations.

PostgreSQL has `percentile_cont`. SQLite has none, so there the rows are ranked with window functions and
the two values around the wanted position are interpolated with the formula PostgreSQL uses
(orderedsetaggs.c: position = p * (n - 1); lo + (position - floor(position)) * (hi - lo), in doubles). Both
work on whole seconds, so both engines see the same inputs and do the same arithmetic:
tests/stats/test_percentiles.py checks them against a plain Python implementation on each engine."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Float, Integer, Select, case, cast, extract, func, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import CTE, Subquery

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


Spreads = dict[str, dict[Hashable, Spread]]


async def spreads(session: AsyncSession, durations: CTE | Subquery, measures: Sequence[str], *, baseline: int = 0,
                  by: str | None = None) -> Spreads:
    """Median and p90 of each measure column of `durations` (NULLs left out), overall (key None) and, with `by`,
    per value of that column: one statement, so a materialized `durations` is computed once."""
    dialect = session.get_bind().dialect.name
    aggregate = _postgres if dialect == "postgresql" else _sqlite
    key_type = durations.c[by].type if by else Integer()  # the overall row's NULL key, typed for the UNION
    overall = aggregate(durations, measures, baseline, None, key_type)
    statement = overall if by is None else union_all(overall, aggregate(durations, measures, baseline, by, key_type))
    rows = (await session.execute(statement)).mappings().all()
    out: Spreads = {measure: {} for measure in measures}
    for row in rows:
        for measure in measures:
            n = int(row[f"{measure}_n"] or 0)
            if n:
                out[measure][row["key"]] = Spread(n, _float(row[f"{measure}_q50"]), _float(row[f"{measure}_q90"]),
                                                  int(row[f"{measure}_within"] or 0))
    return out


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _key(durations: CTE | Subquery, by: str | None, key_type: Any) -> Any:
    return durations.c[by] if by else cast(null(), key_type)


def _postgres(durations: CTE | Subquery, measures: Sequence[str], baseline: int, by: str | None,
              key_type: Any) -> Select[Any]:
    columns: list[Any] = [_key(durations, by, key_type).label("key")]
    for measure in measures:
        x = durations.c[measure]
        q50, q90 = (func.percentile_cont(q).within_group(cast(x, Float)) for q in QUANTILES)
        columns += [func.count(x).label(f"{measure}_n"), q50.label(f"{measure}_q50"), q90.label(f"{measure}_q90"),
                    func.sum(case((x <= baseline, 1), else_=0)).label(f"{measure}_within")]
    statement = select(*columns).select_from(durations)
    return statement.group_by(durations.c[by]) if by else statement


def _sqlite(durations: CTE | Subquery, measures: Sequence[str], baseline: int, by: str | None,
            key_type: Any) -> Select[Any]:
    key = _key(durations, by, key_type)
    partition = {"partition_by": key} if by else {}
    ranked_columns: list[Any] = [key.label("key")]
    for measure in measures:
        x = durations.c[measure]
        ranked_columns += [x.label(measure),
                           func.row_number().over(order_by=x.nulls_last(), **partition).label(f"{measure}_rn"),
                           func.count(x).over(**partition).label(f"{measure}_count")]
    ranked = select(*ranked_columns).select_from(durations).subquery()
    columns: list[Any] = [ranked.c.key]
    for measure in measures:
        x, rn, n = ranked.c[measure], ranked.c[f"{measure}_rn"], ranked.c[f"{measure}_count"]
        columns += [func.max(n).label(f"{measure}_n"), _interpolated(x, rn, n, 0.5).label(f"{measure}_q50"),
                    _interpolated(x, rn, n, 0.9).label(f"{measure}_q90"),
                    func.sum(case((x <= baseline, 1), else_=0)).label(f"{measure}_within")]
    statement = select(*columns)
    return statement.group_by(ranked.c.key) if by else statement


def _interpolated(x: Any, rn: Any, n: Any, q: float) -> Any:
    """percentile_cont's result from the ranked values of one group (rn 1..n, NULLs ranked after them): the
    values at 0-based positions floor(q(n-1)) and the one after, interpolated."""
    below = cast((n - 1) * q, Integer)  # per row, but n is the same for the whole group
    above = case((below + 2 > n, n), else_=below + 2)
    lo = func.max(case((rn == below + 1, x)))
    hi = func.max(case((rn == above, x)))
    position = (func.max(n) - 1) * q
    return lo + (position - cast(position, Integer)) * (hi - lo)
