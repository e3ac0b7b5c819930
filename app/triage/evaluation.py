"""Scoring the triage engine on a labelled JSONL file (the format of tests/data/triage-dev.jsonl)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from app.triage.engine import LABEL_FIELDS, UNRECOGNISED, URGENCIES, ReportFacts, TriageResult, triage
from app.triage.knowledge import KnowledgeBase, default_config_dir, load_knowledge_base_from_dir


@dataclass(frozen=True)
class EvalItem:
    id: str
    report: ReportFacts
    labels: Mapping[str, Any] | None
    incident: str | None = None


@dataclass
class EvalScores:
    n: int = 0
    correct: dict[str, int] = field(default_factory=lambda: {f: 0 for f in LABEL_FIELDS})
    confusion: dict[str, dict[str, int]] = field(
        default_factory=lambda: {g: {p: 0 for p in URGENCIES} for g in URGENCIES})
    appearance_tp: int = 0
    appearance_fp: int = 0
    appearance_fn: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    scored: int = 0  # every report triaged, with or without labels
    unrecognised: int = 0  # reports the engine marked "niet herkend"

    @property
    def p1_scored_low(self) -> int:
        """Reports labelled P1 that the engine scored P3 or none: the failures that matter most."""
        return self.confusion["P1"]["P3"] + self.confusion["P1"]["none"]

    @property
    def unrecognised_share(self) -> float:
        return self.unrecognised / self.scored if self.scored else 0.0

    def accuracy(self, name: str) -> float:
        return self.correct[name] / self.n if self.n else 0.0

    @property
    def appearance_precision(self) -> float:
        predicted = self.appearance_tp + self.appearance_fp
        return self.appearance_tp / predicted if predicted else 1.0

    @property
    def appearance_recall(self) -> float:
        actual = self.appearance_tp + self.appearance_fn
        return self.appearance_tp / actual if actual else 1.0

    @property
    def appearance_f1(self) -> float:
        p, r = self.appearance_precision, self.appearance_recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": {f: round(self.accuracy(f), 4) for f in LABEL_FIELDS},
            "urgency_confusion": {"rows": "gold", "cols": "predicted", "labels": list(URGENCIES),
                                  "matrix": self.confusion},
            "appearance_only": {
                "precision": round(self.appearance_precision, 4), "recall": round(self.appearance_recall, 4),
                "f1": round(self.appearance_f1, 4),
                "tp": self.appearance_tp, "fp": self.appearance_fp, "fn": self.appearance_fn,
            },
            "p1_scored_p3_or_none": self.p1_scored_low,
            "unrecognised": {"count": self.unrecognised, "of": self.scored,
                             "share": round(self.unrecognised_share, 4)},
            "errors": self.errors,
        }


def parse_item(raw: Mapping[str, Any], line: int = 0) -> EvalItem:
    received = datetime.fromisoformat(str(raw["received_at"]))
    if received.tzinfo is None:
        raise ValueError(f"line {line}: received_at needs a UTC offset")
    lat, lon = raw.get("lat"), raw.get("lon")
    report = ReportFacts(
        text=str(raw.get("text") or ""), received_at=received, source_wijk=raw.get("source_wijk"),
        lat=float(lat) if lat is not None else None, lon=float(lon) if lon is not None else None,
        street=raw.get("street"), house_number=raw.get("house_number"), place=raw.get("place"),
    )
    labels = raw.get("labels")
    gold = labels if isinstance(labels, Mapping) else None
    return EvalItem(str(raw.get("id") or f"line-{line}"), report, gold, raw.get("incident"))


def read_items(path: Path) -> list[EvalItem]:
    items = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                items.append(parse_item(json.loads(line), number))
    return items


def score(items: Sequence[EvalItem], results: Sequence[TriageResult]) -> EvalScores:
    scores = EvalScores()
    for item, result in zip(items, results, strict=True):
        scores.scored += 1
        scores.unrecognised += any(r.code == UNRECOGNISED for r in result.reasons)
        gold = item.labels
        if gold is None:
            continue
        predicted = result.labels()
        scores.n += 1
        wrong = {}
        for name in LABEL_FIELDS:
            if predicted[name] == gold.get(name):
                scores.correct[name] += 1
            else:
                wrong[name] = {"gold": gold.get(name), "predicted": predicted[name]}
        g, p = str(gold.get("urgency")), predicted["urgency"]
        if g in scores.confusion and p in scores.confusion[g]:
            scores.confusion[g][p] += 1
        gold_app, pred_app = bool(gold.get("appearance_only")), bool(predicted["appearance_only"])
        scores.appearance_tp += gold_app and pred_app
        scores.appearance_fp += pred_app and not gold_app
        scores.appearance_fn += gold_app and not pred_app
        if wrong:
            scores.errors.append({"id": item.id, "wrong": wrong})
    return scores


def evaluate(items: Sequence[EvalItem], kb: KnowledgeBase) -> tuple[list[TriageResult], EvalScores]:
    results = [triage(item.report, kb) for item in items]
    return results, score(items, results)


def prediction_line(item: EvalItem, result: TriageResult) -> dict[str, Any]:
    return {"id": item.id, "labels": result.labels(), "reasons": [r.as_dict() for r in result.reasons]}


def format_report(scores: EvalScores) -> str:
    lines = [f"items with labels: {scores.n}", "", "accuracy per field:"]
    lines += [f"  {name:<16} {scores.accuracy(name):6.3f}  ({scores.correct[name]}/{scores.n})"
              for name in LABEL_FIELDS]
    lines += ["", "urgency confusion (rows gold, cols predicted):", "  gold\\pred " + "".join(
        f"{u:>6}" for u in URGENCIES)]
    lines += [f"  {g:<9} " + "".join(f"{scores.confusion[g][p]:>6}" for p in URGENCIES) for g in URGENCIES]
    lines += ["", f"appearance_only: precision {scores.appearance_precision:.3f} "
                  f"recall {scores.appearance_recall:.3f} F1 {scores.appearance_f1:.3f} "
                  f"(tp {scores.appearance_tp}, fp {scores.appearance_fp}, fn {scores.appearance_fn})"]
    lines += [f"P1 scored P3 or none: {scores.p1_scored_low}",
              f"unrecognised (niet herkend): {scores.unrecognised}/{scores.scored} "
              f"({scores.unrecognised_share:.1%})"]
    if scores.errors:
        lines += ["", "disagreements:"]
        for err in scores.errors:
            lines.append(f"  {err['id']}: " + "; ".join(
                f"{k} {v['gold']!r}->{v['predicted']!r}" for k, v in err["wrong"].items()))
    return "\n".join(lines)


def write_predictions(path: Path, items: Iterable[EvalItem], results: Iterable[TriageResult]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for item, result in zip(items, results, strict=True):
            handle.write(json.dumps(prediction_line(item, result), ensure_ascii=False) + "\n")


def run_eval(file: Path, predictions_out: Path | None, as_json: bool, kb: KnowledgeBase | None = None,
             out: TextIO | None = None) -> int:
    """`meldkamer eval-triage FILE.jsonl [--predictions OUT.jsonl] [--json]`; returns the exit code."""
    stream = out or sys.stdout
    try:
        items = read_items(Path(file))
    except (OSError, ValueError, KeyError) as exc:
        print(f"cannot read {file}: {exc}", file=sys.stderr)
        return 2
    knowledge = kb or load_knowledge_base_from_dir(default_config_dir())
    results, scores = evaluate(items, knowledge)
    if predictions_out is not None:
        write_predictions(Path(predictions_out), items, results)
    if as_json:
        stream.write(json.dumps(scores.as_dict(), ensure_ascii=False) + "\n")
    else:
        stream.write(format_report(scores) + "\n")
    return 0
