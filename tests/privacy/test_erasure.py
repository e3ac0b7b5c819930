"""POST /api/v1/privacy/erase: a beheerder's identity goes on request while the figures stay."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.core.database import utcnow
from app.intake.models import QuarantinedMessage, Report, WhatsAppStatus
from tests.support import builders
from tests.support.builders import ScriptedReport
from tests.support.http import bearer
from tests.support.privacy import report_with_photo

PHONE = "+31612340002"


async def _stats(client, analyst: builders.StaffAccount) -> dict[str, Any]:
    response = await client.get("/api/v1/stats", params={"from": "2026-01-01", "to": date.today().isoformat()},
                                headers=bearer(analyst.token))
    assert response.status_code == 200, response.text
    return response.json()


async def _export(client, admin: builders.StaffAccount) -> dict[str, Any]:
    response = await client.get("/api/v1/privacy/subject", params={"phone": PHONE}, headers=bearer(admin.token))
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def test_erasure_removes_the_identity_and_keeps_the_figures(app, client, settings):
    beheerder = await builders.beheerder(app, name="Karin Smit", phone=PHONE)
    analyst, admin = await builders.staff(app, "analyst"), await builders.staff(app, "admin")
    history = [ScriptedReport(group_id=beheerder.group_ids[0], beheerder_id=beheerder.id, wijkcode=builders.WESTWIJK,
                              received_at=datetime(2026, 2, 1, 10, tzinfo=UTC) + timedelta(days=n),
                              category="delict", offence="fietsdiefstal", follow_up="surveillance",
                              follow_up_after=timedelta(minutes=10)) for n in range(5)]
    await builders.scripted_history(app, history)
    report = await report_with_photo(client, beheerder.token, "Mijn buurman Jan zag iemand bij de schuur")
    async with app.state.sessionmaker() as session:
        session.add(WhatsAppStatus(message_id="wamid.7", recipient=PHONE, status="read", occurred_at=utcnow()))
        session.add(QuarantinedMessage(channel="whatsapp", external_id="wa:7", sender=PHONE, kind="text",
                                       text="vanaf mijn oude nummer", reason="onbekend"))
        await session.commit()
    figures = await _stats(client, analyst)
    assert b"Karin Smit" in (await _export(client, admin))["registry.json"]

    erased = await client.post("/api/v1/privacy/erase", json={"phone": "06 12340002"}, headers=bearer(admin.token))

    assert erased.status_code == 200, erased.text
    assert erased.json()["report_texts_purged"] == 6 and erased.json()["photos_removed"] == 1
    assert erased.json()["tokens_removed"] == 1 and erased.json()["quarantined_removed"] == 1
    entry = (await client.get(f"/api/v1/admin/beheerders/{beheerder.id}", headers=bearer(admin.token))).json()
    assert entry["name"] == f"Verwijderde beheerder {beheerder.id}" and entry["phone"] is None
    assert entry["active"] is False and entry["group_ids"] == beheerder.group_ids
    assert (await client.get("/api/v1/me", headers=bearer(beheerder.token))).status_code == 401
    parts = await _export(client, admin)
    assert {name: json.loads(content) for name, content in parts.items() if name != "subject.json"} == {
        "registry.json": [], "reports.json": [], "photos.json": [], "photo_views.json": [], "deliveries.json": [],
        "replies.json": {"operation_answers": [], "last_whatsapp_message_at": [], "quarantined_messages": [],
                         "status_callbacks": []}}
    assert list(settings.photo_dir.iterdir()) == []
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(Report.text).where(Report.id == report["id"])) == ""
    assert await _stats(client, analyst) == figures


async def test_erasure_is_for_admins_audited_and_safe_to_repeat_by_id(app, client):
    beheerder = await builders.beheerder(app, phone=PHONE)
    admin, operator = bearer((await builders.staff(app, "admin")).token), bearer((await builders.staff(app)).token)
    assert (await client.post("/api/v1/privacy/erase", json={"phone": PHONE}, headers=operator)).status_code == 403
    unknown = await client.post("/api/v1/privacy/erase", json={"phone": "+31612349999"}, headers=admin)
    assert unknown.status_code == 404
    both = await client.post("/api/v1/privacy/erase", json={"phone": PHONE, "beheerder_id": beheerder.id},
                             headers=admin)
    assert both.status_code == 422
    assert (await client.post("/api/v1/privacy/erase", json={"phone": PHONE}, headers=admin)).status_code == 200
    again = await client.post("/api/v1/privacy/erase", json={"beheerder_id": beheerder.id}, headers=admin)
    assert again.status_code == 200 and again.json()["tokens_removed"] == 0
    entries = (await client.get("/api/v1/admin/audit", params={"action": "beheerder.erase"}, headers=admin)).json()
    assert [entry["target_id"] for entry in entries] == [str(beheerder.id)] * 2
