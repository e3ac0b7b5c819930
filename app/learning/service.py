"""Recording the operators' decisions as labelled examples, exporting them for `eval-triage`, and the
agreement between the engine and the operators over time."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.broadcast.privacy import redact
from app.core.database import utcnow
from app.incidents.models import Incident
from app.intake.models import Report
from app.learning.models import LabelledExample
from app.triage.engine import LABEL_FIELDS, URGENCIES

# The labels an operator decides on an incident (IncidentChange field -> label name)
DECIDED_FIELDS = {"urgency": "urgency", "category": "category", "offence": "offence", "wijk_code": "wijk"}
AGREEMENT_FIELDS = ("urgency", "category", "offence", "wijk")
# A capitalised word after a form of address or a neighbour word is taken for a name
_NAME = re.compile(r"\b(?i:meneer|mevrouw|mevr|dhr|mw|buurman|buurvrouw|mr|mrs|ms|neighbou?r)\.?\s+"
                   r"(?P<name>[A-Z][a-z]+(?:\s+(?:van|de|der|den)?\s*[A-Z][a-z]+)?)")
NAME_MARK = "[naam]"


def without_personal_data(text: str) -> str:
    """As for retention: phone numbers, e-mail addresses, plates, house numbers and detectable names removed."""
    redacted, _ = redact(text)
    return _NAME.sub(lambda m: m.group(0)[: m.start("name") - m.start(0)] + NAME_MARK, redacted)


def _decision(incident: Incident, suggestion: dict[str, Any]) -> dict[str, Any]:
    labels = {name: suggestion.get(name) for name in LABEL_FIELDS}
    labels.update(urgency=incident.urgency, category=incident.category, offence=incident.offence,
                  wijk=incident.wijk_code)
    return labels


async def record_decision(session: AsyncSession, incident: Incident, reports: Sequence[Report],
                          changed: Iterable[str], staff_user_id: int | None) -> int:
    """Keep (or update) one labelled example per report of an incident whose labels an operator set."""
    fields = sorted(DECIDED_FIELDS[name] for name in changed if name in DECIDED_FIELDS)
    if not fields:
        return 0
    ids = [r.id for r in reports]
    existing = {e.report_id: e for e in (await session.scalars(
        select(LabelledExample).where(LabelledExample.report_id.in_(ids)))).all()} if ids else {}
    now = utcnow()
    for report in reports:
        suggestion = dict((report.triage or {}).get("labels") or {})
        example = existing.get(report.id)
        if example is None:
            example = LabelledExample(report_id=report.id, received_at=report.received_at,
                                      source_wijk_code=report.source_wijk_code,
                                      text=without_personal_data(report.text), suggestion=suggestion,
                                      decided_fields=[])
            session.add(example)
        example.incident_id, example.decided_by_id, example.decided_at = incident.id, staff_user_id, now
        example.decision = _decision(incident, suggestion)
        example.decided_fields = sorted(set(example.decided_fields or []) | set(fields))
    return len(reports)


async def examples_between(session: AsyncSession, start: datetime | None,
                           end: datetime | None = None) -> list[LabelledExample]:
    query = select(LabelledExample).order_by(LabelledExample.decided_at, LabelledExample.id)
    if start is not None:
        query = query.where(LabelledExample.decided_at >= start)
    if end is not None:
        query = query.where(LabelledExample.decided_at < end)
    return list((await session.scalars(query)).all())


def eval_line(example: LabelledExample) -> dict[str, Any]:
    """One line of the eval-triage format (tests/data/triage-dev.jsonl)."""
    return {"id": f"label-{example.id}", "received_at": example.received_at.isoformat(),
            "source_wijk": example.source_wijk_code, "text": example.text, "lat": None, "lon": None,
            "labels": {name: example.decision.get(name) for name in LABEL_FIELDS}, "incident": None}


def write_eval_file(examples: Iterable[LabelledExample], out: Path) -> int:
    count = 0
    with out.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(eval_line(example), ensure_ascii=False) + "\n")
            count += 1
    return count


# ---- agreement ---------------------------------------------------------------------------------------


@dataclass
class DayAgreement:
    day: date
    n: int
    agreed: dict[str, int]


def agreement(examples: Sequence[LabelledExample], recent: int = 20) -> dict[str, Any]:
    """Per field the share of examples where the engine's suggestion is the operator's decision, per day;
    the urgency confusion (rows operator, cols engine); the most recent disagreements with their texts."""
    days: dict[date, DayAgreement] = {}
    confusion = {g: {p: 0 for p in URGENCIES} for g in URGENCIES}
    totals = {name: 0 for name in AGREEMENT_FIELDS}
    disagreements: list[dict[str, Any]] = []
    for example in examples:
        day = example.decided_at.date()
        bucket = days.setdefault(day, DayAgreement(day, 0, {name: 0 for name in AGREEMENT_FIELDS}))
        bucket.n += 1
        wrong = {}
        for name in AGREEMENT_FIELDS:
            engine, operator = example.suggestion.get(name), example.decision.get(name)
            if engine == operator:
                bucket.agreed[name] += 1
                totals[name] += 1
            else:
                wrong[name] = {"engine": engine, "operator": operator}
        gold, predicted = str(example.decision.get("urgency")), str(example.suggestion.get("urgency"))
        if gold in confusion and predicted in confusion[gold]:
            confusion[gold][predicted] += 1
        if wrong:
            disagreements.append({"report_id": example.report_id, "incident_id": example.incident_id,
                                  "decided_at": example.decided_at.isoformat(), "text": example.text,
                                  "fields": wrong})
    n = len(examples)
    return {
        "n": n,
        "agreement": {name: round(totals[name] / n, 4) if n else None for name in AGREEMENT_FIELDS},
        "per_day": [{"day": d.day.isoformat(), "n": d.n,
                     "agreement": {name: round(d.agreed[name] / d.n, 4) for name in AGREEMENT_FIELDS}}
                    for d in sorted(days.values(), key=lambda d: d.day)],
        "urgency_confusion": {"rows": "operator", "cols": "engine", "labels": list(URGENCIES),
                              "matrix": confusion},
        "recent_disagreements": list(reversed(disagreements[-recent:])),
    }
