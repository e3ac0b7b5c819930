"""The eval runner: predictions file, JSON output, labels optional."""

from __future__ import annotations

import io
import json
from pathlib import Path

from app.triage.evaluation import run_eval
from app.triage.knowledge import KnowledgeBase
from tests.triage.helpers import DATA


def test_run_eval_writes_predictions_and_json(tmp_path: Path, kb: KnowledgeBase) -> None:
    out = tmp_path / "pred.jsonl"
    buffer = io.StringIO()
    assert run_eval(DATA / "triage-dev.jsonl", out, True, kb=kb, out=buffer) == 0
    report = json.loads(buffer.getvalue())
    assert report["n"] == 40
    assert set(report["accuracy"]) == {"urgency", "category", "offence", "in_progress", "called_112",
                                       "appearance_only", "wijk"}
    assert set(report["urgency_confusion"]["matrix"]) == {"P1", "P2", "P3", "none"}
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 40
    assert set(lines[0]) == {"id", "labels", "reasons"}
    assert set(lines[0]["labels"]) == set(report["accuracy"])
    assert all({"code", "text"} == set(reason) for reason in lines[0]["reasons"])


def test_run_eval_text_report_and_unlabelled_items(tmp_path: Path, kb: KnowledgeBase) -> None:
    source = tmp_path / "unlabelled.jsonl"
    source.write_text(json.dumps({"id": "x", "received_at": "2026-11-10T23:05:00+01:00",
                                  "source_wijk": "WK036302", "text": "politie onderweg"}) + "\n")
    buffer = io.StringIO()
    out = tmp_path / "pred.jsonl"
    assert run_eval(source, out, False, kb=kb, out=buffer) == 0
    assert "items with labels: 0" in buffer.getvalue()
    assert json.loads(out.read_text())["labels"]["urgency"] == "none"


def test_run_eval_missing_file(tmp_path: Path, kb: KnowledgeBase) -> None:
    assert run_eval(tmp_path / "nope.jsonl", None, False, kb=kb) == 2
