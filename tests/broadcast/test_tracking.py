"""After sending: status callbacks, "doorgestuurd" from the portal or as a WhatsApp reply or reaction, and
the progress the wall and console see."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from app.broadcast.models import Delivery
from app.events.models import Event
from app.intake.models import Report
from app.intake.whatsapp import compute_signature
from tests.fakes.graph_api import text_message, webhook_payload
from tests.support import builders
from tests.support.broadcast import WESTWIJK, deliver
from tests.support.http import bearer, problem
from tests.support.settings import TEST_SECRETS


async def _westwijk(app, count: int = 3) -> list[builders.BeheerderAccount]:
    return [await builders.beheerder(app, wijkcode=WESTWIJK) for _ in range(count)]


async def _broadcast(client, operator: dict[str, str]) -> dict[str, Any]:
    response = await client.post("/api/v1/broadcasts", headers=operator, json={
        "kind": "heterdaad", "text": "Autokraak bezig bij het winkelcentrum, dader op een zwarte scooter.",
        "target": {"wijkcodes": [WESTWIJK]}})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _webhook(client, payload: dict[str, Any]) -> dict[str, Any]:
    raw = json.dumps(payload).encode()
    response = await client.post("/webhooks/whatsapp", content=raw, headers={
        "Content-Type": "application/json",
        "X-Hub-Signature-256": compute_signature(raw, TEST_SECRETS["whatsapp_app_secret"])})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _reply(beheerder: builders.BeheerderAccount, body: str, to_message: str) -> dict[str, Any]:
    message = text_message(str(beheerder.phone).lstrip("+"), body)
    message["context"] = {"from": "31850001234", "id": to_message}
    return message


def _reaction(beheerder: builders.BeheerderAccount, emoji: str, to_message: str) -> dict[str, Any]:
    message = text_message(str(beheerder.phone).lstrip("+"), "")
    del message["text"]
    message.update(type="reaction", reaction={"message_id": to_message, "emoji": emoji})
    return message


async def _delivery(app, beheerder_id: int) -> Delivery:
    async with app.state.sessionmaker() as session:
        row = await session.scalar(select(Delivery).where(Delivery.beheerder_id == beheerder_id))
    assert row is not None
    return row


async def test_status_callbacks_move_deliveries_to_delivered_and_read(app, client, worker, fake):
    westwijk = await _westwijk(app)
    operator = bearer((await builders.staff(app, "operator")).token)
    broadcast = await _broadcast(client, operator)
    await worker.drain()
    first = fake.sent[0]
    assert (await _delivery(app, _by_phone(westwijk, first.to).id)).status == "sent"

    await fake.flush_callbacks()
    from tests.fakes.graph_api import status_for
    await _webhook(client, webhook_payload(statuses=[status_for(first, "read")]))

    row = await _delivery(app, _by_phone(westwijk, first.to).id)
    assert row.status == "read" and row.delivered_at and row.read_at and row.provider_message_id == first.message_id
    progress = (await client.get(f"/api/v1/broadcasts/{broadcast['id']}", headers=operator)).json()["progress"]
    assert progress["delivered"] == progress["recipients"] and progress["read"] == 1


def _by_phone(beheerders: list[builders.BeheerderAccount], wa_id: str) -> builders.BeheerderAccount:
    return next(b for b in beheerders if str(b.phone).lstrip("+") == wa_id)


async def test_a_reply_doorgestuurd_marks_the_alert_forwarded_and_makes_no_report(app, client, worker, fake):
    westwijk = await _westwijk(app)
    broadcast = await _broadcast(client, bearer((await builders.staff(app, "operator")).token))
    await deliver(worker, fake)
    beheerder = westwijk[0]
    ours = await _delivery(app, beheerder.id)

    reply = _reply(beheerder, "Doorgestuurd!", ours.provider_message_id)
    result = await _webhook(client, webhook_payload(messages=[reply]))

    assert result["messages"] == ["reply"]
    row = await _delivery(app, beheerder.id)
    assert row.forwarded_at is not None and row.forwarded_via == "whatsapp"
    async with app.state.sessionmaker() as session:
        assert (await session.scalars(select(Report))).all() == []
        progress = (await session.scalars(select(Event).where(Event.type == "broadcast.progress")
                                          .order_by(Event.id.desc()))).first()
    assert progress is not None and progress.data["forwarded"] == 1 and progress.data["broadcast_id"] == broadcast["id"]
    assert progress.audience == "staff"


async def test_a_thumbs_up_reaction_counts_as_forwarded(app, client, worker, fake):
    westwijk = await _westwijk(app)
    await _broadcast(client, bearer((await builders.staff(app, "operator")).token))
    await deliver(worker, fake)
    beheerder = westwijk[1]
    ours = await _delivery(app, beheerder.id)

    thumbs_up = _reaction(beheerder, "\U0001f44d\U0001f3fd", ours.provider_message_id)  # with a skin tone
    await _webhook(client, webhook_payload(messages=[thumbs_up]))

    assert (await _delivery(app, beheerder.id)).forwarded_via == "whatsapp"


async def test_a_reply_with_news_is_a_report_and_someone_elses_alert_is_not_marked(app, client, worker, fake):
    westwijk = await _westwijk(app)
    await _broadcast(client, bearer((await builders.staff(app, "operator")).token))
    await deliver(worker, fake)
    first, second = westwijk[:2]
    ours = await _delivery(app, first.id)

    sighting = _reply(first, "Ik zie de scooter nu bij de Kastanjelaan, man kijkt in auto's", ours.provider_message_id)
    news = await _webhook(client, webhook_payload(messages=[sighting]))
    assert news["messages"] == ["created"]
    other = await _webhook(client, webhook_payload(messages=[_reply(second, "ok", ours.provider_message_id)]))
    assert other["messages"] == ["reply"]  # an acknowledgement of a message not sent to you: no report either

    assert (await _delivery(app, first.id)).forwarded_at is None
    async with app.state.sessionmaker() as session:
        assert [r.text for r in (await session.scalars(select(Report))).all()] == [sighting["text"]["body"]]


async def test_the_portal_lists_own_alerts_and_marks_them_forwarded(app, client, worker, fake):
    first, second = await _westwijk(app, 2)
    elsewhere = await builders.beheerder(app, wijkcode="WK036206")
    operator = bearer((await builders.staff(app, "operator")).token)
    broadcast = await _broadcast(client, operator)
    await deliver(worker, fake)

    listing = (await client.get("/api/v1/alerts", headers=bearer(first.token))).json()
    (alert,) = listing["items"]
    assert alert["broadcast_id"] == broadcast["id"] and alert["kind"] == "heterdaad" and alert["forwarded_at"] is None
    assert (await client.get("/api/v1/alerts", headers=bearer(elsewhere.token))).json()["items"] == []

    marked = await client.post(f"/api/v1/alerts/{alert['delivery_id']}/forwarded", headers=bearer(first.token))
    assert marked.status_code == 200 and marked.json()["forwarded_via"] == "portal"
    again = await client.post(f"/api/v1/alerts/{alert['delivery_id']}/forwarded", headers=bearer(first.token))
    assert again.json()["forwarded_at"] == marked.json()["forwarded_at"]

    not_theirs = await client.post(f"/api/v1/alerts/{alert['delivery_id']}/forwarded", headers=bearer(second.token))
    assert not_theirs.status_code == 404 and problem(not_theirs)["title"] == "Niet gevonden"
    missing = await client.post("/api/v1/alerts/999999/forwarded", headers=bearer(first.token))
    assert missing.status_code == 404
    assert (await client.post(f"/api/v1/alerts/{alert['delivery_id']}/forwarded", headers=operator)).status_code == 403

    progress = (await client.get(f"/api/v1/broadcasts/{broadcast['id']}", headers=operator)).json()["progress"]
    assert progress["forwarded"] == 1
