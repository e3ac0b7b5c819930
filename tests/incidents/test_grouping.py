"""Incident grouping: several groups reporting one event join one incident."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from app.incidents.grouping import IncidentCandidate, find_incident, highest_urgency
from app.triage.engine import triage
from app.triage.evaluation import parse_item
from app.triage.knowledge import KnowledgeBase, load_knowledge_base_from_dir
from tests.triage.helpers import CONFIG, DATA


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base_from_dir(CONFIG)


def _candidate(item_id: str, kb: KnowledgeBase) -> IncidentCandidate:
    raw = next(json.loads(line) for line in (DATA / "triage-dev.jsonl").read_text().splitlines()
               if json.loads(line)["id"] == item_id)
    item = parse_item(raw)
    r = triage(item.report, kb)
    return IncidentCandidate(item.id, item.report.received_at, r.location.lat, r.location.lon, r.wijk,
                             r.category, r.offence, r.urgency)


def test_three_reports_from_three_groups_join_one_incident(kb: KnowledgeBase) -> None:
    # dev-016 (K-buurt group), dev-018 (K-buurt group, other member), dev-017 (D-buurt group): incident D-1
    first, second, third = (_candidate(i, kb) for i in ("dev-016", "dev-018", "dev-017"))
    assert find_incident(first, []) is None
    assert find_incident(second, [first]) == "dev-016"
    assert find_incident(third, [first]) == "dev-016"
    assert highest_urgency([first.urgency, second.urgency, third.urgency]) == "P1"


def test_unrelated_reports_do_not_join(kb: KnowledgeBase) -> None:
    burglary = _candidate("dev-016", kb)
    vandalism_next_day = _candidate("dev-031", kb)
    assert find_incident(vandalism_next_day, [burglary]) is None


def _c(ident: str, minutes: float = 0, lat: float | None = 52.0, lon: float | None = 5.0, wijk: str = "W1",
       offence: str | None = "autokraak", category: str = "delict", urgency: str = "P2") -> IncidentCandidate:
    at = datetime.fromisoformat("2026-11-10T23:00:00+01:00") + timedelta(minutes=minutes)
    return IncidentCandidate(ident, at, lat, lon, wijk, category, offence, urgency)


def test_time_space_and_content_limits() -> None:
    base = _c("a")
    assert find_incident(_c("b", minutes=20), [base]) == "a"
    assert find_incident(_c("b", minutes=45), [base]) is None
    assert find_incident(_c("b", minutes=45), [base], max_minutes=60) == "a"
    assert find_incident(_c("b", lat=52.01), [base]) is None                 # ~1.1 km away
    assert find_incident(_c("b", offence="woninginbraak"), [base]) is None   # other offence
    assert find_incident(_c("b", offence=None), [base]) == "a"               # unknown offence joins
    assert find_incident(_c("b", category="overig", urgency="none"), [base]) is None  # noise never joins
    assert find_incident(_c("b", lat=None, lon=None), [base]) == "a"         # same wijk, no point
    assert find_incident(_c("b", lat=None, lon=None, wijk="W2"), [base]) is None


def test_closest_incident_wins() -> None:
    near = _c("near", lat=52.0005)
    far = _c("far", lat=52.003)
    assert find_incident(_c("new"), [far, near]) == "near"


def test_highest_urgency() -> None:
    assert highest_urgency(["P3", "none", "P2"]) == "P2"
    assert highest_urgency([]) == "none"
