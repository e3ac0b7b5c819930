"""The outbox workers against the fake Graph API: rate limits, retries, unknown outcomes, the 24-hour
window, fallbacks, and exactly one message per person."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.broadcast.channels import WEBHOOK_DELIVERY, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, WebhookChannel
from app.broadcast.http import Poster
from app.broadcast.models import Delivery
from app.broadcast.ratelimit import LocalRateLimiter
from app.broadcast.worker import DeliveryWorker
from app.core.database import utcnow
from app.events.models import Event
from app.intake.models import Report
from tests.fakes.graph_api import FakeGraphApi, run_fake_graph_server
from tests.support.broadcast import WESTWIJK, add_beheerders, deliver, wijk_beheerders
from tests.support.http import login
from tests.support.settings import TEST_SECRETS

TEXT = "Inbraak bezig, twee personen met een koevoet, richting park gevlucht."


async def send(client, demo, *, kind: str = "heterdaad", text: str = TEXT, wijkcodes: list[str] | None = None,
               role: str = "operator") -> dict[str, Any]:
    headers = await login(client, demo[role])
    response = await client.post("/api/v1/broadcasts", headers=headers, json={
        "kind": kind, "text": text, "target": {"wijkcodes": wijkcodes or [WESTWIJK]}})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def rows(app, *where) -> list[Delivery]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(Delivery).where(*where).order_by(Delivery.id))).all())


async def test_the_rate_limit_paces_sending_and_the_provider_never_refuses(app, client, demo, settings, worker):
    await add_beheerders(app, WESTWIJK, 30 - len(wijk_beheerders(demo, WESTWIJK)))
    limited = FakeGraphApi(access_token=TEST_SECRETS["whatsapp_access_token"], messages_per_second=20)
    worker.channels["whatsapp"].http = Poster(httpx.ASGITransport(app=limited), 1.0)  # type: ignore[attr-defined]
    worker._rates["whatsapp"] = 20

    await send(client, demo)
    started = time.monotonic()
    await worker.drain()
    elapsed = time.monotonic() - started

    assert len(limited.sent) == 30 and limited.rejected == []
    assert elapsed >= 29 / 20 * 0.9  # 30 messages at 20/s: at least ~1.45 s, evenly spaced


async def test_throughput_errors_back_off_and_every_message_still_goes_out_once(app, client, demo, worker, fake):
    fake.fail_next(3, 429, endpoint="messages", retry_after=0.05)  # code 130429
    broadcast = await send(client, demo)
    await deliver(worker, fake)

    westwijk = len(wijk_beheerders(demo, WESTWIJK))
    assert set(fake.count_by_recipient().values()) == {1} and len(fake.count_by_recipient()) == westwijk
    done = await rows(app, Delivery.broadcast_id == broadcast["id"])
    assert {r.status for r in done} == {"delivered"} and all(r.failures == 0 for r in done)
    assert sorted(r.attempts for r in done)[-3:] == [2, 2, 2]


async def test_a_server_error_is_reconciled_from_status_callbacks_before_sending_again(app, client, demo, worker,
                                                                                       fake):
    worker.settings = worker.settings.model_copy(update={"broadcast_unknown_grace_seconds": 120.0})
    fake.fail_next(2, 500, endpoint="messages")  # the fake did not process these two
    broadcast = await send(client, demo)
    await worker.drain()
    unknown = [r for r in await rows(app, Delivery.broadcast_id == broadcast["id"]) if r.status == "sending"]
    assert len(unknown) == 2 and all(r.last_error == "onbekende afloop" for r in unknown)

    await fake.flush_callbacks()
    await _make_due(app)  # the grace period for callbacks is over: no callback, so they go back in the queue
    await worker.drain()
    await _make_due(app)  # (after their backoff)
    await deliver(worker, fake)
    assert set(fake.count_by_recipient().values()) == {1}
    assert len(fake.count_by_recipient()) == len(wijk_beheerders(demo, WESTWIJK))


@pytest.mark.parametrize("accepted", [
    pytest.param(True, id="accepted-then-slow"),
    pytest.param(False, id="never-arrived"),
])
async def test_a_timeout_is_settled_from_status_callbacks_exactly_once(app, client, demo, settings, accepted):
    # A long grace period, and the test moves the clock itself (`_make_due`): no sleep races the worker.
    timing = {"broadcast_http_timeout_seconds": 2.0, "broadcast_unknown_grace_seconds": 120.0}
    async with asyncio.timeout(60):
        with run_fake_graph_server(FakeGraphApi(access_token=TEST_SECRETS["whatsapp_access_token"])) as (base, fake):
            fake.send_status_callbacks("http://testserver/webhooks/whatsapp", TEST_SECRETS["whatsapp_app_secret"],
                                       transport=httpx.ASGITransport(app=app), auto=False)
            if accepted:
                fake.slow_answer_next(1, 4.0)  # accepted, answered after our 2 s HTTP timeout
            else:
                fake.delay_next(1, 4.0, endpoint="messages")  # we give up before it reads the request
            worker = _real_worker(app, settings.model_copy(update={**timing, "whatsapp_api_base": base}))
            try:
                broadcast = await send(client, demo)
                await worker.drain()
                (unknown,) = await rows(app, Delivery.status == "sending")
                assert unknown.last_error == "onbekende afloop"
                await fake.flush_callbacks()
                await _make_due(app)  # the grace period is over
                await worker.drain()  # settles the unknown outcome: from its callback, or by sending it again
                await _make_due(app)  # (after its backoff)
                await worker.drain()
            finally:
                await worker.stop()
    assert set(fake.count_by_recipient().values()) == {1}
    assert len(fake.count_by_recipient()) == len(wijk_beheerders(demo, WESTWIJK))
    done = {r.id: r for r in await rows(app, Delivery.broadcast_id == broadcast["id"])}
    assert {r.status for r in done.values()} <= {"sent", "delivered"}
    assert all(r.provider_message_id for r in done.values())
    assert done[unknown.id].attempts == (1 if accepted else 2)


async def _make_due(app) -> None:
    async with app.state.sessionmaker() as session:
        await session.execute(update(Delivery).where(Delivery.next_attempt_at.is_not(None))
                              .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        await session.commit()


def _real_worker(app, settings) -> DeliveryWorker:
    from app.broadcast.worker import build_worker

    return build_worker(app.state.sessionmaker, settings, limiter=LocalRateLimiter())


async def test_a_crash_between_sending_and_recording_is_settled_without_a_second_message(app, client, demo,
                                                                                        worker, fake):
    broadcast = await send(client, demo)
    claimed = await worker.claim()
    sent_before_crash = claimed[:3]
    for item in sent_before_crash:
        await worker.channels["whatsapp"].send(item.message)
    # ... and the worker dies here: nothing recorded, rows stay "sending" until their lease runs out.
    await fake.flush_callbacks()
    async with app.state.sessionmaker() as session:
        await session.execute(update(Delivery).where(Delivery.status == "sending").values(next_attempt_at=utcnow()))
        await session.commit()

    await deliver(worker, fake)

    assert set(fake.count_by_recipient().values()) == {1}
    assert len(fake.count_by_recipient()) == len(wijk_beheerders(demo, WESTWIJK))
    done = {r.id: r for r in await rows(app, Delivery.broadcast_id == broadcast["id"])}
    assert all(done[item.message.delivery_id].attempts == 1 for item in sent_before_crash)
    assert all(r.attempts == 2 for r in done.values() if r.id not in {i.message.delivery_id for i in claimed[:3]})


async def test_messages_to_one_person_wait_for_the_pair_rate(app, client, demo, worker, fake):
    beheerder = wijk_beheerders(demo, WESTWIJK)[0]
    await send(client, demo)
    await send(client, demo, kind="einde", text="De verdachten zijn aangehouden. Dank voor het uitkijken.")

    await worker.drain()
    assert fake.count_by_recipient()[beheerder["phone"].lstrip("+")] == 1  # the second waits its turn
    await asyncio.sleep(0.65)
    await deliver(worker, fake)

    to_them = [m for m in fake.sent if m.to == beheerder["phone"].lstrip("+")]
    assert len(to_them) == 2 and fake.rejected == []  # never a 131056 from the fake (1 per 0.5 s)
    assert "HETERDAAD" in _text(to_them[0].payload) and "EINDE ALARM" in _text(to_them[1].payload)


def _text(payload: dict[str, Any]) -> str:
    if payload["type"] == "text":
        return str(payload["text"]["body"])
    return str(payload["template"]["components"][0]["parameters"][0]["text"])


async def test_within_the_24_hour_window_a_text_goes_out_else_the_template(app, client, demo, worker, fake):
    westwijk = wijk_beheerders(demo, WESTWIJK)
    recent = westwijk[0]
    async with app.state.sessionmaker() as session:
        session.add(Report(case_number="MK-2026-900001", beheerder_id=recent["id"], group_id=recent["group_ids"][0],
                           source_wijk_code=WESTWIJK, channel="whatsapp", request_hash="x", text="melding",
                           text_original="melding", received_at=utcnow()))
        await session.commit()
    await send(client, demo)
    await deliver(worker, fake)

    by_phone = {m.to: m.payload for m in fake.sent}
    assert by_phone[recent["phone"].lstrip("+")]["type"] == "text"
    others = [by_phone[b["phone"].lstrip("+")] for b in westwijk[1:]]
    assert {p["type"] for p in others} == {"template"}
    assert {p["template"]["name"] for p in others} == {"meldkamer_alarm"}
    assert all("\n" not in _text(p) and "HETERDAAD" in _text(p) for p in others)


async def test_a_closed_window_reported_by_whatsapp_is_answered_with_the_template(app, client, demo, worker, fake):
    recent = wijk_beheerders(demo, WESTWIJK)[0]
    async with app.state.sessionmaker() as session:
        session.add(Report(case_number="MK-2026-900002", beheerder_id=recent["id"], group_id=recent["group_ids"][0],
                           source_wijk_code=WESTWIJK, channel="whatsapp", request_hash="x", text="melding",
                           text_original="melding", received_at=utcnow()))
        await session.commit()
    fake.fail_async_next(1, 131047, to=recent["phone"].lstrip("+"))  # accepted, then "failed: re-engagement"
    await send(client, demo, wijkcodes=[WESTWIJK])
    await deliver(worker, fake)
    await asyncio.sleep(0.65)  # the template waits for the pair rate
    await deliver(worker, fake)

    to_them = [m for m in fake.sent if m.to == recent["phone"].lstrip("+")]
    assert [m.type for m in to_them] == ["text", "template"]
    (row,) = await rows(app, Delivery.beheerder_id == recent["id"])
    assert row.status == "delivered" and row.use_template and row.failures == 0


async def test_a_permanent_failure_falls_back_and_after_the_last_channel_is_shown_to_operators(
        app, client, demo, worker, fake, email):
    (with_email,) = await add_beheerders(app, "WK036302", 1, channels=["whatsapp"], email="beheerder@example.org")
    (whatsapp_only,) = await add_beheerders(app, "WK036302", 1, prefix="+3168", channels=["whatsapp"])
    lastage = len(wijk_beheerders(demo, "WK036302"))
    fake.fail_next(3 * (lastage + 2), 403, endpoint="messages")  # code 10: retried until the maximum (3)
    broadcast = await send(client, demo, wijkcodes=["WK036302"])
    for _ in range(4):
        await deliver(worker, fake)
        await asyncio.sleep(0.06)

    mine = {r.beheerder_id: r for r in await rows(app, Delivery.broadcast_id == broadcast["id"],
                                                  Delivery.superseded.is_(False))}
    assert mine[with_email].channel == "email" and mine[with_email].status == "delivered"
    assert [m["to"] for m in email.sent] == ["beheerder@example.org"] and "HETERDAAD" in email.sent[0]["body"]
    assert mine[whatsapp_only].status == "failed" and mine[whatsapp_only].attempts == 3
    operator = await login(client, demo["operator"])
    detail = (await client.get(f"/api/v1/broadcasts/{broadcast['id']}", headers=operator)).json()
    assert [f["beheerder_id"] for f in detail["failed_deliveries"]] == [whatsapp_only]
    assert detail["failed_deliveries"][0]["error_code"] == 10 and detail["progress"]["failed"] == 1


async def test_in_app_alerts_are_events_on_the_beheerders_own_stream(app, client, demo, worker, fake):
    (in_app,) = await add_beheerders(app, WESTWIJK, 1, channels=["app"])
    broadcast = await send(client, demo)
    await deliver(worker, fake)

    async with app.state.sessionmaker() as session:
        events = (await session.scalars(select(Event).where(Event.type == "alert"))).all()
    assert [e.audience for e in events] == [f"beheerder:{in_app}"]
    assert events[0].data["broadcast_id"] == broadcast["id"] and "HETERDAAD" in events[0].data["message"]
    assert len(fake.count_by_recipient()) == len(wijk_beheerders(demo, WESTWIJK))


async def test_partner_apps_get_a_signed_webhook(app, client, demo, worker, fake):
    received: list[tuple[dict[str, str], bytes]] = []

    async def partner(request: Request) -> JSONResponse:
        received.append((dict(request.headers), await request.body()))
        return JSONResponse({"ok": True})

    app.state.settings = app.state.settings.model_copy(update={
        "broadcast_webhook_url": "http://partner/alerts", "broadcast_webhook_secret": SecretStr("partner-secret")})
    partner_app = Starlette(routes=[Route("/alerts", partner, methods=["POST"])])
    worker.channels["webhook"] = WebhookChannel(Poster(httpx.ASGITransport(app=partner_app), 1.0),
                                                "http://partner/alerts", "partner-secret")
    (via_partner,) = await add_beheerders(app, WESTWIJK, 1, channels=["webhook", "app"])
    await send(client, demo)
    await deliver(worker, fake)

    ((headers, body),) = received
    expected = "sha256=" + hmac.new(b"partner-secret", headers[WEBHOOK_TIMESTAMP.lower()].encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
    assert headers[WEBHOOK_SIGNATURE.lower()] == expected
    (row,) = await rows(app, Delivery.beheerder_id == via_partner)
    assert headers[WEBHOOK_DELIVERY.lower()] == str(row.id) and row.status == "delivered"
    assert b"HETERDAAD" in body


@pytest.mark.parametrize("outcome", ["released"])
async def test_a_row_whose_lease_ran_out_before_sending_goes_back_unsent(app, client, demo, worker, fake, outcome):
    await send(client, demo)
    claimed = await worker.claim()
    results = [await worker._send(type(item)(item.message, deadline=0.0)) for item in claimed]
    assert {r.outcome for r in results} == {outcome} and fake.sent == []
    await worker.record(list(zip(claimed, results, strict=True)))
    await deliver(worker, fake)
    assert set(fake.count_by_recipient().values()) == {1}


async def test_the_in_app_worker_is_woken_by_the_alert_and_reaches_all_26_westwijk_beheerders(app, client, demo,
                                                                                                settings):
    """The default setup: workers inside the app (lifespan), the 80/s default rate, a real HTTP provider. The
    worker's poll is an hour away, so every message that arrives was sent because the alert woke the worker;
    how fast that is on a quiet machine is bench_broadcast's figure, not a test's."""
    from app.factory import create_app

    await add_beheerders(app, WESTWIJK, 26 - len(wijk_beheerders(demo, WESTWIJK)))
    limited = FakeGraphApi(access_token=TEST_SECRETS["whatsapp_access_token"], messages_per_second=80, pair_limit=1)
    with run_fake_graph_server(limited) as (base, fake):
        served = create_app(settings.model_copy(update={
            "broadcast_worker_in_app": True, "whatsapp_api_base": base, "broadcast_whatsapp_rate_per_second": 80,
            "broadcast_poll_seconds": 3600.0}), configure_logs=False)
        async with served.router.lifespan_context(served):
            assert served.state.delivery_worker is not None
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=served), base_url="http://app") as http:
                operator = await login(http, demo["operator"])
                response = await http.post("/api/v1/broadcasts", headers=operator, json={
                    "kind": "heterdaad", "text": TEXT, "target": {"wijkcodes": [WESTWIJK]}})
                assert response.status_code == 201
                for _ in range(6000):  # up to a minute on a loaded machine; the poll would come after an hour
                    if len(fake.sent) >= 26:
                        break
                    await asyncio.sleep(0.01)
        await served.state.engine.dispose()
    assert len(fake.count_by_recipient()) == 26 and set(fake.count_by_recipient().values()) == {1}
    assert fake.rejected == []
