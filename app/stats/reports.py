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
from sqlalchemy.sql.selectable import Subquery

from app.core.vocabulary import CATEGORY as CATEGORY_VOCABULARY
from app.core.vocabulary import FOLLOW_UP, RESULT, URGENCY
from app.incidents.models import Incident
from app.intake.models import Report
from app.stats.period import bucket_index
from app.stats.scope import Scope

POLICE_MATTER = ("P1", "P2", "P3")
NO_OFFENCE = "none"
NO_FOLLOW_UP = "geen_opvolging"
UNLISTED = "overig"  # the key for a label that is not in the vocabulary
CATEGORY_CODES = CATEGORY_VOCABULARY.codes


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
    """The reports of one group in one month (and the wijk they were forwarded from), counted by label:
    "reports", "category:<code>", "offence:<code>", "passed", "called_112", "taken_on", "with_follow_up",
    "follow_up:<code>", "result:<code>", "flagged", "lifted", "lowered"."""

    group_id: int
    wijk: str
    month: int
    counts: Counter[str]


def _count_if(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _facts(scope: Scope) -> Subquery:
    """One row per report of the scope with the labels it is counted by."""
    return (select(Report.group_id.label("group_id"), Report.source_wijk_code.label("wijk"),
                   bucket_index(Report.received_at, scope.period.months()).label("month"),
                   CATEGORY.label("category"), OFFENCE.label("offence"), PASSED.label("passed"),
                   CALLED_112.label("called_112"), Report.follow_up.label("follow_up"), Report.result.label("result"),
                   case((Report.appearance_only.is_(True), 1), else_=0).label("flagged"),
                   URGENCY_CHANGE.label("urgency_change"))
            .outerjoin(Incident, Incident.id == Report.incident_id).where(*in_scope(scope))).subquery()


def _counted(facts: Subquery, offences: Iterable[str]) -> dict[str, Any]:
    """Every count of a Cell as a conditional sum: one pass over the reports, one row per group and month."""
    f = facts.c
    passed, flagged = f.passed == 1, f.flagged == 1
    return {
        "reports": func.count(),
        **{f"category:{code}": _count_if(f.category == code) for code in CATEGORY_CODES},
        **{f"offence:{code}": _count_if(f.offence == code) for code in (*offences, NO_OFFENCE)},
        "passed": func.sum(f.passed), "called_112": func.sum(f.called_112),
        "taken_on": _count_if(passed & (f.called_112 == 0)),
        "with_follow_up": _count_if(passed & f.follow_up.is_not(None) & (f.follow_up != NO_FOLLOW_UP)),
        **{f"follow_up:{code}": _count_if(f.follow_up == code) for code in FOLLOW_UP},
        **{f"result:{code}": _count_if(f.result == code) for code in RESULT},
        "flagged": func.sum(f.flagged),
        "lifted": _count_if(flagged & (f.urgency_change == "lifted")),
        "lowered": _count_if(flagged & (f.urgency_change == "lowered")),
    }


async def report_cells(session: AsyncSession, scope: Scope, offences: Iterable[str]) -> list[Cell]:
    facts = _facts(scope)
    counted = _counted(facts, offences)
    keys = (facts.c.group_id, facts.c.wijk, facts.c.month)
    statement = select(*keys, *[expression.label(f"c{index}") for index, expression in enumerate(counted.values())])
    cells = []
    for row in (await session.execute(statement.group_by(*keys))).all():
        counts = Counter({name: int(row[3 + index] or 0) for index, name in enumerate(counted)})
        _add_unlisted(counts, "category")
        _add_unlisted(counts, "offence")
        cells.append(Cell(group_id=row.group_id, wijk=row.wijk, month=int(row.month), counts=+counts))
    return cells


def _add_unlisted(counts: Counter[str], prefix: str) -> None:
    """Reports whose label is no code of the vocabulary (an offence the lexicon no longer has) still count."""
    listed = sum(n for name, n in counts.items() if name.startswith(f"{prefix}:"))
    if counts["reports"] > listed:
        counts[f"{prefix}:{UNLISTED}"] = counts["reports"] - listed


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


def summed(cells: Iterable[Cell]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for cell in cells:
        counts.update(cell.counts)
    return counts


def _by_prefix(counts: Counter[str], prefix: str) -> dict[str, int]:
    return {name.split(":", 1)[1]: n for name, n in counts.items() if name.startswith(f"{prefix}:") and n}


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def category_counts(cells: Iterable[Cell]) -> dict[str, Any]:
    """Table 3.1's columns for a set of reports: how many, by category and by offence."""
    counts = summed(cells)
    return {"total": counts["reports"], "categories": _by_prefix(counts, "category"),
            "offences": _by_prefix(counts, "offence")}


def follow_up_counts(cells: Iterable[Cell]) -> dict[str, Any]:
    """Table 3.4's rows for a set of reports."""
    counts = summed(cells)
    passed, unknown = counts["passed"], counts["passed"] - counts["with_follow_up"]
    return {
        "reports": counts["reports"], "passed_to_police": passed, "called_112": counts["called_112"],
        "taken_on_by_meldkamer": counts["taken_on"], "with_follow_up": counts["with_follow_up"],
        "follow_ups": _by_prefix(counts, "follow_up"), "results": _by_prefix(counts, "result"),
        "no_known_follow_up": unknown, "no_known_follow_up_share": share(unknown, passed),
    }


def appearance_counts(cells: Iterable[Cell]) -> dict[str, Any]:
    counts = summed(cells)
    return {"reports": counts["reports"], "flagged": counts["flagged"], "share": share(counts["flagged"],
                                                                                         counts["reports"]),
            "lifted": counts["lifted"], "lowered": counts["lowered"]}
