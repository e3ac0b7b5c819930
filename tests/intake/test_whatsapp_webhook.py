"""WhatsApp Business inbound: signed webhooks become reports in the same intake; media arrive afterwards."""

from __future__ import annotations

import io
import json
import time
from datetime import timedelta

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select, update

from app.core.database import utcnow
from app.intake.graph_media import GraphMediaClient
from app.intake.media import MediaFetcher
from app.intake.models import QuarantinedMessage, Report, ReportPhoto, WhatsAppStatus
from app.intake.whatsapp import compute_signature
from tests.fakes.graph_api import (
    FakeGraphApi,
    contact,
    image_message,
    location_message,
    text_message,
    webhook_payload,
)
from tests.support import builders
from tests.support.http import bearer, problem
from tests.support.settings import TEST_SECRETS

SECRET = TEST_SECRETS["whatsapp_app_secret"]
UNKNOWN = "31699999999"


def _wa_id(beheerder: builders.BeheerderAccount) -> str:
    return str(beheerder.phone).lstrip("+")


async def _sender(app) -> str:
    """The WhatsApp id of a new beheerder of one group."""
    return _wa_id(await builders.beheerder(app))


async def _post(client, payload: dict, *, secret: str = SECRET, signature: str | None = None) -> httpx.Response:
    raw = json.dumps(payload).encode()
    header = signature if signature is not None else compute_signature(raw, secret)
    return await client.post("/webhooks/whatsapp", content=raw,
                             headers={"Content-Type": "application/json", "X-Hub-Signature-256": header})


async def _rows(app, model, *where):
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(model).where(*where).order_by(model.id))).all())


def _jpeg(with_exif: bool = True) -> bytes:
    image = Image.new("RGB", (40, 30), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif if with_exif else None)
    return buffer.getvalue()


@pytest.fixture
def fake_graph() -> FakeGraphApi:
    return FakeGraphApi(access_token=TEST_SECRETS["whatsapp_access_token"])


@pytest.fixture
async def fetcher(app, settings, fake_graph):
    async def no_sleep(_seconds: float) -> None:
        return None

    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake_graph), base_url="http://graph")
    client = GraphMediaClient("http://graph/v21.0", TEST_SECRETS["whatsapp_access_token"], client=http,
                              sleep=no_sleep)
    media_fetcher = MediaFetcher(app.state.sessionmaker, settings, client, app.state.report_intake.photo_stored)
    yield media_fetcher
    await http.aclose()


async def test_verification_handshake(client):
    ok = await client.get("/webhooks/whatsapp", params={
        "hub.mode": "subscribe", "hub.verify_token": TEST_SECRETS["whatsapp_verify_token"], "hub.challenge": "42"})
    assert ok.status_code == 200 and ok.text == "42"
    bad = await client.get("/webhooks/whatsapp", params={
        "hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "42"})
    assert bad.status_code == 403 and problem(bad)["title"] == "Geen toegang"


async def test_forged_or_missing_signature_is_401_and_nothing_is_stored(app, client):
    payload = webhook_payload(messages=[text_message(await _sender(app), "inbraak nu")])
    forged = await _post(client, payload, secret="not-the-app-secret")
    missing = await _post(client, payload, signature="")
    assert forged.status_code == missing.status_code == 401
    assert problem(forged)["title"] == "Niet aangemeld"
    assert await _rows(app, Report) == [] and await _rows(app, QuarantinedMessage) == []


async def test_text_from_a_beheerder_becomes_a_report_and_a_retry_does_not_duplicate_it(app, client):
    beheerder = await builders.beheerder(app)
    payload = webhook_payload(contacts=[contact(_wa_id(beheerder), "Buurtapp Lastage")],
                              messages=[text_message(_wa_id(beheerder), "Man probeert fietsen open te knippen",
                                                     message_id="wamid.ONE", forwarded=True)])
    first = await _post(client, payload)
    retry = await _post(client, payload)
    assert first.json()["messages"] == ["created"] and retry.json()["messages"] == ["duplicate"]
    reports = await _rows(app, Report)
    assert len(reports) == 1
    report = reports[0]
    assert report.channel == "whatsapp" and report.forwarded and report.beheerder_id == beheerder.id
    assert report.case_number.startswith("MK-")
    mine = (await client.get("/api/v1/reports", headers={"Authorization": f"Bearer {beheerder.token}"})).json()
    assert mine["items"][0]["case_number"] == report.case_number


async def test_unknown_numbers_go_to_quarantine_not_to_the_queue(app, client):
    payload = webhook_payload(contacts=[contact(UNKNOWN, "Onbekend")],
                              messages=[text_message(UNKNOWN, "hallo politie", message_id="wamid.Q")])
    assert (await _post(client, payload)).json()["messages"] == ["quarantined"]
    await _post(client, payload)
    assert await _rows(app, Report) == []
    admin = bearer((await builders.staff(app, "admin")).token)
    listed = (await client.get("/api/v1/admin/quarantine", headers=admin)).json()
    assert listed["total"] == 1
    assert listed["items"][0]["sender"] == "+" + UNKNOWN and listed["items"][0]["reason"] == "onbekend nummer"
    operator = bearer((await builders.staff(app, "operator")).token)
    assert (await client.get("/api/v1/admin/quarantine", headers=operator)).status_code == 403


async def test_image_with_caption_exists_before_its_photo_and_the_photo_arrives_clean(
        app, client, fake_graph, fetcher, settings):
    fake_graph.add_media("MEDIA-1", _jpeg(), "image/jpeg")
    message = image_message(await _sender(app), "MEDIA-1", caption="Deze auto staat al uren")
    payload = webhook_payload(messages=[message])
    assert (await _post(client, payload)).json()["messages"] == ["created"]
    [photo] = await _rows(app, ReportPhoto)
    assert photo.status == "pending" and photo.stored_name is None
    assert fake_graph.requests == []  # the webhook itself never waits for the Graph API

    assert await fetcher.drain() == 1
    [photo] = await _rows(app, ReportPhoto)
    assert photo.status == "stored" and photo.media_type == "image/jpeg"
    stored = (settings.photo_dir / photo.stored_name).read_bytes()
    assert b"PhoneMaker" not in stored
    assert fake_graph.requests and all(r.authorized for r in fake_graph.requests)


async def test_a_media_download_that_fails_twice_then_succeeds(app, client, fake_graph, fetcher):
    fake_graph.add_media("MEDIA-2", _jpeg(), "image/jpeg")
    fake_graph.fail_next(2, 500)
    await _post(client, webhook_payload(messages=[image_message(await _sender(app), "MEDIA-2", caption="kijk")]))
    await fetcher.drain()
    [photo] = await _rows(app, ReportPhoto)
    assert photo.status == "stored"


async def test_a_restart_between_report_and_download_resumes_the_download(
        app, client, fake_graph, settings):
    """The first process answers the webhook and dies; a fresh process on the same database fetches."""
    from app.factory import create_app

    fake_graph.add_media("MEDIA-3", _jpeg(), "image/jpeg")
    await _post(client, webhook_payload(messages=[image_message(await _sender(app), "MEDIA-3", caption="x")]))
    # A worker had claimed the row and crashed mid-download: the lease ran out since.
    async with app.state.sessionmaker() as session:
        await session.execute(update(ReportPhoto).values(attempts=1, next_attempt_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    await app.state.engine.dispose()

    restarted = create_app(settings, configure_logs=False)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake_graph))
    client2 = GraphMediaClient("http://graph/v21.0", TEST_SECRETS["whatsapp_access_token"], client=http)
    try:
        assert await MediaFetcher(restarted.state.sessionmaker, settings, client2,
                                  restarted.state.report_intake.photo_stored).drain() == 1
        async with restarted.state.sessionmaker() as session:
            photo = (await session.scalars(select(ReportPhoto))).one()
        assert photo.status == "stored" and photo.attempts == 2
    finally:
        await http.aclose()
        await restarted.state.engine.dispose()


async def test_an_unknown_media_id_fails_the_photo_but_keeps_the_report(app, client, fetcher):
    await _post(client, webhook_payload(messages=[image_message(await _sender(app), "GONE", caption="x")]))
    await fetcher.drain()
    [photo] = await _rows(app, ReportPhoto)
    assert photo.status == "failed" and photo.last_error
    assert len(await _rows(app, Report)) == 1


async def test_photo_and_location_sent_after_a_text_complete_that_report(app, client, fake_graph):
    wa = await _sender(app)
    await _post(client, webhook_payload(messages=[text_message(wa, "Verdachte man bij de garageboxen")]))
    photo = await _post(client, webhook_payload(messages=[image_message(wa, "MEDIA-4")]))
    place = await _post(client, webhook_payload(messages=[location_message(wa, 52.3731, 4.9039, name="Garages")]))
    assert photo.json()["messages"] == ["attached"] and place.json()["messages"] == ["attached"]
    [report] = await _rows(app, Report)
    assert (report.lat, report.lon, report.location_source) == (52.3731, 4.9039, "whatsapp")
    assert [p.media_id for p in await _rows(app, ReportPhoto)] == ["MEDIA-4"]


async def test_a_location_on_its_own_is_a_report_with_coordinates(app, client):
    await _post(client, webhook_payload(messages=[location_message(await _sender(app), 52.3, 4.86,
                                                                   address="Westwijk, Amstelveen")]))
    [report] = await _rows(app, Report)
    assert report.text.startswith("Gedeelde locatie") and report.lat == 52.3


async def test_a_location_at_sea_is_quarantined_with_the_reason(app, client):
    result = await _post(client, webhook_payload(messages=[location_message(await _sender(app), 52.5, 3.5)]))
    assert result.json()["messages"] == ["quarantined"]
    [kept] = await _rows(app, QuarantinedMessage)
    assert kept.reason.startswith("ongeldig")


async def test_status_callbacks_are_stored_once(app, client):
    status = {"id": "wamid.OUT", "status": "delivered", "timestamp": str(int(time.time())),
              "recipient_id": "31612000001", "biz_opaque_callback_data": "delivery:7:1"}
    payload = webhook_payload(statuses=[status])
    assert (await _post(client, payload)).json()["statuses_stored"] == 1
    assert (await _post(client, payload)).json()["statuses_stored"] == 0
    [row] = await _rows(app, WhatsAppStatus)
    assert (row.status, row.callback_data, row.recipient) == ("delivered", "delivery:7:1", "+31612000001")


async def test_malformed_but_signed_payload_is_400(client):
    raw = b'{"object": "whatsapp_business_account", "entry": "nope"}'
    response = await client.post("/webhooks/whatsapp", content=raw,
                                 headers={"X-Hub-Signature-256": compute_signature(raw, SECRET)})
    assert response.status_code == 400 and problem(response)["title"] == "Ongeldig webhookbericht"


async def test_counts_are_consistent_after_a_mixed_batch(app, client):
    wa = await _sender(app)
    payload = webhook_payload(messages=[text_message(wa, "eerste"), text_message(UNKNOWN, "vreemd"),
                                        {"from": wa, "id": "wamid.STICKER", "timestamp": "1", "type": "sticker",
                                         "sticker": {"id": "s"}}])
    assert (await _post(client, payload)).json()["messages"] == ["created", "quarantined", "ignored"]
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count(Report.id))) == 1


async def test_a_photo_that_arrives_later_updates_the_incident_for_the_wall(app, client, fake_graph, fetcher):
    from app.events.models import Event

    fake_graph.add_media("MEDIA-5", _jpeg(), "image/jpeg")
    await _post(client, webhook_payload(messages=[image_message(await _sender(app), "MEDIA-5",
                                                                caption="Nu inbraak bezig, man met breekijzer")]))
    await fetcher.drain()
    events = await _rows(app, Event)
    assert [e.type for e in events][-2:] == ["report.photo_added", "incident.updated"]
    assert events[-1].data["photo"]["photo_id"] == events[-2].data["photo_id"]
