"""The reports side of the evaluation (tables 3.1, 3.4 and 3.5 of the research report, and the
appearance-only share), counted by the database in one GROUP BY over the reports of the scope.

A report counts with the labels the meldkamer left it with: the operator's category, offence and urgency
where they set them on its incident, the engine's suggestion otherwise. The database returns one count per
combination of group, month and labels; the tables are sums of those counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from app.core.vocabulary import URGENCY
from app.incidents.models import Incident
from app.intake.models import Report
from app.stats.period import bucket_index
from app.stats.scope import Scope

POLICE_MATTER = ("P1", "P2", "P3")
NO_OFFENCE = "none"
UNKNOWN_RESULT = "onbekend"
NO_FOLLOW_UP = "geen_opvolging"


def in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    """The reports received in the period, forwarded by groups of the scope's wijken (and group)."""
    conditions = [Report.received_at >= scope.period.start, Report.received_at < scope.period.end]
    if scope.wijkcodes is not None:
        conditions.append(Report.source_wijk_code.in_(sorted(scope.wijkcodes)))
    if scope.group_id is not None:
        conditions.append(Report.group_id == scope.group_id)
    return conditions


def _set_by_operator(field: str) -> ColumnElement[bool]:
    # `overridden` is a JSON list of field names; its text is the portable way to ask for one member.
    return cast(Incident.overridden, String).like(f'%"{field}"%')


def _rank(column: Any) -> Any:
    return case({code: URGENCY.rank(code) for code in URGENCY}, value=column, else_=URGENCY.rank("none"))


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


@dataclass(frozen=True)
class Cell:
    """One combination of group, month and labels, with its number of reports."""

    group_id: int
    wijk: str
    month: int
    category: str
    offence: str
    passed: bool
    called_112: bool
    follow_up: str | None
    result: str | None
    appearance_only: bool
    urgency_change: str | None
    reports: int


async def report_cells(session: AsyncSession, scope: Scope) -> list[Cell]:
    months = scope.period.months()
    facts = (
        select(Report.group_id.label("group_id"), Report.source_wijk_code.label("wijk"),
               bucket_index(Report.received_at, months).label("month"), CATEGORY.label("category"),
               OFFENCE.label("offence"), PASSED.label("passed"), CALLED_112.label("called_112"),
               Report.follow_up.label("follow_up"), Report.result.label("result"),
               case((Report.appearance_only.is_(True), 1), else_=0).label("appearance_only"),
               URGENCY_CHANGE.label("urgency_change"))
        .outerjoin(Incident, Incident.id == Report.incident_id)
        .where(*in_scope(scope))
    ).subquery()
    dimensions = [facts.c[name] for name in ("group_id", "wijk", "month", "category", "offence", "passed",
                                             "called_112", "follow_up", "result", "appearance_only", "urgency_change")]
    rows = (await session.execute(select(*dimensions, func.count().label("reports")).group_by(*dimensions))).all()
    return [Cell(group_id=row.group_id, wijk=row.wijk, month=int(row.month), category=row.category,
                 offence=row.offence, passed=bool(row.passed), called_112=bool(row.called_112),
                 follow_up=row.follow_up, result=row.result, appearance_only=bool(row.appearance_only),
                 urgency_change=row.urgency_change, reports=int(row.reports)) for row in rows]


async def weekly(session: AsyncSession, scope: Scope) -> dict[int, dict[str, int]]:
    """Per ISO week (index into the period's weeks): reports, passed to the police, appearance-only."""
    facts = (select(bucket_index(Report.received_at, scope.period.weeks()).label("week"), PASSED.label("passed"),
                    case((Report.appearance_only.is_(True), 1), else_=0).label("flagged"))
             .outerjoin(Incident, Incident.id == Report.incident_id).where(*in_scope(scope))).subquery()
    rows = (await session.execute(
        select(facts.c.week, func.count(), func.sum(facts.c.passed), func.sum(facts.c.flagged))
        .group_by(facts.c.week))).all()
    return {int(week): {"reports": int(n), "passed": int(passed or 0), "appearance_only": int(flagged or 0)}
            for week, n, passed, flagged in rows}


# ---- the tables, summed from the cells -----------------------------------------------------------------


def count_by(cells: Iterable[Cell], attribute: str) -> dict[Any, int]:
    counts: Counter[Any] = Counter()
    for cell in cells:
        counts[getattr(cell, attribute)] += cell.reports
    return dict(counts)


def total(cells: Iterable[Cell]) -> int:
    return sum(cell.reports for cell in cells)


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def category_counts(cells: list[Cell]) -> dict[str, Any]:
    """Table 3.1's columns for a set of reports: how many, by category and by offence."""
    return {"total": total(cells), "categories": count_by(cells, "category"), "offences": count_by(cells, "offence")}


def follow_up_counts(cells: list[Cell]) -> dict[str, Any]:
    """Table 3.4's rows for a set of reports."""
    passed = [cell for cell in cells if cell.passed]
    passed_total = total(passed)
    with_follow_up = [cell for cell in passed if cell.follow_up not in (None, NO_FOLLOW_UP)]
    unknown = passed_total - total(with_follow_up)
    follow_ups = count_by((cell for cell in cells if cell.follow_up is not None), "follow_up")
    results = count_by((cell for cell in cells if cell.result is not None), "result")
    return {
        "reports": total(cells), "passed_to_police": passed_total,
        "called_112": total(cell for cell in cells if cell.called_112),
        "taken_on_by_meldkamer": total(cell for cell in passed if not cell.called_112),
        "with_follow_up": total(with_follow_up), "follow_ups": follow_ups, "results": results,
        "no_known_follow_up": unknown, "no_known_follow_up_share": share(unknown, passed_total),
    }


def appearance_counts(cells: list[Cell]) -> dict[str, Any]:
    reports, flagged = total(cells), [cell for cell in cells if cell.appearance_only]
    changes = count_by(flagged, "urgency_change")
    return {"reports": reports, "flagged": total(flagged), "share": share(total(flagged), reports),
            "lifted": changes.get("lifted", 0), "lowered": changes.get("lowered", 0)}
