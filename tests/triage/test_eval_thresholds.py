"""Fails when the engine's scores on the labelled dev set drop below the agreed floors."""

from __future__ import annotations

from app.triage.evaluation import evaluate, format_report, read_items
from app.triage.knowledge import KnowledgeBase
from tests.triage.helpers import DATA

FLOORS = {"urgency": 0.85, "category": 0.80, "wijk": 0.90}
APPEARANCE_F1_FLOOR = 0.85


def test_dev_set_scores_stay_above_the_floors(kb: KnowledgeBase) -> None:
    items = read_items(DATA / "triage-dev.jsonl")
    _, scores = evaluate(items, kb)
    assert scores.n == 40
    report = format_report(scores)
    for field, floor in FLOORS.items():
        assert scores.accuracy(field) >= floor, f"{field} below {floor}\n{report}"
    assert scores.appearance_f1 >= APPEARANCE_F1_FLOOR, report


def test_no_p1_scored_p3_or_none_on_the_dev_set(kb: KnowledgeBase) -> None:
    _, scores = evaluate(read_items(DATA / "triage-dev.jsonl"), kb)
    assert scores.confusion["P1"]["P3"] + scores.confusion["P1"]["none"] == 0, format_report(scores)
