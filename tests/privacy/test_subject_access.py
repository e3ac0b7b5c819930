"""GET /api/v1/privacy/subject: an admin exports everything held about one phone number as a zip."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import zipfile
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import cli
from app.core.database import utcnow
from app.core.settings import get_settings
from app.intake.models import QuarantinedMessage, Report, WhatsAppStatus
from tests.support import builders
from tests.support.http import bearer, problem
from tests.support.privacy import report_with_photo
from tests.support.settings import TEST_SECRETS

PHONE = "+31612340001"
NOTE = "De wijkagent komt morgen langs."


async def _subject(app, client) -> dict[str, Any]:
    """A beheerder with a report and photo that two staff members looked at, feedback with a note (an outbox
    row), a status callback naming the number; and someone else's report, which must not appear."""
    beheerder = await builders.beheerder(app, name="Anja de Vries", phone=PHONE)
    other = await builders.beheerder(app, name="Piet Anders")
    report = await report_with_photo(client, beheerder.token, "Twee mannen kijken in auto's aan de Dorpsstraat")
    await report_with_photo(client, other.token, "Iets anders aan de Kerkweg", street="Kerkweg")
    operator = await builders.staff(app, "operator")
    wijkagent = await builders.staff(app, "wijkagent", username="wijkagent-bakker")
    photo_id = report["photos"][0]["id"]
    for viewer in (operator, wijkagent):
        seen = await client.get(f"/api/v1/reports/{report['id']}/photos/{photo_id}", headers=bearer(viewer.token))
        assert seen.status_code == 200
    async with app.state.sessionmaker() as session:
        incident_id = await session.scalar(select(Report.incident_id).where(Report.id == report["id"]))
        session.add(WhatsAppStatus(message_id="wamid.9", recipient=PHONE, status="read", occurred_at=utcnow()))
        session.add(QuarantinedMessage(channel="whatsapp", external_id="wa:9", sender="+31687654321", kind="text",
                                       text="van iemand anders", reason="onbekend"))
        await session.commit()
    decided = await client.patch(f"/api/v1/incidents/{incident_id}", headers=bearer(operator.token),
                                 json={"note_for_reporter": NOTE})
    assert decided.status_code == 200, decided.text
    return {"report": report, "photo_id": photo_id, "operator": operator, "wijkagent": wijkagent,
            "admin": await builders.staff(app, "admin")}


def _open(content: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        parts = {name: json.loads(archive.read(name)) for name in names if name.endswith(".json")}
        files = {name: archive.read(name) for name in names if not name.endswith(".json")}
    return parts, files


async def test_the_export_holds_every_part_including_who_viewed_the_photo(app, client, settings):
    subject = await _subject(app, client)
    response = await client.get("/api/v1/privacy/subject", params={"phone": "06-12340001"},
                                headers=bearer(subject["admin"].token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    parts, files = _open(response.content)

    [entry] = parts["registry.json"]
    assert entry["name"] == "Anja de Vries" and entry["phone"] == PHONE and entry["tokens"]
    [report] = parts["reports.json"]
    assert report["case_number"] == subject["report"]["case_number"] and "kijken in auto's" in report["text"]
    assert any(NOTE in feedback["text"] for feedback in report["feedback"])
    [photo] = parts["photos.json"]
    assert photo["id"] == subject["photo_id"]
    assert list(files) == [photo["file"]]
    assert files[photo["file"]] == (settings.photo_dir / photo["file"].split("-", 1)[1]).read_bytes()
    views = parts["photo_views.json"]
    assert [(view["photo_id"], view["viewer_name"]) for view in views] == [
        (subject["photo_id"], "operator"), (subject["photo_id"], "wijkagent-bakker")]
    assert any(NOTE in (delivery["text"] or "") for delivery in parts["deliveries.json"])
    replies = parts["replies.json"]
    assert [callback["message_id"] for callback in replies["status_callbacks"]] == ["wamid.9"]
    assert replies["quarantined_messages"] == []
    assert "Kerkweg" not in json.dumps(parts)


async def test_only_admins_may_export_and_a_bad_number_is_refused_in_dutch(app, client):
    subject = await _subject(app, client)
    refused = await client.get("/api/v1/privacy/subject", params={"phone": PHONE},
                               headers=bearer(subject["operator"].token))
    assert refused.status_code == 403
    bad = await client.get("/api/v1/privacy/subject", params={"phone": "12ab"}, headers=bearer(subject["admin"].token))
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert problem(bad)["title"] == "Ongeldige invoer"


async def test_the_export_is_audited_without_the_number_itself(app, client):
    subject = await _subject(app, client)
    admin = bearer(subject["admin"].token)
    await client.get("/api/v1/privacy/subject", params={"phone": PHONE}, headers=admin)
    [entry] = (await client.get("/api/v1/admin/audit", params={"action": "privacy.subject_access"},
                                headers=admin)).json()
    assert entry["actor_name"] == "admin" and entry["detail"]["counts"]["reports.json"] == 1
    assert PHONE not in json.dumps(entry) and "12340001" not in json.dumps(entry)


async def test_the_audited_subject_cannot_be_found_by_hashing_numbers_without_the_key(app, client):
    """Hashing every Dutch mobile number (~10^8) would reverse an unkeyed hash; the reference is an HMAC under
    the audit key, so only someone who holds the key can tell which number an export was about."""
    subject = await _subject(app, client)
    admin = bearer(subject["admin"].token)
    export = await client.get("/api/v1/privacy/subject", params={"phone": PHONE}, headers=admin)
    [entry] = (await client.get("/api/v1/admin/audit", params={"action": "privacy.subject_access"},
                                headers=admin)).json()
    reference = entry["target_id"]
    for spelling in (PHONE, PHONE.lstrip("+"), "0612340001"):
        for digest in (hashlib.sha256, hashlib.sha1, hashlib.md5):
            assert reference[:16] not in digest(spelling.encode()).hexdigest()
    keyed = hmac.new(TEST_SECRETS["audit_pseudonym_key"].encode(), PHONE.encode(), hashlib.sha256).hexdigest()
    assert keyed.startswith(reference) and len(reference) == 32
    assert reference in export.headers["content-disposition"]


async def test_with_the_key_an_admin_finds_who_exported_a_number(app, client, settings, monkeypatch):
    subject = await _subject(app, client)
    for _ in range(2):
        await client.get("/api/v1/privacy/subject", params={"phone": PHONE}, headers=bearer(subject["admin"].token))
    await client.get("/api/v1/privacy/subject", params={"phone": "+31687654321"},
                     headers=bearer(subject["admin"].token))
    for name, value in (("DATABASE_URL", settings.database_url), ("DATA_DIR", str(settings.data_dir)),
                        ("AUDIT_PSEUDONYM_KEY", TEST_SECRETS["audit_pseudonym_key"])):
        monkeypatch.setenv(f"MELDKAMER_{name}", value)
    get_settings.cache_clear()
    try:
        found = await asyncio.to_thread(CliRunner().invoke, cli, ["subject-exports", "06-12340001"])
        monkeypatch.setenv("MELDKAMER_AUDIT_PSEUDONYM_KEY", "another-key")
        get_settings.cache_clear()
        other_key = await asyncio.to_thread(CliRunner().invoke, cli, ["subject-exports", PHONE])
    finally:
        get_settings.cache_clear()
    assert found.exit_code == 0, found.output
    lines = found.output.splitlines()
    assert len(lines) == 2 and all(line.endswith(f"staff {subject['admin'].id} admin") for line in lines)
    assert other_key.exit_code == 0 and other_key.output == ""
