"""The evaluation's facts: one row per report with the labels it is counted by and the durations of its
steps, and the counts per group and Amsterdam day summed from them. A request then sums day rows and sorts
only its period's durations, instead of reading every report with its incident, audit log, follow-ups and
deliveries (docs/performance.md, "Evaluation").

Why a queue folded on read rather than facts written by each domain: a fact depends on rows of four domains
(the report, its incident's labels, the audit log's first operator action, follow-ups and delivered
terugkoppeling), and an action on an incident changes the facts of all its reports, including those a merge
or split just moved. Each domain therefore only queues "these reports (or this incident) changed" in its own
transaction (app.stats.models), and `fold_changes` computes the queued facts again from the source rows with
the same expressions as before, before every evaluation. So the figures are exact right after an action, the
hooks stay one short insert, and the facts cannot drift from the rows they summarise."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Delete,
    Insert,
    Select,
    String,
    Table,
    Update,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter

from app.audit.models import AuditEntry
from app.broadcast.models import Delivery
from app.core.vocabulary import TIMEZONE, URGENCY
from app.incidents.models import Incident
from app.intake.models import Report, ReportFeedback
from app.stats.alert_facts import fold_alerts, rebuild_alerts
from app.stats.models import DayCount, DayDuration, FactChange, MonthCount, MonthDuration, ReportFact, WeekCount
from app.stats.portable import seconds_between

POLICE_MATTER = ("P1", "P2", "P3")
NO_OFFENCE = "none"
NO_FOLLOW_UP = "geen_opvolging"
WEEK_LABELS = ("reports", "passed", "flagged")  # the weekly series (app.stats.reports.weekly)
CHUNK = 500  # ids per statement; a count statement binds them once per label (12 x 500), under the 32,766 of SQLite
FOLD_LOCK = 15_001  # PostgreSQL advisory lock: one fold at a time, so two never insert the same fact


def _day_of(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return cast(func.timezone(literal_column(f"'{TIMEZONE}'"), column), Date)
    return func.amsterdam_day(column)  # app.core.database registers it


def _set_by_operator(field: str) -> ColumnElement[bool]:
    # `overridden` is a JSON list of field names; its text is the portable way to ask for one member.
    return cast(Incident.overridden, String).like(f'%"{field}"%')


def _rank(column: Any) -> Any:
    return case({code: URGENCY.rank(code) for code in URGENCY}, value=column, else_=URGENCY.rank("none"))


# A report counts with the labels the meldkamer left it with: the operator's category, offence and urgency
# where they set them on its incident, the engine's suggestion otherwise.
CATEGORY = func.coalesce(case((_set_by_operator("category"), Incident.category), else_=Report.category), "overig")
OFFENCE = func.coalesce(case((_set_by_operator("offence"), Incident.offence), else_=Report.offence), NO_OFFENCE)
URGENCY_DECIDED = case((Incident.urgency_override.is_not(None), Incident.urgency), else_=Report.urgency)
# Passed to the police: the reporter called 112 (or said the police knew), or the meldkamer took it on as a
# police matter (an urgency other than "geen politietaak").
CALLED_112 = case((Report.called_112.is_(True), 1), else_=0)
PASSED = case((or_(Report.called_112.is_(True), URGENCY_DECIDED.in_(POLICE_MATTER)), 1), else_=0)
# An operator set the urgency of the report's incident above or below the engine's suggestion for the report.
URGENCY_CHANGE = case(
    (Incident.urgency_override.is_(None), None),
    (_rank(Incident.urgency) < _rank(Report.urgency), "lifted"),
    (_rank(Incident.urgency) > _rank(Report.urgency), "lowered"),
    else_=None)

MEASURES = ("first_action", "first_follow_up", "feedback_delivered")
# Histogram buckets of a duration: (up to this many seconds, width). A bucket is named by its upper end and
# holds (end - width, end]; every range ends on a multiple of the next width, and the 10-minute baseline is a
# bucket's end, so "within the baseline" is counted exactly.
# Above a minute a bucket is at most a sixth of the times it holds (a tenth from 10 minutes to an hour).
BUCKETS = ((60, 5), (120, 10), (240, 20), (600, 30), (1200, 60), (3600, 120), (7200, 300), (14400, 900),
           (28800, 1800), (86400, 3600))
LONGEST_WIDTH = 21600


def bucket_width(end: int) -> int:
    return next((width for upper, width in BUCKETS if end <= upper), LONGEST_WIDTH)


def _bucket_of(seconds: Any) -> Any:
    """The duration rounded up to its bucket's end, in integers on both engines."""
    def up(width: int) -> Any:
        return seconds + (width - seconds % width) % width
    return case(*[(seconds <= upper, up(width)) for upper, width in BUCKETS], else_=up(LONGEST_WIDTH))


FACT_COLUMNS = ("report_id", "day", "received_at", "group_id", "wijk", "region_id", "operation_id", "category",
                "offence", "urgency", "passed", "called_112", "follow_up", "result", "flagged", "urgency_change",
                "first_action_s", "first_follow_up_s", "feedback_delivered_s")


def _moments(report_ids: Sequence[int] | BindParameter[Any] | None) -> Any:
    """Per report: an operator's first action on its incident after it arrived (claim, decision, merge,
    split), the first follow-up recorded, the first terugkoppeling delivered."""
    first_action = and_(AuditEntry.target_type == "incident", AuditEntry.target_id == cast(Report.incident_id, String),
                        AuditEntry.actor_type == "staff", AuditEntry.at >= Report.received_at)
    statement = (select(Report.id.label("report_id"), func.min(AuditEntry.at).label("first_action"),
                        func.min(ReportFeedback.at).label("first_follow_up"),
                        func.min(Delivery.delivered_at).label("feedback_delivered"))
                 .outerjoin(AuditEntry, first_action)
                 .outerjoin(ReportFeedback, and_(ReportFeedback.report_id == Report.id,
                                                 ReportFeedback.kind == "follow_up"))
                 .outerjoin(Delivery, and_(Delivery.report_id == Report.id, Delivery.purpose == "feedback"))
                 .group_by(Report.id))
    if report_ids is not None:
        statement = statement.where(Report.id.in_(report_ids))
    return statement.subquery()


def insert_facts(dialect: str, report_ids: Sequence[int] | BindParameter[Any] | None = None) -> Insert:
    """INSERT ... SELECT of the facts of these reports (of every report with None)."""
    moments = _moments(report_ids)
    columns = (Report.id, _day_of(Report.received_at, dialect), Report.received_at, Report.group_id,
               Report.source_wijk_code, Report.region_id, Report.operation_id, CATEGORY, OFFENCE, URGENCY_DECIDED,
               PASSED, CALLED_112, Report.follow_up, Report.result,
               case((Report.appearance_only.is_(True), 1), else_=0), URGENCY_CHANGE,
               *[seconds_between(moments.c[name], Report.received_at, dialect)
                 for name in ("first_action", "first_follow_up", "feedback_delivered")])
    facts = (select(*[column.label(name) for column, name in zip(columns, FACT_COLUMNS, strict=True)])
             .join(moments, moments.c.report_id == Report.id).outerjoin(Incident, Incident.id == Report.incident_id))
    return ReportFact.__table__.insert().from_select(list(FACT_COLUMNS), facts)  # type: ignore[attr-defined]


@functools.cache
def _insert_facts_of_ids(dialect: str) -> Insert:
    """insert_facts of the reports `ids`, built once."""
    return insert_facts(dialect, bindparam("ids", expanding=True))


def _fixed_labels() -> dict[str, ColumnElement[bool] | None]:
    f = ReportFact
    passed, flagged = f.passed == 1, f.flagged == 1
    return {
        "reports": None, "passed": passed, "called_112": f.called_112 == 1, "taken_on": passed & (f.called_112 == 0),
        "with_follow_up": passed & f.follow_up.is_not(None) & (f.follow_up != NO_FOLLOW_UP),
        "flagged": flagged, "lifted": flagged & (f.urgency_change == "lifted"),
        "lowered": flagged & (f.urgency_change == "lowered"),
    }


def labelled_counts(conditions: Sequence[ColumnElement[bool]], keys: Sequence[Any],
                    only: Collection[str] | None = None) -> Select[Any]:
    """One row per value of `keys` and label: the facts matching `conditions` counted, as the UNION of one
    GROUP BY per label kind (the day counts, and an operation's reports, which the day counts do not keep).
    `only`: these labels without a code (no "category:..." and the like)."""
    f = ReportFact
    arms = []
    for label, condition in _fixed_labels().items():
        if only is not None and label not in only:
            continue
        where = [*conditions, *([condition] if condition is not None else [])]
        arms.append(select(*keys, literal_column(f"'{label}'", String).label("label"), func.count().label("n"))
                    .where(*where).group_by(*keys))
    for prefix, column in (("category", f.category), ("offence", f.offence), ("follow_up", f.follow_up),
                           ("result", f.result)):
        if only is not None:
            break
        labelled = literal_column(f"'{prefix}:'", String).concat(column)
        arms.append(select(*keys, labelled.label("label"), func.count().label("n"))
                    .where(*conditions, column.is_not(None)).group_by(*keys, column))
    return union_all(*arms)  # type: ignore[return-value]


def duration_counts(conditions: Sequence[ColumnElement[bool]], keys: Sequence[Any]) -> Select[Any]:
    """One row per value of `keys`, measure and bucket: the durations of the facts matching `conditions`."""
    f = ReportFact
    arms = []
    for measure in MEASURES:
        seconds = _table(f).c[f"{measure}_s"]
        bucket = _bucket_of(seconds)
        arms.append(select(*keys, literal_column(f"'{measure}'", String).label("measure"),
                           bucket.label("bucket"), func.count().label("n"))
                    .where(seconds.is_not(None), *conditions).group_by(*keys, bucket))
    return union_all(*arms)  # type: ignore[return-value]


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _insert_counted(model: Any, counted: Select[Any]) -> Insert:
    rows = counted.subquery()
    names = [column.name for column in rows.c]
    return _table(model).insert().from_select(names, select(*rows.c))


def insert_day_counts() -> Insert:
    """Every fact counted per day, group, wijk and label."""
    f = ReportFact
    return _insert_counted(DayCount, labelled_counts([], (f.day, f.group_id, f.wijk)))


def insert_day_durations() -> Insert:
    """Every fact's durations counted per day, wijk, measure and bucket."""
    return _insert_counted(DayDuration, duration_counts([], (ReportFact.day, ReportFact.wijk)))


def insert_month_durations(dialect: str) -> Insert:
    """The day durations summed per month."""
    month = _month_of(DayDuration.day, dialect)
    keys = (month, DayDuration.wijk, DayDuration.measure, DayDuration.bucket)
    summed = select(*keys, func.sum(DayDuration.n)).group_by(*keys)
    return _table(MonthDuration).insert().from_select(["month", "wijk", "measure", "bucket", "n"], summed)


def _month_of(day: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return cast(func.date_trunc("month", day), Date)
    return func.date(day, "start of month")


def insert_month_counts(dialect: str) -> Insert:
    """The day counts summed per month (its first day)."""
    month = _month_of(DayCount.day, dialect)
    keys = (month, DayCount.group_id, DayCount.wijk, DayCount.label)
    summed = select(*keys, func.sum(DayCount.n)).group_by(*keys)
    return _table(MonthCount).insert().from_select(["month", "group_id", "wijk", "label", "n"], summed)


def _week_of(day: Any, dialect: str) -> Any:
    """The Monday of the day's ISO week."""
    if dialect == "postgresql":
        return cast(func.date_trunc("week", day), Date)
    return func.date(day, "-6 days", "weekday 1")


def week_days(monday: date) -> tuple[date, date]:
    return monday, monday + timedelta(days=6)


def insert_week_counts(dialect: str) -> Insert:
    """The day counts of the weekly labels summed per ISO week (its Monday)."""
    week = _week_of(DayCount.day, dialect)
    keys = (week, DayCount.group_id, DayCount.wijk, DayCount.label)
    summed = select(*keys, func.sum(DayCount.n)).where(DayCount.label.in_(WEEK_LABELS)).group_by(*keys)
    return _table(WeekCount).insert().from_select(["week", "group_id", "wijk", "label", "n"], summed)


Counting = Callable[[Sequence[ColumnElement[bool]]], Select[Any]]


def _levels(dialect: str) -> tuple[tuple[Any, str, Counting], ...]:
    """Each count table, the column of its period, and how facts count into its rows (named like its columns)."""
    f = ReportFact
    week = _week_of(f.day, dialect).label("week")
    month = _month_of(f.day, dialect).label("month")
    return (
        (DayCount, "day", lambda where: labelled_counts(where, (f.day, f.group_id, f.wijk))),
        (WeekCount, "week", lambda where: labelled_counts(where, (week, f.group_id, f.wijk), only=WEEK_LABELS)),
        (MonthCount, "month", lambda where: labelled_counts(where, (month, f.group_id, f.wijk))),
        (DayDuration, "day", lambda where: duration_counts(where, (f.day, f.wijk))),
        (MonthDuration, "month", lambda where: duration_counts(where, (month, f.wijk))),
    )


@dataclass(frozen=True)
class _Moves:
    """The statements that move one count table's rows from the facts of the reports `ids` as they are, to
    the facts as they will be: `subtract` before the facts are computed again, `add` and `insert` after."""

    subtract: Update
    add: Update
    insert: Insert


@functools.cache
def _moves(dialect: str, nulls: bool) -> tuple[_Moves, ...]:
    """Built once (their SQL and cache keys cost more than a fold of one report takes in the database).
    `nulls`: some of the counted facts have no group or wijk. A subtracted row always exists: the rows are the
    sums of the facts (the rebuild and every fold keep them so), and these are facts it summed."""
    theirs = [ReportFact.report_id.in_(bindparam("ids", expanding=True))]
    moves = []
    for model, _, counting in _levels(dialect):
        table = _table(model)
        delta = counting(theirs).subquery("delta")
        keys = [column.name for column in delta.c if column.name != "n"]
        match = and_(*[_same(table.c[key], delta.c[key], nulls) for key in keys])
        moves.append(_Moves(subtract=update(table).where(match).values(n=table.c.n - delta.c.n),
                            add=update(table).where(match).values(n=table.c.n + delta.c.n),
                            insert=table.insert().from_select([*keys, "n"],
                                                              select(*delta.c).where(~exists().where(match)))))
    return tuple(moves)


@functools.cache
def _empty_rows(dialect: str) -> tuple[tuple[str, Delete], ...]:
    """Per count table its period column and the DELETE of its rows at zero in the periods `periods`."""
    statements = []
    for model, period, _ in _levels(dialect):
        table = _table(model)
        statements.append((period, delete(table).where(table.c[period].in_(bindparam("periods", expanding=True)),
                                                       table.c.n == 0)))
    return tuple(statements)


def _same(kept: Any, counted: Any, nulls: bool) -> ColumnElement[bool]:
    # NULL = NULL is not true; but IS NOT DISTINCT FROM is no index condition on PostgreSQL (a day's 1,100
    # duration rows filtered per counted row instead of the wijk's 110), so it is used only when needed.
    return kept.is_not_distinct_from(counted) if nulls and kept.nullable else kept == counted


async def _days_of(session: AsyncSession, report_ids: Sequence[int]) -> tuple[set[date], bool]:
    """The days of these reports' facts, and whether any of the facts has no group or wijk."""
    f = ReportFact
    rows = await session.execute(select(f.day, or_(f.group_id.is_(None), f.wijk.is_(None)))
                                 .where(f.report_id.in_(report_ids)).distinct())
    days = set()
    nulls = False
    for day, keyless in rows:
        days.add(day)
        nulls = nulls or bool(keyless)
    return days, nulls


async def _refold(session: AsyncSession, report_ids: Sequence[int], dialect: str) -> set[date]:
    """Computes these reports' facts again and moves their counts from the old facts to the new ones; returns
    the days whose rows changed. A report that no longer exists keeps its last fact."""
    existing = list(await session.scalars(select(Report.id).where(Report.id.in_(report_ids))))
    if not existing:
        return set()
    days, nulls = await _days_of(session, existing)
    for moves in _moves(dialect, nulls):
        await session.execute(moves.subtract, {"ids": existing})
    known = await _known_moments(session, existing)
    await session.execute(delete(ReportFact).where(ReportFact.report_id.in_(existing)))
    await session.execute(_insert_facts_of_ids(dialect), {"ids": existing})
    if known:
        await session.execute(_KEEP_MOMENTS, known)
    new_days, nulls = await _days_of(session, existing)
    for moves in _moves(dialect, nulls):
        await session.execute(moves.add, {"ids": existing})
        await session.execute(moves.insert, {"ids": existing})
    return days | new_days


_DURATIONS = tuple(f"{measure}_s" for measure in MEASURES)
# A step once taken stays taken: when the purge has removed the follow-up or delivery rows a duration was
# computed from, a later change of the report must not make its figures disappear.
_FACTS = _table(ReportFact)
_KEEP_MOMENTS = (update(_FACTS).where(_FACTS.c.report_id == bindparam("b_report"))
                 .values({name: func.coalesce(_FACTS.c[name], bindparam(f"b_{name}")) for name in _DURATIONS}))


async def _known_moments(session: AsyncSession, report_ids: Sequence[int]) -> list[dict[str, Any]]:
    columns = [_FACTS.c[name] for name in _DURATIONS]
    rows = await session.execute(select(ReportFact.report_id, *columns).where(
        ReportFact.report_id.in_(report_ids), or_(*[column.is_not(None) for column in columns])))
    return [{"b_report": row[0], **{f"b_{name}": value for name, value in zip(_DURATIONS, row[1:], strict=True)}}
            for row in rows]


async def _drop_empty(session: AsyncSession, days: Iterable[date], dialect: str) -> None:
    """Deletes the rows of these days (and their weeks and months) that the fold brought to zero: a rebuild
    would not write them."""
    periods = {"day": sorted(days)}
    periods["week"] = sorted({day - timedelta(days=day.weekday()) for day in periods["day"]})
    periods["month"] = sorted({day.replace(day=1) for day in periods["day"]})
    for period, statement in _empty_rows(dialect):
        for start in range(0, len(periods[period]), CHUNK):
            await session.execute(statement, {"periods": periods[period][start:start + CHUNK]})


async def _queued_reports(session: AsyncSession, last: int) -> list[int]:
    queued = FactChange.id <= last
    direct = select(FactChange.report_id).where(queued, FactChange.report_id.is_not(None))
    of_incidents = select(Report.id).join(FactChange, FactChange.incident_id == Report.incident_id).where(queued)
    ids = {report_id for report_id in await session.scalars(direct) if report_id is not None}
    return sorted(ids | set(await session.scalars(of_incidents)))


async def fold_changes(session: AsyncSession) -> int:
    """Brings the facts and their counts up to date with the queued changes, in the caller's transaction (the
    caller commits), and the alerts' facts (app.stats.alert_facts). Returns how many reports' facts were
    computed again.

    Incremental: each queued report's old fact is subtracted from the day, week and month rows and its new
    fact added, so a fold costs what its reports cost, not what their days hold. It moves the counts from the
    facts as they are to the facts as they now should be, so folding a report twice changes nothing; the
    facts, the counts and the emptied queue commit together or not at all. Two folds at once would both
    subtract the same old fact: on PostgreSQL an advisory lock makes the second wait (and its statements then
    see the first one's commit), on SQLite every transaction takes the write lock first (BEGIN IMMEDIATE)."""
    await fold_alerts(session)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FOLD_LOCK})
    last = await session.scalar(select(func.max(FactChange.id)))
    if last is None:
        return 0
    report_ids = await _queued_reports(session, last)
    days: set[date] = set()
    for start in range(0, len(report_ids), CHUNK):
        days |= await _refold(session, report_ids[start:start + CHUNK], dialect)
    await _drop_empty(session, days, dialect)
    await session.execute(delete(FactChange).where(FactChange.id <= last))
    return len(report_ids)


async def recount(session: AsyncSession) -> None:
    """Every count row from the facts as they are."""
    dialect = session.get_bind().dialect.name
    for model in (MonthCount, WeekCount, DayCount, MonthDuration, DayDuration):
        await session.execute(delete(model))
    await session.execute(insert_day_counts())
    await session.execute(insert_week_counts(dialect))
    await session.execute(insert_month_counts(dialect))
    await session.execute(insert_day_durations())
    await session.execute(insert_month_durations(dialect))


async def rebuild(session: AsyncSession) -> None:
    """Every fact and count from the source rows (the migration's backfill does the same)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FOLD_LOCK})
    for table in (FactChange, ReportFact):
        await session.execute(delete(table))
    await session.execute(insert_facts(dialect))
    await recount(session)
    await rebuild_alerts(session)
