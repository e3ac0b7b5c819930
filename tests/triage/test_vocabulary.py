"""One vocabulary: defined once in Python (fixed enumerations) or in config/triage.yaml (offences), and
served to every screen by GET /api/v1/meta. A new offence is a change to the YAML only."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pytest
import yaml

from app.core import vocabulary
from app.core.settings import PROJECT_ROOT
from app.triage.engine import ReportFacts, triage
from app.triage.knowledge import load_knowledge_base_from_dir
from tests.support.http import bearer, login, problem

NEW_OFFENCE = {"label": "Stroperij", "crime": ["strop(en|er|ers|ten)", "wild ?strop\\w*"], "behaviour": [],
               "examples": {"match": ["een stroper bij de vijver"], "no_match": ["een visser bij de vijver"]}}
POACHING_TEXT = "Er zijn net twee mannen aan het stropen in het park bij de vijver, ze hebben strikken gezet"


def _config_with_new_offence(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    lexicon_file = config / "triage.yaml"
    lexicon = yaml.safe_load(lexicon_file.read_text(encoding="utf-8"))
    lexicon["offences"]["stroperij"] = NEW_OFFENCE
    lexicon["offence_priority"].append("stroperij")
    lexicon_file.write_text(yaml.safe_dump(lexicon, allow_unicode=True), encoding="utf-8")
    return config


def test_labels_must_match_their_codes() -> None:
    Codes = Literal["a", "b"]
    assert vocabulary.Vocabulary.of(Codes, a="A", b="B").codes == ("a", "b")
    with pytest.raises(ValueError, match="do not match"):
        vocabulary.Vocabulary.of(Codes, a="A")
    with pytest.raises(ValueError, match="do not match"):
        vocabulary.Vocabulary.of(Codes, a="A", b="B", c="C")


def test_urgency_rank_is_the_order_most_urgent_first() -> None:
    assert [vocabulary.URGENCY.rank(code) for code in ("P1", "P2", "P3", "none")] == [0, 1, 2, 3]
    assert vocabulary.URGENCY.rank("onbekend") == 4
    assert vocabulary.URGENCY.label("none") == "Geen politietaak"


@pytest.mark.db
async def test_every_signed_in_principal_reads_the_vocabulary(client, demo):
    staff = await login(client, demo["operator"])
    for headers in (staff, bearer(demo["wall_token"]), bearer(demo["beheerders"][0]["token"])):
        response = await client.get("/api/v1/meta", headers=headers)
        assert response.status_code == 200, response.text
        meta = response.json()
        assert [u["code"] for u in meta["urgencies"]] == ["P1", "P2", "P3", "none"]
        assert {"code": "woninginbraak", "label": "Woninginbraak"} in meta["offences"]
        assert {"code": "ter_plaatse", "label": "Eenheid ter plaatse"} in meta["follow_ups"]
        assert meta["permissions"]["decide"] == ["operator", "specialist"]
        assert meta["timezone"] == "Europe/Amsterdam"
    client.cookies.clear()
    problem(await client.get("/api/v1/meta"))


@pytest.mark.db
async def test_an_offence_added_to_the_yaml_only_reaches_engine_meta_and_decisions(app, client, demo, tmp_path,
                                                                                   monkeypatch):
    config = _config_with_new_offence(tmp_path)
    kb = load_knowledge_base_from_dir(config)
    result = triage(ReportFacts(text=POACHING_TEXT, received_at=datetime.now(UTC), source_wijk="WK036204",
                                lat=None, lon=None), kb)
    assert result.offence == "stroperij"

    monkeypatch.setenv("MELDKAMER_CONFIG_DIR", str(config))
    app.state.triage_runner.invalidate()
    operator = await login(client, demo["operator"])
    meta = (await client.get("/api/v1/meta", headers=operator)).json()
    assert {"code": "stroperij", "label": "Stroperij"} in meta["offences"]

    report = await client.post("/api/v1/reports", headers=bearer(demo["beheerders"][0]["token"]),
                               json={"text": "Verdachte situatie bij de speeltuin, iemand loopt te schreeuwen"})
    assert report.status_code == 201, report.text
    [incident] = (await client.get("/api/v1/queue", headers=operator)).json()["items"]
    incident_id = incident["id"]
    accepted = await client.patch(f"/api/v1/incidents/{incident_id}", headers=operator,
                                  json={"offence": "stroperij"})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["offence"] == "stroperij"
    refused = await client.patch(f"/api/v1/incidents/{incident_id}", headers=operator, json={"offence": "kaping"})
    assert refused.status_code == 422
    assert problem(refused)["field"] == "offence"
