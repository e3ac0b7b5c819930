"""The operators' decisions become labelled examples: kept per report without personal data, exported for
`eval-triage`, and summed up as the agreement between the engine and the operators."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli
from app.learning.service import without_personal_data
from app.triage.evaluation import read_items
from tests.support.http import bearer, login, problem

WESTWIJK = "WK036204"
TEXT = "Verdacht busje staat al een uur bij Zonnestein 12, bel mij op 0612345678 of mail piet@voorbeeld.nl"


def _westwijk_beheerder(demo) -> dict:
    return next(b for b in demo["beheerders"] if b["wijkcodes"] == [WESTWIJK])


async def _incident_with_decision(client, demo) -> tuple[dict, dict]:
    reported = await client.post("/api/v1/reports", headers=bearer(_westwijk_beheerder(demo)["token"]),
                                 json={"text": TEXT})
    assert reported.status_code == 201, reported.text
    operator = await login(client, demo["operator"])
    incident = (await client.get("/api/v1/queue", headers=operator)).json()["items"][0]
    changed = await client.patch(f"/api/v1/incidents/{incident['id']}", headers=operator,
                                 json={"urgency": "P1", "offence": "autokraak"})
    assert changed.status_code == 200, changed.text
    return incident, operator


def test_personal_data_is_removed_as_for_retention() -> None:
    cleaned = without_personal_data("Meneer Jansen op Dorpsstraat 14 belt 06-12345678, mail a.b@c.nl")
    assert "Jansen" not in cleaned and "14" not in cleaned and "12345678" not in cleaned and "a.b@c.nl" not in cleaned
    assert cleaned.startswith("Meneer [naam]")


async def test_an_operators_decision_shows_in_the_agreement(client, demo):
    incident, _ = await _incident_with_decision(client, demo)
    analyst = await login(client, demo["analyst"])
    response = await client.get("/api/v1/triage/agreement", headers=analyst)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["n"] == 1
    assert body["agreement"]["urgency"] == 0.0 and body["agreement"]["wijk"] == 1.0
    engine_urgency = incident["reports"][0]["urgency"]
    assert body["urgency_confusion"]["matrix"]["P1"][engine_urgency] == 1
    [disagreement] = body["recent_disagreements"]
    assert disagreement["fields"]["urgency"] == {"engine": engine_urgency, "operator": "P1"}
    assert disagreement["fields"]["offence"]["operator"] == "autokraak"
    assert "0612345678" not in disagreement["text"] and "piet@voorbeeld.nl" not in disagreement["text"]
    assert [day["n"] for day in body["per_day"]] == [1]


async def test_a_second_decision_updates_the_example_of_the_report(client, demo):
    incident, operator = await _incident_with_decision(client, demo)
    await client.patch(f"/api/v1/incidents/{incident['id']}", headers=operator, json={"category": "delict"})
    specialist = await login(client, demo["specialist"])
    body = (await client.get("/api/v1/triage/agreement", headers=specialist)).json()
    assert body["n"] == 1
    assert body["recent_disagreements"][0]["fields"]["offence"]["operator"] == "autokraak"


async def test_agreement_is_for_analysts_and_specialists_and_checks_its_dates(client, demo):
    operator = await login(client, demo["operator"])
    assert (await client.get("/api/v1/triage/agreement", headers=operator)).status_code == 403
    analyst = await login(client, demo["analyst"])
    reversed_range = await client.get("/api/v1/triage/agreement?from=2026-12-03&to=2026-12-01", headers=analyst)
    assert reversed_range.status_code == 422 and problem(reversed_range)["field"] == "to"
    empty = await client.get("/api/v1/triage/agreement?from=2020-01-01&to=2020-01-31", headers=analyst)
    assert empty.json()["n"] == 0


async def test_export_labels_writes_the_eval_format(client, demo, settings, monkeypatch, tmp_path: Path):
    from app.core.settings import get_settings

    await _incident_with_decision(client, demo)
    monkeypatch.setenv("MELDKAMER_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    out = tmp_path / "labels.jsonl"
    try:
        result = await asyncio.to_thread(CliRunner().invoke, cli, ["export-labels", "--out", str(out)])
        later = await asyncio.to_thread(CliRunner().invoke, cli,
                                        ["export-labels", "--since", "2999-01-01", "--out", str(tmp_path / "n.jsonl")])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    [line] = [json.loads(raw) for raw in out.read_text(encoding="utf-8").splitlines()]
    assert line["labels"]["urgency"] == "P1" and line["labels"]["offence"] == "autokraak"
    assert line["source_wijk"] == WESTWIJK and "0612345678" not in line["text"]
    assert [item.labels["urgency"] for item in read_items(out) if item.labels] == ["P1"]
    assert later.exit_code == 0 and (tmp_path / "n.jsonl").read_text() == ""
