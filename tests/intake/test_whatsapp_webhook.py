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

from app.audit.models import AuditEntry
from app.broadcast.models import Delivery
from app.core.database import utcnow
from app.intake.graph_media import GraphMediaClient
from app.intake.media import MediaFetcher
from app.intake.models import QuarantinedMessage, Report, ReportPhoto, WhatsAppStatus
from app.intake.ratelimit import PixelBudget
from app.intake.whatsapp import compute_signature
from app.registry.models import Beheerder, Street, Wijk
from tests.fakes.graph_api import (
    FakeGraphApi,
    contact,
    image_message,
    location_message,
    text_message,
    webhook_payload,
)
from tests.support import builders
from tests.support.http import bearer, login, problem
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
    media_fetcher = MediaFetcher(app.state.sessionmaker, settings, client, app.state.photo_pool, app.state.photo_budget,
                                 app.state.report_intake.photo_stored)
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


async def test_a_photo_over_the_senders_pixel_budget_waits_instead_of_failing(app, client, fake_graph, fetcher,
                                                                             settings):
    # Room for one photo's reservation a minute, on a clock that stands still: nothing refills meanwhile.
    fetcher.budget = PixelBudget(settings.photo_max_pixels, clock=lambda: 0.0)
    wa = await _sender(app)
    for media in ("MEDIA-B1", "MEDIA-B2"):
        fake_graph.add_media(media, _jpeg(), "image/jpeg")
        await _post(client, webhook_payload(messages=[image_message(wa, media, caption=f"foto {media}",
                                                                    message_id=f"wamid.{media}")]))

    await fetcher.drain()

    first, second = await _rows(app, ReportPhoto)
    assert first.status == "stored"
    assert second.status == "pending" and second.attempts == 0 and second.last_error is None


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
        assert await MediaFetcher(restarted.state.sessionmaker, settings, client2, restarted.state.photo_pool,
                                  restarted.state.photo_budget, restarted.state.report_intake.photo_stored).drain() == 1
        async with restarted.state.sessionmaker() as session:
            photo = (await session.scalars(select(ReportPhoto))).one()
        assert photo.status == "stored" and photo.attempts == 2
    finally:
        await http.aclose()
        await restarted.state.photo_pool.aclose()
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


# --- a beheerder with several groups: the report goes in, its group is chosen afterwards ------------------

BSUID = "NL.1502576394655843"
MIDDENHOVEN = "WK036205"


async def _superbeheerder(app, *wijkcodes: str) -> builders.BeheerderAccount:
    """A beheerder of a new group in each of these wijken (a town district's superbeheerder runs ninety)."""
    return await builders.beheerder(app, group_ids=[(await builders.group(app, wijkcode=code)).id
                                                    for code in wijkcodes])


async def _spread_over_two_wijken(client, demo) -> tuple[dict, dict]:
    """The demo's superbeheerder also gets a group in another wijk; returns the beheerder and that group."""
    beheerder = next(b for b in demo["beheerders"] if len(b["group_ids"]) > 1)
    admin = await login(client, demo["admin"])
    groups = (await client.get("/api/v1/admin/groups", params={"limit": 200}, headers=admin)).json()["items"]
    own_wijken = {g["wijkcode"] for g in groups if g["id"] in beheerder["group_ids"]}
    other = next(g for g in groups if g["wijkcode"] not in own_wijken)
    response = await client.patch(f"/api/v1/admin/beheerders/{beheerder['id']}", headers=admin,
                                  json={"group_ids": [*beheerder["group_ids"], other["id"]]})
    assert response.status_code == 200, response.text
    return beheerder, other


async def _street_in(app, wijkcode: str) -> str:
    """A street of this wijk whose name occurs nowhere else, so that the text alone places it."""
    async with app.state.sessionmaker() as session:
        names = (await session.execute(select(Street.name, Wijk.code).join(Wijk))).all()
    count: dict[str, int] = {}
    for name, _ in names:
        count[name] = count.get(name, 0) + 1
    return next(name for name, code in sorted(names) if code == wijkcode and count[name] == 1 and len(name) > 6)


async def _questions(app, report_id: int) -> list[str]:
    return [row.body for row in await _rows(app, Delivery, Delivery.report_id == report_id,
                                            Delivery.purpose == "group_question")]


async def test_a_superbeheerders_report_goes_in_and_their_numeric_reply_chooses_the_group(app, client):
    beheerder = await _superbeheerder(app, builders.WESTWIJK, builders.WESTWIJK, MIDDENHOVEN)
    wa = _wa_id(beheerder)
    created = await _post(client, webhook_payload(messages=[text_message(wa, "Man kijkt bij de schuurtjes naar binnen",
                                                                         message_id="wamid.SUPER1")]))
    assert created.json()["messages"] == ["created"]
    assert await _rows(app, QuarantinedMessage) == []
    [report] = await _rows(app, Report)
    assert report.group_pending and report.group_id is None and report.source_wijk_code is None
    assert sorted(report.group_choices) == sorted(beheerder.group_ids)
    assert report.urgency in ("P2", "P3") and report.wijk_code is None  # no place in the text: wijk unknown
    [question] = await _questions(app, report.id)
    assert f"melding {report.case_number}" in question and "(1-3)" in question and "\n2. Testgroep" in question

    chosen = report.group_choices[1]
    answer = await _post(client, webhook_payload(messages=[text_message(wa, "2", message_id="wamid.SUPER2")]))

    assert answer.json()["messages"] == ["group_chosen"]
    [report] = await _rows(app, Report)  # the "2" is not a report of its own
    assert report.group_id == chosen and not report.group_pending
    assert report.source_wijk_code is not None and report.wijk_code == report.source_wijk_code
    assert any(body.startswith("Dank u.") for body in await _questions(app, report.id))
    [entry] = await _rows(app, AuditEntry, AuditEntry.action == "report.group")
    assert entry.actor_type == "beheerder" and entry.actor_id == beheerder.id and entry.target_id == str(report.id)
    assert entry.actor_name is None  # a private person: the id names them until an erasure, the log never does
    operator = bearer((await builders.staff(app, "operator")).token)
    incident = (await client.get(f"/api/v1/incidents/{report.incident_id}", headers=operator)).json()
    assert incident["group_count"] == 1 and incident["reports"][0]["group_id"] == chosen
    assert incident["wijkcode"] == report.source_wijk_code  # the incident had no wijk: it takes the group's


async def test_the_wijk_named_in_the_text_is_used_and_its_groups_are_offered_first(app, client, demo):
    beheerder, other = await _spread_over_two_wijken(client, demo)
    street = await _street_in(app, other["wijkcode"])
    text = f"Er wordt nu ingebroken aan de {street} 12, twee mannen met een breekijzer"
    await _post(client, webhook_payload(messages=[text_message(beheerder["phone"].lstrip("+"), text)]))
    [report] = await _rows(app, Report)
    assert report.group_pending and report.wijk_code == other["wijkcode"]
    assert report.urgency == "P1"  # triage works from the text; an unknown group costs it nothing
    assert report.group_choices[0] == other["id"]
    assert f"1. {other['name']}" in (await _questions(app, report.id))[0]


async def test_a_number_that_is_not_offered_asks_again_and_changes_nothing(app, client):
    wa = _wa_id(await _superbeheerder(app, builders.WESTWIJK, MIDDENHOVEN))
    await _post(client, webhook_payload(messages=[text_message(wa, "Verdacht busje rijdt stapvoets rond")]))
    answer = await _post(client, webhook_payload(messages=[text_message(wa, "9")]))
    assert answer.json()["messages"] == ["group_asked"]
    [report] = await _rows(app, Report)
    assert report.group_pending
    assert any("Nummer 9 staat niet in de lijst" in body for body in await _questions(app, report.id))


async def test_an_operator_chooses_the_group_from_the_incident_and_it_is_audited(app, client):
    beheerder = await _superbeheerder(app, builders.WESTWIJK, builders.WESTWIJK, MIDDENHOVEN)
    await _post(client, webhook_payload(messages=[text_message(_wa_id(beheerder), "Inbraak bij de buren, nu")]))
    [report] = await _rows(app, Report)
    operator = bearer((await builders.staff(app, "operator")).token)
    queued = (await client.get(f"/api/v1/incidents/{report.incident_id}", headers=operator)).json()["reports"][0]
    assert queued["group_pending"] and {c["id"] for c in queued["group_choices"]} == set(beheerder.group_ids)
    assert all(c["name"] for c in queued["group_choices"])
    foreign = (await builders.group(app)).id

    refused = await client.patch(f"/api/v1/reports/{report.id}", headers=operator, json={"group_id": foreign})
    as_beheerder = await client.patch(f"/api/v1/reports/{report.id}", headers=bearer(beheerder.token),
                                      json={"group_id": beheerder.group_ids[0]})
    chosen = await client.patch(f"/api/v1/reports/{report.id}", headers=operator,
                                json={"group_id": beheerder.group_ids[2]})

    assert refused.status_code == 422 and problem(refused)["field"] == "group_id"
    assert as_beheerder.status_code == 403
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["group_id"] == beheerder.group_ids[2] and not chosen.json()["group_pending"]
    assert chosen.json()["wijkcode"] == MIDDENHOVEN
    incident = (await client.get(f"/api/v1/incidents/{report.incident_id}", headers=operator)).json()
    assert incident["group_count"] == 1 and incident["reports"][0]["group_name"]
    [entry] = await _rows(app, AuditEntry, AuditEntry.action == "report.group")
    assert entry.actor_type == "staff" and entry.detail["group_id"] == beheerder.group_ids[2]


async def test_the_rest_intake_still_asks_the_caller_to_name_the_group(app, client):
    beheerder = await _superbeheerder(app, builders.WESTWIJK, MIDDENHOVEN)
    response = await client.post("/api/v1/reports", headers=bearer(beheerder.token), json={"text": "Inbraak"})
    assert response.status_code == 422 and problem(response)["code"] == "group_required"


async def test_texts_up_to_whatsapps_4096_characters_go_in_whole(app, client):
    text = ("Lange melding met veel details over wat er gebeurde 🚲. " * 80)[:4096]
    assert len(text) == 4096
    answer = await _post(client, webhook_payload(messages=[text_message(await _sender(app), text)]))
    assert answer.json()["messages"] == ["created"]
    [report] = await _rows(app, Report)
    assert report.text_original == text and len(report.text) == 4096


# --- senders known by WhatsApp's business-scoped user id (BSUID) ---------------------------------------


def _from_user_id_only(message: dict, user_id: str) -> dict:
    """The message of a sender who hides their number (WhatsApp usernames): no "from", only the BSUID."""
    message = dict(message)
    del message["from"]
    message["from_user_id"] = user_id
    return message


async def test_a_message_with_number_and_bsuid_links_them_and_later_the_bsuid_alone_is_enough(app, client):
    beheerder = await builders.beheerder(app)
    wa = _wa_id(beheerder)
    linked = webhook_payload(contacts=[{**contact(wa, "Buurtapp"), "user_id": BSUID}],
                             messages=[text_message(wa, "Fietsendief bij het station")])
    assert (await _post(client, linked)).json()["messages"] == ["created"]
    [row] = await _rows(app, Beheerder, Beheerder.id == beheerder.id)
    assert row.whatsapp_user_id == BSUID

    hidden = _from_user_id_only(text_message(wa, "Nog steeds bezig bij de fietsenstalling"), BSUID)
    answer = await _post(client, webhook_payload(contacts=[{"profile": {"name": "Buurtapp"}, "user_id": BSUID}],
                                                 messages=[hidden]))
    assert answer.json()["messages"] == ["created"]
    assert {r.beheerder_id for r in await _rows(app, Report)} == {beheerder.id}


async def test_an_unlinked_bsuid_is_quarantined_until_an_admin_links_it(app, client):
    beheerder, other = await builders.beheerder(app), await builders.beheerder(app)
    message = _from_user_id_only(text_message(_wa_id(beheerder), "Verdachte auto", message_id="wamid.B1"), BSUID)
    assert (await _post(client, webhook_payload(messages=[message]))).json()["messages"] == ["quarantined"]
    [kept] = await _rows(app, QuarantinedMessage)
    assert kept.sender == BSUID and "BSUID" in kept.reason

    admin = bearer((await builders.staff(app, "admin")).token)
    bad = await client.patch(f"/api/v1/admin/beheerders/{beheerder.id}", headers=admin,
                             json={"whatsapp_user_id": "not-a-bsuid"})
    linked = await client.patch(f"/api/v1/admin/beheerders/{beheerder.id}", headers=admin,
                                json={"whatsapp_user_id": BSUID})
    taken = await client.patch(f"/api/v1/admin/beheerders/{other.id}", headers=admin,
                               json={"whatsapp_user_id": BSUID})
    assert bad.status_code == 422 and problem(bad)["field"] == "whatsapp_user_id"
    assert linked.status_code == 200 and linked.json()["whatsapp_user_id"] == BSUID
    assert taken.status_code == 409 and problem(taken)["field"] == "whatsapp_user_id"

    again = _from_user_id_only(text_message(_wa_id(beheerder), "Verdachte auto", message_id="wamid.B2"), BSUID)
    assert (await _post(client, webhook_payload(messages=[again]))).json()["messages"] == ["created"]
    [report] = await _rows(app, Report)
    assert report.beheerder_id == beheerder.id
