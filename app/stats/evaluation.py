"""GET /api/v1/stats: the pilot's evaluation for a period and an area, in the shapes of the research report's
tables (3.1 reports by kind, 3.4 follow-up, 3.5 reports per month), with the times, the alerts and the
appearance-only share. Every count comes from the database (app.stats.reports, times, alerts)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.vocabulary import CATEGORY, FOLLOW_UP, RESULT, Vocabulary
from app.registry.models import Gemeente, Group, Wijk
from app.stats.alerts import alerts
from app.stats.facts import NO_OFFENCE, fold_changes
from app.stats.reports import (
    NO_COUNTS,
    LabelCounts,
    Sums,
    appearance_counts,
    category_counts,
    follow_up_counts,
    report_sums,
    weekly,
)
from app.stats.scope import Scope
from app.stats.times import HUMAN_RELAY_SECONDS, times
from app.stats.wijkmap import with_households

DEFINITIONS = {
    "reports_by_category": "Meldingen per groep per maand naar soort (tabel 3.1) en delict; per wijk en gemeente. "
                           "Telt de soort en het delict zoals de centralist ze vastlegde, anders die van de triage.",
    "follow_up": "Doorgegeven aan de politie: de melder belde 112 of de meldkamer nam de melding op als politietaak "
                 "(urgentie P1, P2 of P3). Opvolging en resultaat per soort (tabel 3.4); zonder bekende opvolging: "
                 "doorgegeven, maar geen opvolging of 'geen opvolging' vastgelegd.",
    "per_month": "Meldingen per groep per maand, en het gemiddelde aantal doorgegeven meldingen per maand "
                 "(tabel 3.5).",
    "times": f"Van ontvangst tot de eerste handeling van een centralist, tot de eerste vastgelegde opvolging en tot "
             f"de afgeleverde terugkoppeling aan de beheerder: mediaan en 90e percentiel, naast het "
             f"menselijk doorgeven binnen {HUMAN_RELAY_SECONDS // 60} minuten (par. 3.6).",
    "alerts": "Alarmen aan beheerders: ontvangers, afgeleverd, gelezen, doorgestuurd naar de groep, mislukt, de tijd "
              "tot 90% afgeleverd, per wijk; dekking: het deel van de groepen van een wijk waarvan een beheerder het "
              "alarm doorstuurde.",
    "appearance_only": "Meldingen die alleen uiterlijk of afkomst noemen en geen gedrag (par. 4.3.1), per wijk en "
                       "per maand; verhoogd of verlaagd: de centralist zette de urgentie boven of onder de triage.",
}


@dataclass(frozen=True)
class Place:
    name: str
    wijkcode: str
    wijk: str
    gemeentecode: str
    gemeente: str


async def _groups(session: AsyncSession, ids: Iterable[int]) -> dict[int, Place]:
    rows = await session.execute(
        select(Group.id, Group.name, Wijk.code, Wijk.name, Gemeente.code, Gemeente.name)
        .join(Wijk, Wijk.id == Group.wijk_id).join(Gemeente, Gemeente.id == Wijk.gemeente_id)
        .where(Group.id.in_(sorted(set(ids)))))
    return {row[0]: Place(*row[1:]) for row in rows}


async def _wijken(session: AsyncSession, codes: Iterable[str]) -> dict[str, Place]:
    rows = await session.execute(
        select(Wijk.code, Wijk.name, Gemeente.code, Gemeente.name).join(Gemeente, Gemeente.id == Wijk.gemeente_id)
        .where(Wijk.code.in_(sorted(set(codes)))))
    return {code: Place(name, code, name, gemeente_code, gemeente) for code, name, gemeente_code, gemeente in rows}


def _group_fields(group_id: int, place: Place | None) -> dict[str, Any]:
    if place is None:
        return {"group_id": group_id, "group": f"groep {group_id}", "wijkcode": None, "gemeentecode": None}
    return {"group_id": group_id, "group": place.name, "wijkcode": place.wijkcode, "gemeentecode": place.gemeentecode}


def _wijk_fields(code: str, place: Place | None) -> dict[str, Any]:
    return {"wijkcode": code, "wijk": place.wijk if place else code,
            "gemeentecode": place.gemeentecode if place else None}


def _group_order(sums: Sums, groups: dict[int, Place]) -> list[int]:
    return sorted(sums.group, key=lambda group_id: (groups[group_id].name if group_id in groups else "", group_id))


def reports_by_category(sums: Sums, months: list[str], groups: dict[int, Place],
                        wijken: dict[str, Place]) -> dict[str, Any]:
    order = _group_order(sums, groups)
    per_group = [
        {**_group_fields(group_id, groups.get(group_id)), "month": months[month], **category_counts(counts)}
        for group_id in order
        for (group, month), counts in sorted(sums.group_month.items()) if group == group_id]
    per_wijk = [{**_wijk_fields(code, wijken.get(code)), **category_counts(counts)}
                for code, counts in sorted(sums.wijk.items())]
    per_gemeente = [
        {"gemeentecode": code, "gemeente": next((p.gemeente for p in wijken.values() if p.gemeentecode == code), code),
         **category_counts(counts)}
        for code, counts in sorted(sums.gemeente.items())]
    per_month = [{"month": label, **category_counts(sums.month.get(index, NO_COUNTS))}
                 for index, label in enumerate(months)]
    per_group_total = [{**_group_fields(group_id, groups.get(group_id)), **category_counts(sums.group[group_id])}
                       for group_id in order]
    return {**category_counts(sums.total), "per_group": per_group, "per_group_total": per_group_total,
            "per_month": per_month, "per_wijk": per_wijk, "per_gemeente": per_gemeente}


def follow_up(sums: Sums, groups: dict[int, Place]) -> dict[str, Any]:
    return {**follow_up_counts(sums.total),
            "per_group": [{**_group_fields(group_id, groups.get(group_id)), **follow_up_counts(sums.group[group_id])}
                          for group_id in _group_order(sums, groups)]}


def _monthly(per_month_counts: Mapping[int, Counter[str]], months: list[str],
             month_equivalents: float) -> dict[str, Any]:
    empty: Counter[str] = Counter()
    reports = {label: per_month_counts.get(index, empty)["reports"] for index, label in enumerate(months)}
    passed = {label: per_month_counts.get(index, empty)["passed"] for index, label in enumerate(months)}
    passed_total = sum(passed.values())
    return {"reports": reports, "passed": passed, "total": sum(reports.values()), "passed_total": passed_total,
            "passed_per_month": round(passed_total / month_equivalents, 2)}


def per_month(sums: Sums, months: list[str], month_equivalents: float, groups: dict[int, Place]) -> dict[str, Any]:
    def of_group(group_id: int) -> dict[int, LabelCounts]:
        return {month: counts for (group, month), counts in sums.group_month.items() if group == group_id}

    return {"months": months, "month_equivalents": round(month_equivalents, 2),
            **_monthly(sums.month, months, month_equivalents),
            "per_group": [{**_group_fields(group_id, groups.get(group_id)),
                           **_monthly(of_group(group_id), months, month_equivalents)}
                          for group_id in _group_order(sums, groups)]}


def appearance_only(sums: Sums, months: list[str], wijken: dict[str, Place]) -> dict[str, Any]:
    return {**appearance_counts(sums.total),
            "per_wijk": [{**_wijk_fields(code, wijken.get(code)), **appearance_counts(counts)}
                         for code, counts in sorted(sums.wijk.items())],
            "per_month": [{"month": label, **appearance_counts(sums.month.get(index, NO_COUNTS))}
                          for index, label in enumerate(months)]}


def _labels(vocabulary: Vocabulary) -> list[dict[str, str]]:
    return vocabulary.as_json()


async def evaluation(session: AsyncSession, scope: Scope, offences: Vocabulary) -> dict[str, Any]:
    await fold_changes(session)
    await session.commit()
    if session.get_bind().dialect.name == "postgresql":
        # The sorts over a year's durations make PostgreSQL's cost estimates large enough to compile the plans
        # (JIT), which takes longer than running them (bench/bench_stats.py): not for these queries.
        await session.execute(text("SET LOCAL jit = off"))
        # The statements are prepared (asyncpg); after five runs PostgreSQL may keep a generic plan that ignores
        # the period and area bound this time, which made a year of one wijk take 7-12 s instead of 0.2 s
        # (bench/bench_stats.py): plan each for its own values.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    sums = await report_sums(session, scope, offences.codes)
    months = [bucket.label for bucket in scope.period.months()]
    groups = await _groups(session, sums.group)
    wijken = await _wijken(session, sums.wijk)
    weeks = scope.period.weeks()
    week_counts = await weekly(session, scope)
    empty_week = {"reports": 0, "passed": 0, "appearance_only": 0}
    return {
        "period": scope.period.as_json(),
        "filters": scope.area.as_json(),
        "labels": {"categories": _labels(CATEGORY),
                   "offences": [*_labels(offences), {"code": NO_OFFENCE, "label": "Geen delict"}],
                   "follow_ups": _labels(FOLLOW_UP), "results": _labels(RESULT)},
        "definitions": DEFINITIONS,
        "reports_by_category": await with_households(session, reports_by_category(sums, months, groups, wijken)),
        "follow_up": follow_up(sums, groups),
        "per_month": per_month(sums, months, scope.period.month_equivalents, groups),
        "per_week": [{"week": bucket.label, "from": bucket.first_day.isoformat(), "to": bucket.last_day.isoformat(),
                      **week_counts.get(index, empty_week)} for index, bucket in enumerate(weeks)],
        "times": await times(session, scope, sums.total["reports"]),
        "alerts": await alerts(session, scope),
        "appearance_only": appearance_only(sums, months, wijken),
    }

