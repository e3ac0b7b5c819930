"""Each principal gets only what its screen needs. Every event type the app emits is made through the real
API (REST intake, the WhatsApp webhook and its media fetcher, operator decisions, an alert and its delivery
worker); then each principal reads it live, replayed after a reconnect and through the polling API, and we
assert which events and which fields reach it. The endpoints a wall or a beheerder may call come after."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from app.broadcast.channels import AppChannel
from app.broadcast.ratelimit import LocalRateLimiter
from app.broadcast.worker import build_worker
from app.core.settings import Settings
from app.events.models import Event
from app.intake.graph_media import GraphMediaClient
from app.intake.media import MediaFetcher
from app.intake.whatsapp import compute_signature
from tests.fakes.graph_api import FakeGraphApi, image_message, location_message, text_message, webhook_payload
from tests.support import builders
from tests.support.broadcast import FAST
from tests.support.http import bearer
from tests.support.settings import TEST_SECRETS

AMS_WIJKEN = ("WK036204", "WK036205")  # Westwijk and Middenhoven, Amstelveen: region AMS
ALMERE = "WK003402"  # Schapenmeent, Almere: region MNL

P1_TEXT = "Er wordt nu ingebroken aan de Zonnestein, twee mannen met een breekijzer"
NOISE_TEXT = "Onze kat Minoes is weggelopen, wie hem ziet: bel Piet Pietersen op 0611223344"
P3_TEXT = ("Vorige week is de schuur van Marie Jansen aan de Kruidenlaan 3 opengebroken, "
           "zij is bereikbaar op 0687654321")
Y_TEXT = "Nu inbraak bezig bij de buren aan de Marktstraat, man met breekijzer"

# What a wall receives, per event type: exactly these fields.
CARD = {"incident_id", "status", "urgency", "category", "offence", "wijkcode", "lat", "lon", "first_report_at",
        "report_count", "group_count", "text", "photo", "follow_up", "result", "claimed_by", "lead_reason"}
CARD_GONE = {"incident_id", "status", "urgency"}
WALL_FIELDS = {"incident.merged": {"incident_id", "into"},
               "broadcast.created": {"broadcast_id", "kind", "wijkcodes", "recipients"},
               "broadcast.progress": {"broadcast_id", "kind", "recipients", "delivered", "forwarded", "done"}}
WALL_TYPES = {"incident.created", "incident.updated", *WALL_FIELDS}
EVERY_STAFF_TYPE = {"report.created", "report.updated", "report.photo_added", "incident.created",
                    "incident.updated", "incident.merged", "broadcast.created", "broadcast.progress"}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The delivery worker's fast test timings (progress events at once); no media fetcher in the served
    app (it would fetch from the real Graph API): the test runs one against the fake."""
    secrets = {**TEST_SECRETS, "whatsapp_access_token": None}
    return Settings(database_url=database_url, environment="test", data_dir=tmp_path / "var", log_json=False,
                    **secrets, **FAST)  # type: ignore[arg-type]


@dataclass
class World:
    ams: int
    mnl: int
    operator: builders.StaffAccount
    admin: builders.StaffAccount
    wall_a: builders.WallAccount
    wall_b: builders.WallAccount
    x: builders.BeheerderAccount  # Westwijk (AMS), alerts in the app
    x2: builders.BeheerderAccount  # Middenhoven (AMS)
    y: builders.BeheerderAccount  # Almere (MNL), reports by WhatsApp


async def _world(app) -> World:
    for code in (*AMS_WIJKEN, ALMERE):
        await builders.wijk(app, code)
    ams, mnl = await builders.region(app, "AMS"), await builders.region(app, "MNL")
    return World(
        ams=ams, mnl=mnl, operator=await builders.staff(app, "operator"), admin=await builders.staff(app, "admin"),
        wall_a=await builders.wall(app, region_code="AMS"), wall_b=await builders.wall(app, region_code="MNL"),
        x=await builders.beheerder(app, wijkcode=AMS_WIJKEN[0], name="Xandra Vermeulen", channels=("app",)),
        x2=await builders.beheerder(app, wijkcode=AMS_WIJKEN[1], name="Xavier de Groot", channels=("app",)),
        y=await builders.beheerder(app, wijkcode=ALMERE, name="Yvonne Bakker", channels=("app",)))


async def _report(client, beheerder: builders.BeheerderAccount, text: str) -> dict[str, Any]:
    response = await client.post("/api/v1/reports", headers=bearer(beheerder.token),
                                 json={"text": text, "group_id": beheerder.group_ids[0]})
    assert response.status_code == 201, response.text
    report: dict[str, Any] = response.json()
    return report


async def _incident_of(client, world: World, report_id: int) -> dict[str, Any]:
    """The incident that holds a report, as the operator's queue shows it."""
    queue = (await client.get("/api/v1/queue", params={"status": "", "limit": 200},
                              headers=bearer(world.operator.token))).json()["items"]
    found: dict[str, Any] = next(i for i in queue if report_id in {r["id"] for r in i["reports"]})
    return found


async def _whatsapp(client, payload: dict[str, Any]) -> list[str]:
    raw = json.dumps(payload).encode()
    response = await client.post("/webhooks/whatsapp", content=raw, headers={
        "Content-Type": "application/json",
        "X-Hub-Signature-256": compute_signature(raw, TEST_SECRETS["whatsapp_app_secret"])})
    assert response.status_code == 200, response.text
    outcomes: list[str] = response.json()["messages"]
    return outcomes


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


async def _fetch_media(app, settings: Settings, fake: FakeGraphApi) -> None:
    async def no_sleep(_seconds: float) -> None:
        return None

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake), base_url="http://graph") as http:
        client = GraphMediaClient("http://graph/v21.0", TEST_SECRETS["whatsapp_access_token"], client=http,
                                  sleep=no_sleep)
        await MediaFetcher(app.state.sessionmaker, settings, client, app.state.photo_pool, app.state.photo_budget,
                           app.state.report_intake.photo_stored).drain()


async def _every_event_type(app, client, settings: Settings, world: World) -> dict[str, dict[str, Any]]:
    """Makes every kind of event through the API; returns the incidents involved, by name."""
    operator = bearer(world.operator.token)
    p1 = await _incident_of(client, world, (await _report(client, world.x, P1_TEXT))["id"])
    noise = await _incident_of(client, world, (await _report(client, world.x, NOISE_TEXT))["id"])
    p3 = await _incident_of(client, world, (await _report(client, world.x2, P3_TEXT))["id"])
    assert (p1["urgency"], noise["urgency"], p3["urgency"]) == ("P1", "none", "P3")
    assert (await client.post(f"/api/v1/incidents/{p1['id']}/claim", headers=operator)).status_code == 200
    merged = await client.post(f"/api/v1/incidents/{p1['id']}/merge", json={"incident_ids": [noise["id"]]},
                               headers=operator)
    assert merged.status_code == 200, merged.text

    fake = FakeGraphApi(access_token=TEST_SECRETS["whatsapp_access_token"])
    fake.add_media("MEDIA-Y", _jpeg(), "image/jpeg")
    y_phone = str(world.y.phone).lstrip("+")
    assert await _whatsapp(client, webhook_payload(messages=[text_message(y_phone, Y_TEXT)])) == ["created"]
    assert await _whatsapp(client, webhook_payload(messages=[image_message(y_phone, "MEDIA-Y")])) == ["attached"]
    await _fetch_media(app, settings, fake)
    assert await _whatsapp(client, webhook_payload(messages=[location_message(y_phone, 52.3445, 5.2186)])) == [
        "attached"]

    alert = {"kind": "heterdaad", "text": "Inbraak in een woning aan de Zonnestein, twee personen vluchten te voet.",
             "target": {"wijkcodes": [AMS_WIJKEN[0]]}}
    sent = await client.post("/api/v1/broadcasts", json=alert, headers=operator)
    assert sent.status_code == 201, sent.text
    worker = build_worker(app.state.sessionmaker, settings, channels={"app": AppChannel()},
                          limiter=LocalRateLimiter())
    await worker.drain()
    closed = await client.patch(f"/api/v1/incidents/{p1['id']}", headers=operator,
                                json={"follow_up": "ter_plaatse", "close": True})
    assert closed.status_code == 200, closed.text
    return {"p1": p1, "noise": noise, "p3": p3}


async def _rows(app) -> list[Event]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(Event).where(Event.audience != "system")
                                           .order_by(Event.id))).all())


def _expected_ids(rows: list[Event], world: World) -> dict[str, list[int]]:
    """Which events each principal receives, from the event rows themselves."""
    staff = [e for e in rows if e.audience == "staff"]

    def of_wall(region_id: int) -> list[int]:
        return [e.id for e in staff if e.type in WALL_TYPES and e.region_id in (region_id, None)]

    def addressed_to(beheerder: builders.BeheerderAccount) -> list[int]:
        return [e.id for e in rows if e.audience == f"beheerder:{beheerder.id}"]

    return {"operator": [e.id for e in staff], "admin": [e.id for e in staff], "wall A": of_wall(world.ams),
            "wall B": of_wall(world.mnl), "beheerder X": addressed_to(world.x),
            "beheerder X2": addressed_to(world.x2), "beheerder Y": addressed_to(world.y)}


def _wall_fields(event: dict[str, Any]) -> set[str]:
    """The fields a wall may receive of this event."""
    if event["type"] in ("incident.created", "incident.updated"):
        data = event["data"]
        return CARD if data["status"] == "open" and data["urgency"] in ("P1", "P2") else CARD_GONE
    return WALL_FIELDS[event["type"]]


def _assert_nothing_of(events: list[dict[str, Any]], *secrets: str) -> None:
    text = json.dumps(events, ensure_ascii=False)
    for secret in secrets:
        assert secret not in text, secret


async def test_each_principal_receives_only_the_events_and_fields_its_screen_needs(
        app, client, settings, open_stream):
    world = await _world(app)
    tokens = {"operator": world.operator.token, "admin": world.admin.token, "wall A": world.wall_a.token,
              "wall B": world.wall_b.token, "beheerder X": world.x.token, "beheerder X2": world.x2.token,
              "beheerder Y": world.y.token}
    streams = {name: await open_stream(token) for name, token in tokens.items()}
    incidents = await _every_event_type(app, client, settings, world)
    rows = await _rows(app)
    assert {e.type for e in rows if e.audience == "staff"} == EVERY_STAFF_TYPE
    expected = _expected_ids(rows, world)

    seen: dict[str, list[dict[str, Any]]] = {}
    for name, stream in streams.items():
        seen[name] = await stream.events(len(expected[name]), within=10)
        assert [e["id"] for e in seen[name]] == expected[name], name
        await stream.nothing_more()
        replayed = await open_stream(tokens[name], last_event_id=0)  # a reconnect from the start: the same
        assert await replayed.events(len(expected[name]), within=10) == seen[name], name
        await replayed.nothing_more(0.1)
        if not name.startswith("beheerder"):
            polled = (await client.get("/api/v1/events", params={"limit": 500}, headers=bearer(tokens[name]))).json()
            assert polled["events"] == seen[name] and polled["has_more"] is False, name

    # Staff keep everything, whole: the raw reports with their text and group.
    assert seen["operator"] == seen["admin"]
    reports = [e["data"] for e in seen["operator"] if e["type"] == "report.created"]
    assert {r["text"] for r in reports} >= {P1_TEXT, NOISE_TEXT, P3_TEXT} and all("group_name" in r for r in reports)

    # Walls: incident cards of open P1/P2, notices to drop a card, the alerts panel; only the listed fields.
    p1, p3, noise = incidents["p1"]["id"], incidents["p3"]["id"], incidents["noise"]["id"]
    for name in ("wall A", "wall B"):
        assert {e["type"] for e in seen[name]} <= WALL_TYPES, name
        for event in seen[name]:
            assert set(event["data"]) == _wall_fields(event), (name, event)
    wall_a = seen["wall A"]
    cards = [e["data"] for e in wall_a if set(e["data"]) == CARD]
    assert cards and {c["incident_id"] for c in cards} == {p1} and cards[-1]["text"] == P1_TEXT
    assert {c["claimed_by"] for c in cards} == {None, "operator"}  # the wall shows who handles it
    gone = {e["data"]["incident_id"]: e["data"]["status"] for e in wall_a if set(e["data"]) == CARD_GONE}
    assert gone == {noise: "open", p3: "open", p1: "closed"}
    assert [e["data"] for e in wall_a if e["type"] == "incident.merged"] == [{"incident_id": noise, "into": p1}]
    assert {e["type"] for e in wall_a if e["type"].startswith("broadcast.")} == {"broadcast.created",
                                                                                 "broadcast.progress"}
    _assert_nothing_of(wall_a, NOISE_TEXT[:20], "Pietersen", "0611223344", "Marie Jansen", "0687654321",
                       "Kruidenlaan", *_identities(world), "Marktstraat")

    # Region B's wall sees its own P1 (with its photo), nothing of region A.
    wall_b = seen["wall B"]
    [y_incident] = {e["data"]["incident_id"] for e in wall_b}
    assert y_incident not in (p1, p3, noise) and any(e["data"].get("photo") for e in wall_b)
    assert all(e["type"].startswith("incident.") for e in wall_b)
    _assert_nothing_of(wall_b, "Zonnestein", NOISE_TEXT[:20], "Marie Jansen", *_identities(world))

    # Beheerders: their own alert and terugkoppeling, nobody else's.
    assert {e["type"] for e in seen["beheerder X"]} == {"alert", "feedback"}
    assert seen["beheerder X2"] == [] and seen["beheerder Y"] == []


def _identities(world: World) -> list[str]:
    """Beheerders' names and phone numbers, in the forms they could leak in."""
    found: list[str] = []
    for beheerder in (world.x, world.x2, world.y):
        found += [beheerder.name, str(beheerder.phone), str(beheerder.phone).lstrip("+")]
    return found


async def _hotspot(client, wijkagent: builders.StaffAccount, code: str, wijkcode: str, lat: float,
                   lon: float) -> None:
    response = await client.post("/api/v1/hotspots", headers=bearer(wijkagent.token), json={
        "code": code, "name": f"Hotspot {code}", "wijkcode": wijkcode, "lat": lat, "lon": lon, "radius_m": 300,
        "offences": ["autokraak"], "hot_times": ["22:00-04:00"]})
    assert response.status_code == 201, response.text


def _regions_on_map(collection: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The wijken and hotspot codes of a map."""
    features = [f["properties"] for f in collection["features"]]
    return ({f["wijkcode"] for f in features if f["kind"] == "wijk"},
            {f["code"] for f in features if f["kind"] == "hotspot"})


async def test_a_wall_reads_its_regions_cards_map_and_counters_and_nothing_else(app, client):
    world = await _world(app)
    await _hotspot(client, await builders.staff(app, "wijkagent"), "HS-WW", AMS_WIJKEN[0], 52.2894, 4.8141)
    x_report = await _report(client, world.x, P1_TEXT)
    await _report(client, world.x2, P3_TEXT)
    await _report(client, world.y, Y_TEXT)
    wall_a, wall_b = bearer(world.wall_a.token), bearer(world.wall_b.token)

    [card] = (await client.get("/api/v1/wall/cards", headers=wall_a)).json()["items"]
    assert set(card) == CARD and card["text"] == P1_TEXT and card["wijkcode"] == AMS_WIJKEN[0]
    [other] = (await client.get("/api/v1/wall/cards", headers=wall_b)).json()["items"]
    assert other["text"] == Y_TEXT and other["incident_id"] != card["incident_id"]
    assert (await client.get("/api/v1/map", headers=wall_a)).json() == (
        await client.get("/api/v1/map", params={"region": "AMS"}, headers=bearer(world.operator.token))).json()
    assert _regions_on_map((await client.get("/api/v1/map", params={"region": "MNL"}, headers=wall_a)).json()) == (
        set(AMS_WIJKEN), {"HS-WW"})
    unknown = await client.get("/api/v1/map", params={"region": "XYZ"}, headers=bearer(world.operator.token))
    assert unknown.json()["features"] == []  # not every region
    counters = (await client.get("/api/v1/stats/overview", headers=wall_a)).json()
    assert counters == {"open_p1": 1, "open_p2": 0, "open_p3": 1, "reports_today": 2}

    incident_id = card["incident_id"]
    for path in ("/api/v1/queue", f"/api/v1/incidents/{incident_id}", f"/api/v1/reports/{x_report['id']}",
                 "/api/v1/hotspots", "/api/v1/signalementen", "/api/v1/broadcasts", "/api/v1/me",
                 f"/api/v1/reports/{x_report['id']}/photos/1"):
        assert (await client.get(path, headers=wall_a)).status_code == 403, path


async def test_a_beheerder_reads_only_its_own_regions_map_groups_and_reports(app, client):
    world = await _world(app)
    wijkagent = await builders.staff(app, "wijkagent")
    await _hotspot(client, wijkagent, "HS-WW", AMS_WIJKEN[0], 52.2894, 4.8141)
    await _hotspot(client, wijkagent, "HS-AL", ALMERE, 52.3445, 5.2186)
    x = bearer(world.x.token)

    assert _regions_on_map((await client.get("/api/v1/map", headers=x)).json()) == (set(AMS_WIJKEN), {"HS-WW"})
    assert _regions_on_map((await client.get("/api/v1/map", params={"region": "MNL"}, headers=x)).json()) == (
        set(AMS_WIJKEN), {"HS-WW"})  # asking for another region changes nothing
    assert _regions_on_map((await client.get("/api/v1/map", headers=bearer(world.y.token))).json()) == (
        {ALMERE}, {"HS-AL"})
    both = await builders.beheerder(app, group_ids=[world.x.group_ids[0], world.y.group_ids[0]])
    assert _regions_on_map((await client.get("/api/v1/map", headers=bearer(both.token))).json()) == (
        {*AMS_WIJKEN, ALMERE}, {"HS-WW", "HS-AL"})  # a superbeheerder across two regions sees both
    assert _regions_on_map((await client.get("/api/v1/map", headers=bearer(world.operator.token))).json()) == (
        {*AMS_WIJKEN, ALMERE}, {"HS-WW", "HS-AL"})

    # The group X shares with `both`: X sees its group, not who else runs it; the admin does.
    group_id = world.x.group_ids[0]
    me = (await client.get("/api/v1/me", headers=x)).json()
    assert [set(g) for g in me["groups"]] == [{"id", "name", "wijkcode", "wijk_name", "member_count", "active"}]
    assert "beheerder_ids" not in (await client.get(f"/api/v1/me/groups/{group_id}", headers=x)).json()
    admin_view = (await client.get(f"/api/v1/admin/groups/{group_id}", headers=bearer(world.admin.token))).json()
    assert admin_view["beheerder_ids"] == sorted([world.x.id, both.id])

    mine, theirs = await _report(client, world.x, P1_TEXT), await _report(client, world.x2, P3_TEXT)
    listed = (await client.get("/api/v1/reports", headers=x)).json()["items"]
    assert [r["id"] for r in listed] == [mine["id"]]
    assert (await client.get(f"/api/v1/reports/{theirs['id']}", headers=x)).status_code == 404
    for path in ("/api/v1/events", "/api/v1/queue", "/api/v1/wall/cards", "/api/v1/hotspots",
                 "/api/v1/stats/overview", f"/api/v1/incidents/{mine['id']}", "/api/v1/broadcasts"):
        assert (await client.get(path, headers=x)).status_code == 403, path
