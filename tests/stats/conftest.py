"""A scripted history for the evaluation: four groups in three wijken of two gemeenten, reports over the
first quarter of 2026 (a DST change included, and reports around midnight at month ends), and alerts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI

from tests.support import builders
from tests.support.builders import ScriptedAlert, ScriptedDelivery, ScriptedReport

WESTWIJK, BOVENKERK, LASTAGE = "WK036204", "WK036206", "WK036302"
CATEGORIES = ["signalement", "delict", "verdachte_situatie", "informatie", "overig", "vermissing"]
OFFENCES = {"signalement": ["autokraak", "woninginbraak", None], "delict": ["autokraak", "fietsdiefstal", "vernieling"],
            "verdachte_situatie": ["woninginbraak", None], "informatie": [None, "oplichting"], "overig": [None],
            "vermissing": [None]}
URGENCY_OF = {"signalement": "P2", "delict": "P2", "verdachte_situatie": "P3", "informatie": "P3", "overig": "none",
              "vermissing": "P1"}
FOLLOW_UPS = ["ter_plaatse", "surveillance", "doorgezet_gemeente", "actie_wijkagent", "geen_opvolging"]
RESULTS = ["aanhouding", "geen_verdachte_situatie", "onbekend"]


@dataclass
class World:
    groups: dict[str, int]  # name -> id
    group_wijk: dict[int, str]
    beheerder_groups: dict[int, list[int]]
    beheerders: dict[str, int]
    reports: list[ScriptedReport]
    alerts: list[ScriptedAlert]
    analyst: builders.StaffAccount
    wijkagent: builders.StaffAccount
    operator: builders.StaffAccount


def _minutes(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(seconds=rng.randint(low * 60, high * 60))


def _report(rng: random.Random, group: int, beheerder: int, wijk: str, at: datetime) -> ScriptedReport:
    category = rng.choice(CATEGORIES)
    urgency = URGENCY_OF[category]
    operator: dict[str, str] = {}
    if rng.random() < 0.25:
        operator["urgency"] = rng.choice(["P1", "P2", "P3", "none"])
    if rng.random() < 0.15:
        operator["category"] = rng.choice(CATEGORIES)
    if rng.random() < 0.1:
        operator["offence"] = "drugshandel"
    follow_up = rng.choice(FOLLOW_UPS) if rng.random() < 0.6 else None
    return ScriptedReport(
        group_id=group, beheerder_id=beheerder, wijkcode=wijk, received_at=at, category=category,
        offence=rng.choice(OFFENCES[category]), urgency=urgency, called_112=rng.random() < 0.2,
        appearance_only=rng.random() < 0.15, operator=operator, follow_up=follow_up,
        result=rng.choice(RESULTS) if follow_up and rng.random() < 0.5 else None,
        first_action_after=_minutes(rng, 0, 30) if rng.random() < 0.8 else None,
        follow_up_after=_minutes(rng, 2, 90) if follow_up else None,
        feedback_delivered_after=_minutes(rng, 3, 120) if follow_up and rng.random() < 0.8 else None)


def _reports(rng: random.Random, places: list[tuple[int, int, str]]) -> list[ScriptedReport]:
    start = datetime(2026, 1, 1, 8, tzinfo=UTC)
    reports = [_report(rng, *rng.choice(places), start + timedelta(seconds=rng.randint(0, 89 * 86400)))
               for _ in range(80)]
    # Around Amsterdam midnights: the first of January (in the period), the first of February (CET) and
    # the first of April (CEST, after the period); and one the day before the period.
    edges = [datetime(2025, 12, 31, 23, 30, tzinfo=UTC), datetime(2026, 1, 31, 23, 30, tzinfo=UTC),
             datetime(2026, 3, 31, 22, 30, tzinfo=UTC), datetime(2025, 12, 31, 22, 59, 59, tzinfo=UTC),
             datetime(2026, 3, 29, 1, 30, tzinfo=UTC)]
    reports += [_report(rng, *places[index % len(places)], at) for index, at in enumerate(edges)]
    return reports


def _alerts(rng: random.Random, beheerders: dict[str, int]) -> list[ScriptedAlert]:
    def delivery(beheerder: int) -> ScriptedDelivery:
        if rng.random() < 0.1:
            return ScriptedDelivery(beheerder, failed=True)
        delivered = _minutes(rng, 0, 4) if rng.random() < 0.9 else None
        read = delivered + _minutes(rng, 0, 5) if delivered and rng.random() < 0.7 else None
        return ScriptedDelivery(beheerder, delivered_after=delivered, read_after=read,
                                forwarded_after=_minutes(rng, 5, 20) if delivered and rng.random() < 0.6 else None)

    alerts = []
    for day in (5, 20, 40, 70, 95):  # the last one falls after the period
        created = datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(days=day)
        deliveries = [delivery(b) for b in beheerders.values()]
        deliveries.append(ScriptedDelivery(beheerders["super"], failed=True, superseded=True))
        alerts.append(ScriptedAlert(created, (WESTWIJK, BOVENKERK, LASTAGE), tuple(deliveries)))
    return alerts


@pytest.fixture
async def history(app: FastAPI) -> World:
    groups = {"west-1": (await builders.group(app, wijkcode=WESTWIJK, name="Westwijk Een")).id,
              "west-2": (await builders.group(app, wijkcode=WESTWIJK, name="Westwijk Twee")).id,
              "bovenkerk": (await builders.group(app, wijkcode=BOVENKERK, name="Bovenkerk")).id,
              "lastage": (await builders.group(app, wijkcode=LASTAGE, name="Lastage")).id}
    memberships = {"west-1": ["west-1"], "west-2": ["west-2"], "bovenkerk": ["bovenkerk"], "lastage": ["lastage"],
                   "super": ["west-1", "west-2", "bovenkerk"], "second-lastage": ["lastage"]}
    beheerders: dict[str, int] = {}
    for name, group_names in memberships.items():
        account = await builders.beheerder(app, group_ids=[groups[g] for g in group_names])
        beheerders[name] = account.id
    group_wijk = {groups["west-1"]: WESTWIJK, groups["west-2"]: WESTWIJK, groups["bovenkerk"]: BOVENKERK,
                  groups["lastage"]: LASTAGE}
    places = [(groups[g], beheerders[g], group_wijk[groups[g]]) for g in ("west-1", "west-2", "bovenkerk", "lastage")]
    places.append((groups["bovenkerk"], beheerders["super"], BOVENKERK))
    rng = random.Random(15)
    operator = await builders.staff(app, "operator")
    world = World(groups=groups, group_wijk=group_wijk,
                  beheerder_groups={beheerders[name]: [groups[g] for g in gs] for name, gs in memberships.items()},
                  beheerders=beheerders, reports=_reports(rng, places), alerts=_alerts(rng, beheerders),
                  analyst=await builders.staff(app, "analyst"),
                  wijkagent=await builders.staff(app, "wijkagent", wijkcodes=[WESTWIJK, BOVENKERK]),
                  operator=operator)
    await builders.scripted_history(app, world.reports, world.alerts, operator_id=operator.id)
    return world
