"""The reports side of the evaluation (tables 3.1, 3.4 and 3.5 of the research report, and the
appearance-only share), summed by the database from the counts per group and Amsterdam day that
app.stats.facts keeps.

A report counts with the labels the meldkamer left it with (app.stats.facts). The database sums the month and
day counts to the tables' shapes (per group and month, group, month, wijk, gemeente, in total) and returns one
sum per key and label."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Integer, Select, String, case, cast, func, literal_column, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from app.core.vocabulary import CATEGORY as CATEGORY_VOCABULARY
from app.core.vocabulary import FOLLOW_UP, RESULT
from app.registry.models import Gemeente, Wijk
from app.stats.facts import NO_OFFENCE, WEEK_LABELS, labelled_counts, week_days
from app.stats.models import DayCount, MonthCount, ReportFact, WeekCount
from app.stats.period import DayRange, Period, cover, day_bucket_index
from app.stats.scope import Scope

UNLISTED = "overig"  # the key for a label that is not in the vocabulary
CATEGORY_CODES = CATEGORY_VOCABULARY.codes
WEEKLY_LABELS = dict(zip(WEEK_LABELS, ("reports", "passed", "appearance_only"), strict=True))  # label: JSON name


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


def in_days(day: Any, ranges: list[DayRange]) -> ColumnElement[bool]:
    return or_(*[day.between(first, last) for first, last in ranges])


class LabelCounts(Counter[str]):
    """One key's counts by label, with the coded labels' counts also by prefix and code (`coded["category"]`),
    filed as they come (`file`), so that a table row does not search every label for a prefix."""

    def __init__(self) -> None:
        super().__init__()
        self.coded: defaultdict[str, dict[str, int]] = defaultdict(dict)

    def file(self, label: str, n: int) -> None:
        self[label] = n
        prefix, _, code = label.partition(":")
        if code:
            self.coded[prefix][code] = n


NO_COUNTS = LabelCounts()  # read only: the counts of a key without reports


@dataclass(frozen=True)
class Sums:
    """The scope's reports counted by label ("reports", "category:<code>", "offence:<code>", "passed",
    "called_112", "taken_on", "with_follow_up", "follow_up:<code>", "result:<code>", "flagged", "lifted",
    "lowered") for every key the tables use: in total, per group, per group and month (index into the period's
    months), per wijk and gemeente of the forwarding group (a wijk outside the registry: gemeente ""), per month."""

    total: LabelCounts
    group: dict[int, LabelCounts]
    group_month: dict[tuple[int, int], LabelCounts]
    wijk: dict[str, LabelCounts]
    gemeente: dict[str, LabelCounts]
    month: dict[int, LabelCounts]


def _listed_labels(offences: Iterable[str]) -> list[str]:
    """The coded labels whose code is in its vocabulary (for offences: the lexicon's, and "none")."""
    codes = {"category": CATEGORY_CODES, "offence": (*offences, NO_OFFENCE), "follow_up": FOLLOW_UP.codes,
             "result": RESULT.codes}
    return sorted({f"{prefix}:{code}" for prefix, listed in codes.items() for code in listed})


def _as_listed(label: Any, offences: Iterable[str]) -> Any:
    """The label a count is kept under: a label without a code (no colon) or a listed one as it is, a category or
    offence outside its vocabulary (an offence the lexicon no longer has) as `overig`, any other unlisted code
    NULL: left out."""
    return case((label.not_like("%:%"), label), (label.in_(_listed_labels(offences)), label),
                *[(label.like(f"{prefix}:%"), literal_column(f"'{prefix}:{UNLISTED}'", String))
                  for prefix in ("category", "offence")],
                else_=None)


def _count_rows(scope: Scope) -> Select[Any]:
    """(group_id, wijk, month index, label, n) rows whose sums are the scope's counts: the month and day counts
    as the period's cover reads them (app.stats.period.cover), a subtracted day's row with a negative n; or, for
    an operation, its reports counted from their facts (the day and month counts do not keep the operation)."""
    months = scope.period.months()
    if scope.operation_id is not None:
        month = day_bucket_index(ReportFact.day, months).label("month")
        counted = labelled_counts(facts_in_scope(scope), (ReportFact.group_id, ReportFact.wijk, month)).subquery()
        return select(counted.c.group_id, counted.c.wijk, counted.c.month, counted.c.label, counted.c.n)
    reading = cover(scope.period)
    arms = []
    if reading.months:
        arms.append(select(MonthCount.group_id, MonthCount.wijk, day_bucket_index(MonthCount.month, months)
                           .label("month"), MonthCount.label, MonthCount.n.label("n"))
                    .where(MonthCount.month.in_(reading.months),
                           *in_area(scope, MonthCount.wijk, MonthCount.group_id)))
    area = in_area(scope, DayCount.wijk, DayCount.group_id)
    for ranges, n in ((reading.plus, DayCount.n), (reading.minus, -DayCount.n)):
        if ranges:
            arms.append(select(DayCount.group_id, DayCount.wijk, day_bucket_index(DayCount.day, months).label("month"),
                               DayCount.label, n.label("n")).where(in_days(DayCount.day, ranges), *area))
    return arms[0] if len(arms) == 1 else union_all(*arms)  # type: ignore[return-value]


def _or_null(key: Any, type_: Any) -> Any:
    return key if key is not None else cast(null(), type_)


LEVELS = ("group_month", "group", "month", "wijk", "gemeente", "total")


def _summed_per_level(scope: Scope, offences: Iterable[str]) -> Select[Any]:
    """One row per level (LEVELS), key and label with the sum of the count rows: the tables' shapes summed by
    the database, so that Python only files a few thousand sums instead of adding up every count row."""
    raw = _count_rows(scope).subquery()
    label = _as_listed(raw.c.label, offences)
    rows = (select(raw.c.group_id, raw.c.wijk, raw.c.month, label.label("label"), raw.c.n)
            .where(label.is_not(None)).cte("count_rows").prefix_with("MATERIALIZED"))
    gemeente = func.coalesce(Gemeente.code, "")
    keys: dict[str, tuple[Any, Any, Any]] = {
        "group_month": (rows.c.group_id, None, rows.c.month), "group": (rows.c.group_id, None, None),
        "month": (None, None, rows.c.month), "wijk": (None, rows.c.wijk, None), "gemeente": (None, gemeente, None),
        "total": (None, None, None)}
    arms = []
    for level, (group_id, place, month) in keys.items():
        arm = select(literal_column(f"'{level}'", String).label("level"),
                     _or_null(group_id, Integer).label("group_id"), _or_null(place, String).label("place"),
                     _or_null(month, Integer).label("month"), rows.c.label, func.sum(rows.c.n).label("n"))
        arm = arm.select_from(rows)
        if level == "gemeente":
            arm = arm.outerjoin(Wijk, Wijk.code == rows.c.wijk).outerjoin(Gemeente, Gemeente.id == Wijk.gemeente_id)
        grouped = [key for key in (group_id, place, month) if key is not None]
        arms.append(arm.group_by(*grouped, rows.c.label).having(func.sum(rows.c.n) != 0))
    return union_all(*arms)  # type: ignore[return-value]


def _key(level: str, group_id: int | None, place: str | None, month: int | None) -> Any:
    if level == "group_month":
        return (group_id, int(month or 0))
    if level == "month":
        return int(month or 0)
    return {"group": group_id, "wijk": place, "gemeente": place}.get(level)


async def report_sums(session: AsyncSession, scope: Scope, offences: Iterable[str]) -> Sums:
    per_level: dict[str, defaultdict[Any, LabelCounts]] = {level: defaultdict(LabelCounts) for level in LEVELS}
    for level, group_id, place, month, label, n in (await session.execute(_summed_per_level(scope, offences))).all():
        per_level[level][_key(level, group_id, place, month)].file(label, int(n))
    return Sums(total=per_level["total"].get(None, NO_COUNTS), group=dict(per_level["group"]),
                group_month=dict(per_level["group_month"]), wijk=dict(per_level["wijk"]),
                gemeente=dict(per_level["gemeente"]), month=dict(per_level["month"]))


def _week_of(period: Period) -> dict[date, int]:
    """Every day of the period with the index of its ISO week in the period's weeks."""
    return {bucket.first_day + timedelta(days=offset): index for index, bucket in enumerate(period.weeks())
            for offset in range((bucket.last_day - bucket.first_day).days + 1)}


def _weekly_rows(scope: Scope) -> list[tuple[Select[Any], dict[date, int]]]:
    """The statements of the weekly series, each with the index of the week of the day or Monday its rows carry:
    an operation's reports from their facts; otherwise the whole weeks from the week counts and the weeks the
    period cuts (at most two) from the day counts."""
    labels = sorted(WEEKLY_LABELS)
    week_of = _week_of(scope.period)
    if scope.operation_id is not None:
        counted = labelled_counts(facts_in_scope(scope), (ReportFact.day,)).subquery()
        return [(select(counted.c.day, counted.c.label, counted.c.n).where(counted.c.label.in_(labels)), week_of)]
    weeks = scope.period.weeks()
    whole = {bucket.first_day: index for index, bucket in enumerate(weeks)
             if (bucket.first_day, bucket.last_day) == week_days(bucket.first_day)}
    cut = [(bucket.first_day, bucket.last_day) for bucket in weeks if bucket.first_day not in whole]
    statements = []
    if whole:
        statements.append((select(WeekCount.week, WeekCount.label, func.sum(WeekCount.n))
                           .where(WeekCount.week.in_(sorted(whole)), WeekCount.label.in_(labels),
                                  *in_area(scope, WeekCount.wijk, WeekCount.group_id))
                           .group_by(WeekCount.week, WeekCount.label), whole))
    if cut:
        statements.append((select(DayCount.day, DayCount.label, func.sum(DayCount.n))
                           .where(in_days(DayCount.day, cut), DayCount.label.in_(labels),
                                  *in_area(scope, DayCount.wijk, DayCount.group_id))
                           .group_by(DayCount.day, DayCount.label), week_of))
    return statements


async def weekly(session: AsyncSession, scope: Scope) -> dict[int, dict[str, int]]:
    """Per ISO week (index into the period's weeks): reports, passed to the police, appearance-only."""
    out: dict[int, dict[str, int]] = {}
    for statement, week_index in _weekly_rows(scope):
        for day, label, n in (await session.execute(statement)).all():
            counts = out.setdefault(week_index[day], dict.fromkeys(WEEKLY_LABELS.values(), 0))
            counts[WEEKLY_LABELS[label]] += int(n or 0)
    return out


# ---- the tables, summed from the cells -----------------------------------------------------------------


def _by_prefix(counts: LabelCounts, prefix: str) -> dict[str, int]:
    return dict(counts.coded.get(prefix, {}))


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def category_counts(counts: LabelCounts) -> dict[str, Any]:
    """Table 3.1's columns for a set of reports (their counts summed): how many, by category and by offence."""
    return {"total": counts["reports"], "categories": _by_prefix(counts, "category"),
            "offences": _by_prefix(counts, "offence")}


def follow_up_counts(counts: LabelCounts) -> dict[str, Any]:
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
