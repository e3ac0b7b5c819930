"""The reports side of the evaluation (tables 3.1, 3.4 and 3.5 of the research report, and the
appearance-only share), summed by the database from the counts per group and Amsterdam day that
app.stats.facts keeps.

A report counts with the labels the meldkamer left it with (app.stats.facts). The database returns one count
per group, wijk, month and label; the tables are sums of those counts."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from app.core.vocabulary import CATEGORY as CATEGORY_VOCABULARY
from app.core.vocabulary import FOLLOW_UP, RESULT
from app.stats.facts import NO_OFFENCE, labelled_counts
from app.stats.models import DayCount, MonthCount, ReportFact
from app.stats.period import DayRange, cover, day_bucket_index
from app.stats.scope import Scope

UNLISTED = "overig"  # the key for a label that is not in the vocabulary
CATEGORY_CODES = CATEGORY_VOCABULARY.codes
WEEKLY_LABELS = {"reports": "reports", "passed": "passed", "flagged": "appearance_only"}


def facts_in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    """The facts of the reports received in the period, forwarded by groups of the scope's wijken (and group),
    tagged with the scope's operation if it has one."""
    conditions = _in_scope(scope, ReportFact.day, ReportFact.wijk, ReportFact.group_id)
    if scope.operation_id is not None:
        conditions.append(ReportFact.operation_id == scope.operation_id)
    return conditions


def _in_scope(scope: Scope, day: Any, wijk: Any, group_id: Any) -> list[ColumnElement[bool]]:
    return [day >= scope.period.first_day, day <= scope.period.last_day, *in_area(scope, wijk, group_id)]


def in_area(scope: Scope, wijk: Any, group_id: Any) -> list[ColumnElement[bool]]:
    conditions = []
    if scope.wijkcodes is not None:
        conditions.append(wijk.in_(sorted(scope.wijkcodes)))
    if scope.group_id is not None:
        conditions.append(group_id == scope.group_id)
    return conditions


def _counts_in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    return _in_scope(scope, DayCount.day, DayCount.wijk, DayCount.group_id)


@dataclass(frozen=True)
class Cell:
    """The reports of one group in one month (and the wijk they were forwarded from), counted by label:
    "reports", "category:<code>", "offence:<code>", "passed", "called_112", "taken_on", "with_follow_up",
    "follow_up:<code>", "result:<code>", "flagged", "lifted", "lowered"."""

    group_id: int
    wijk: str
    month: int
    counts: Counter[str]


def _listed(offences: Iterable[str]) -> dict[str, frozenset[str]]:
    """The codes each labelled count is kept for; a code outside its vocabulary counts as `overig`."""
    return {"category": frozenset(CATEGORY_CODES), "offence": frozenset((*offences, NO_OFFENCE)),
            "follow_up": frozenset(FOLLOW_UP.codes), "result": frozenset(RESULT.codes)}


def _kept(label: str, listed: dict[str, frozenset[str]]) -> bool:
    prefix, _, code = label.partition(":")
    return not code or code in listed.get(prefix, frozenset())


def in_days(day: Any, ranges: list[DayRange]) -> ColumnElement[bool]:
    return or_(*[day.between(first, last) for first, last in ranges])


async def _labelled_counts(session: AsyncSession, scope: Scope) -> list[Any]:
    """(group, wijk, month index, label, n) for the scope, from the month and day counts as the period's cover
    reads them (app.stats.period.cover); a subtracted day's row comes with a negative n, summed in Python."""
    months = scope.period.months()
    reading = cover(scope.period)
    area = in_area(scope, DayCount.wijk, DayCount.group_id)
    rows: list[Any] = []
    if reading.months:
        month = day_bucket_index(MonthCount.month, months).label("month")
        keys = (MonthCount.group_id, MonthCount.wijk, month, MonthCount.label)
        rows += (await session.execute(
            select(*keys, func.sum(MonthCount.n)).where(MonthCount.month.in_(reading.months),
                                                        *in_area(scope, MonthCount.wijk, MonthCount.group_id))
            .group_by(*keys))).all()
    month = day_bucket_index(DayCount.day, months).label("month")
    keys = (DayCount.group_id, DayCount.wijk, month, DayCount.label)
    for ranges, sign in ((reading.plus, 1), (reading.minus, -1)):
        if ranges:
            summed_days = await session.execute(
                select(*keys, func.sum(DayCount.n)).where(in_days(DayCount.day, ranges), *area).group_by(*keys))
            rows += [(group_id, wijk, index, label, sign * int(n or 0))
                     for group_id, wijk, index, label, n in summed_days]
    return rows


async def _operation_counts(session: AsyncSession, scope: Scope) -> list[Any]:
    """The same rows for the reports of one operation, counted from their facts (an operation's reports are
    few; the day and month counts do not keep the operation)."""
    month = day_bucket_index(ReportFact.day, scope.period.months()).label("month")
    counted = labelled_counts(facts_in_scope(scope), (ReportFact.group_id, ReportFact.wijk, month)).subquery()
    return list((await session.execute(select(counted.c.group_id, counted.c.wijk, counted.c.month,
                                              counted.c.label, counted.c.n))).all())


async def report_cells(session: AsyncSession, scope: Scope, offences: Iterable[str]) -> list[Cell]:
    listed = _listed(offences)
    per_cell: defaultdict[tuple[int, str, int], Counter[str]] = defaultdict(Counter)
    counted = _operation_counts if scope.operation_id is not None else _labelled_counts
    for group_id, wijk, month_index, label, n in await counted(session, scope):
        if _kept(label, listed):
            per_cell[(group_id, wijk, int(month_index))][label] += int(n or 0)
    cells = []
    for (group_id, wijk, month_index), summed_counts in per_cell.items():
        counts = +summed_counts  # a month row minus its days outside the period may leave nothing
        if not counts:
            continue
        _add_unlisted(counts, "category")
        _add_unlisted(counts, "offence")
        cells.append(Cell(group_id=group_id, wijk=wijk, month=month_index, counts=counts))
    return cells


def _add_unlisted(counts: Counter[str], prefix: str) -> None:
    """Reports whose label is no code of the vocabulary (an offence the lexicon no longer has) still count."""
    listed = sum(n for name, n in counts.items() if name.startswith(f"{prefix}:"))
    if counts["reports"] > listed:
        counts[f"{prefix}:{UNLISTED}"] = counts["reports"] - listed


async def weekly(session: AsyncSession, scope: Scope) -> dict[int, dict[str, int]]:
    """Per ISO week (index into the period's weeks): reports, passed to the police, appearance-only."""
    if scope.operation_id is not None:
        week = day_bucket_index(ReportFact.day, scope.period.weeks()).label("week")
        counted = labelled_counts(facts_in_scope(scope), (week,)).subquery()
        statement = (select(counted.c.week, counted.c.label, counted.c.n)
                     .where(counted.c.label.in_(sorted(WEEKLY_LABELS))))
    else:
        week = day_bucket_index(DayCount.day, scope.period.weeks()).label("week")
        statement = (select(week, DayCount.label, func.sum(DayCount.n))
                     .where(*_counts_in_scope(scope), DayCount.label.in_(sorted(WEEKLY_LABELS)))
                     .group_by(week, DayCount.label))
    rows = await session.execute(statement)
    out: dict[int, dict[str, int]] = {}
    for index, label, n in rows:
        out.setdefault(int(index), dict.fromkeys(WEEKLY_LABELS.values(), 0))[WEEKLY_LABELS[label]] = int(n or 0)
    return out


# ---- the tables, summed from the cells -----------------------------------------------------------------


def summed(cells: Iterable[Cell]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for cell in cells:
        for label, n in cell.counts.items():
            counts[label] += n
    return counts


def _by_prefix(counts: Counter[str], prefix: str) -> dict[str, int]:
    return {name.split(":", 1)[1]: n for name, n in counts.items() if name.startswith(f"{prefix}:") and n}


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def category_counts(counts: Counter[str]) -> dict[str, Any]:
    """Table 3.1's columns for a set of reports (their counts summed): how many, by category and by offence."""
    return {"total": counts["reports"], "categories": _by_prefix(counts, "category"),
            "offences": _by_prefix(counts, "offence")}


def follow_up_counts(counts: Counter[str]) -> dict[str, Any]:
    """Table 3.4's rows for a set of reports (their counts summed)."""
    passed, unknown = counts["passed"], counts["passed"] - counts["with_follow_up"]
    return {
        "reports": counts["reports"], "passed_to_police": passed, "called_112": counts["called_112"],
        "taken_on_by_meldkamer": counts["taken_on"], "with_follow_up": counts["with_follow_up"],
        "follow_ups": _by_prefix(counts, "follow_up"), "results": _by_prefix(counts, "result"),
        "no_known_follow_up": unknown, "no_known_follow_up_share": share(unknown, passed),
    }


def appearance_counts(counts: Counter[str]) -> dict[str, Any]:
    return {"reports": counts["reports"], "flagged": counts["flagged"], "share": share(counts["flagged"],
                                                                                         counts["reports"]),
            "lifted": counts["lifted"], "lowered": counts["lowered"]}
