"""Sending alerts: who gets them, the privacy check, the role rules and Dutch problem+json for bad input."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.broadcast.models import Delivery
from app.broadcast.router import alerts_router
from app.broadcast.router import router as broadcast_router
from app.core.deps import RoleGuard
from app.events.models import Event
from tests.support import builders
from tests.support.broadcast import WESTWIJK, add_beheerders, deliver, wijk_beheerders
from tests.support.http import bearer, login, problem

WW_CENTRE = {"lat": 52.289369, "lon": 4.814125}  # inside Westwijk, away from its borders
WW_MIDDENHOVEN_BORDER = {"lat": 52.291411, "lon": 4.83799}


def alert(kind: str = "heterdaad", text: str = "Inbraak in een woning, twee personen vluchten te voet richting "
          "het Westwijkplein. Bel 112 als u iets ziet.", **target: Any) -> dict[str, Any]:
    return {"kind": kind, "text": text, "target": target or {"wijkcodes": [WESTWIJK]}}


async def _operator(app) -> dict[str, str]:
    return bearer((await builders.staff(app, "operator")).token)


async def _count(app, model, *where) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_all_26_westwijk_beheerders_receive_exactly_one_message(app, client, worker, fake):
    await builders.wijk(app, WESTWIJK)
    await add_beheerders(app, WESTWIJK, 26)
    operator = await _operator(app)

    response = await client.post("/api/v1/broadcasts", json=alert(), headers=operator)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["progress"]["recipients"] == 26 and body["per_channel"] == {"whatsapp": 26}
    await deliver(worker, fake)

    counts = fake.count_by_recipient()
    assert len(counts) == 26 and set(counts.values()) == {1}
    assert fake.distinct_callback_data() == 26 and fake.rejected == []
    detail = (await client.get(f"/api/v1/broadcasts/{body['id']}", headers=operator)).json()
    assert detail["progress"] | {"pending": 0} == {
        "recipients": 26, "pending": 0, "sent": 26, "delivered": 26, "read": 0, "forwarded": 0, "failed": 0,
        "done": True}
    assert detail["failed_deliveries"] == [] and detail["finished_at"] is not None
    assert "HETERDAAD" in detail["message"] and "Westwijkplein" in detail["message"]


async def test_preview_shows_recipients_per_channel_and_warnings_and_sends_nothing(app, client):
    westwijk = [await builders.beheerder(app, wijkcode=WESTWIJK) for _ in range(3)]
    await builders.beheerder(app, wijkcode="WK036205")
    operator = await _operator(app)
    response = await client.post("/api/v1/broadcasts/preview", headers=operator, json=alert(
        "signalement", "Gezocht: grijze auto met kenteken 12-ABC-3, bestuurder belde bij huizen aan."))

    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["recipients"] == len(westwijk) and preview["per_channel"] == {"whatsapp": len(westwijk)}
    assert {r["beheerder_id"] for r in preview["recipient_list"]} == {b.id for b in westwijk}
    assert [w["code"] for w in preview["warnings"]] == ["kenteken"]
    assert preview["warnings"][0]["matches"] == ["12-ABC-3"]
    assert preview["wijkcodes"] == [WESTWIJK] and preview["gemeentecodes"] == ["GM0362"]
    assert "SIGNALEMENT" in preview["message"] and not preview["needs_specialist"]
    assert await _count(app, Delivery) == 0


async def test_a_circle_reaches_every_wijk_it_touches(client, demo):
    operator = await login(client, demo["operator"])

    async def wijken(**circle: float) -> list[str]:
        response = await client.post("/api/v1/broadcasts/preview", headers=operator,
                                     json=alert("informatie", "Let op: extra surveillance.", circle=circle))
        assert response.status_code == 200, response.text
        codes: list[str] = response.json()["wijkcodes"]
        return codes

    assert await wijken(**WW_CENTRE, radius_m=200) == [WESTWIJK]
    assert await wijken(**WW_MIDDENHOVEN_BORDER, radius_m=150) == [WESTWIJK, "WK036205"]
    assert set(await wijken(**WW_MIDDENHOVEN_BORDER, radius_m=3000)) == {WESTWIJK, "WK036205", "WK036206"}
    flat = await client.post("/api/v1/broadcasts/preview", headers=operator, json=alert(
        "informatie", "Let op.", lat=WW_CENTRE["lat"], lon=WW_CENTRE["lon"], radius_m=200))
    assert flat.json()["wijkcodes"] == [WESTWIJK]

    nowhere = await client.post("/api/v1/broadcasts/preview", headers=operator, json=alert(
        "informatie", "Let op.", circle={"lat": 52.21, "lon": 5.02, "radius_m": 500}))
    assert nowhere.status_code == 422 and problem(nowhere)["code"] == "empty_target"


async def test_a_privacy_warning_blocks_sending_until_confirmed_and_the_override_is_audited(app, client):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    operator = await _operator(app)
    text = "Man met donkere jas probeert autodeuren te openen, gezien bij Kastanjelaan 12. Info: 06-12345678."

    blocked = await client.post("/api/v1/broadcasts", headers=operator, json=alert("waarschuwing", text))
    assert blocked.status_code == 422
    body = problem(blocked)
    assert body["title"] == "Privacywaarschuwing" and body["code"] == "privacy_warnings"
    assert {w["code"] for w in body["warnings"]} == {"telefoonnummer", "huisnummer"}
    assert all(w["message"] for w in body["warnings"])
    assert await _count(app, Delivery) == 0

    partly = await client.post("/api/v1/broadcasts", headers=operator,
                               json={**alert("waarschuwing", text), "confirm_warnings": ["telefoonnummer"]})
    assert partly.status_code == 422 and [w["code"] for w in problem(partly)["warnings"]] == ["huisnummer"]

    sent = await client.post("/api/v1/broadcasts", headers=operator, json={
        **alert("waarschuwing", text), "confirm_warnings": ["telefoonnummer", "huisnummer"]})
    assert sent.status_code == 201, sent.text
    assert sent.json()["confirmed_warnings"] == ["telefoonnummer", "huisnummer"]
    async with app.state.sessionmaker() as session:
        override = await session.scalar(select(AuditEntry).where(AuditEntry.action == "broadcast.privacy_override"))
    assert override is not None and override.actor_name and override.target_id == str(sent.json()["id"])
    assert override.detail == {"warnings": ["telefoonnummer", "huisnummer"]}
    assert "06-12345678" not in str(override.detail)


async def test_looks_or_origin_without_behaviour_is_a_warning(app, client):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    operator = await _operator(app)
    response = await client.post("/api/v1/broadcasts", headers=operator, json=alert(
        "signalement", "Twee mannen die eruitzien als Roemenen lopen door de wijk."))
    assert response.status_code == 422
    assert [w["code"] for w in problem(response)["warnings"]] == ["uiterlijk"]


async def test_role_rules(client, demo):
    wijkagent = await login(client, demo["wijkagent"])
    operator = await login(client, demo["operator"])
    specialist = await login(client, demo["specialist"])

    kind = await client.post("/api/v1/broadcasts", headers=wijkagent, json=alert("heterdaad"))
    assert kind.status_code == 403
    assert problem(kind)["code"] == "kind_not_allowed" and "informatie en waarschuwing" in problem(kind)["detail"]
    elsewhere = await client.post("/api/v1/broadcasts", headers=wijkagent, json=alert(
        "informatie", "Extra surveillance vanavond.", wijkcodes=["WK036301"]))
    assert elsewhere.status_code == 403 and problem(elsewhere)["code"] == "wijk_not_allowed"
    own = await client.post("/api/v1/broadcasts", headers=wijkagent, json=alert(
        "informatie", "Extra surveillance vanavond in Westwijk en Middenhoven.", wijkcodes=[WESTWIJK, "WK036205"]))
    assert own.status_code == 201, own.text

    two_gemeenten = alert("vermissing", "Vermist: jongen van 8 met rode jas, laatst gezien bij het winkelcentrum.",
                          gemeentecodes=["GM0362", "GM0363"])
    refused = await client.post("/api/v1/broadcasts", headers=operator, json=two_gemeenten)
    assert refused.status_code == 403 and problem(refused)["code"] == "specialist_required"
    assert problem(refused)["title"] == "Geen toegang"
    preview = await client.post("/api/v1/broadcasts/preview", headers=operator, json=two_gemeenten)
    assert preview.status_code == 200 and preview.json()["needs_specialist"] is True
    allowed = await client.post("/api/v1/broadcasts", headers=specialist, json=two_gemeenten)
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["gemeentecodes"] == ["GM0362", "GM0363"]

    analyst = await login(client, demo["analyst"])
    assert (await client.post("/api/v1/broadcasts", headers=analyst, json=alert())).status_code == 403
    beheerder = bearer(demo["beheerders"][0]["token"])
    assert (await client.post("/api/v1/broadcasts", headers=beheerder, json=alert())).status_code == 403
    assert (await client.get("/api/v1/broadcasts", headers=beheerder)).status_code == 403
    client.cookies.clear()  # the logins above left a session cookie
    assert (await client.post("/api/v1/broadcasts", json=alert())).status_code == 401


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "paniek", "text": "x", "target": {"wijkcodes": [WESTWIJK]}}, "kind"),
    ({"kind": "informatie", "text": "   ", "target": {"wijkcodes": [WESTWIJK]}}, "text"),
    ({"kind": "informatie", "text": "x", "target": {}}, "target"),
    ({"kind": "informatie", "text": "x", "target": {"wijkcodes": ["WK999999"]}}, "target.wijkcodes[0]"),
    ({"kind": "informatie", "text": "x", "target": {"gemeentecodes": ["GM9999"]}}, "target.gemeentecodes[0]"),
    ({"kind": "informatie", "text": "x", "target": {"circle": {"lat": 52.3, "lon": 4.8, "radius_m": 90000}}},
     "target.circle.radius_m"),
    ({"kind": "informatie", "text": "x", "target": {"lat": 52.3, "radius_m": 100}}, "target"),
    ({"kind": "informatie", "text": "x", "target": {"wijkcodes": [WESTWIJK]}, "urgent": True}, "urgent"),
    ({"kind": "informatie", "text": "x", "target": {"wijkcodes": [WESTWIJK]}, "incident_id": 999}, "incident_id"),
    ({"kind": "informatie", "text": "x", "target": {"wijkcodes": [WESTWIJK]}, "confirm_warnings": ["alles"]},
     "confirm_warnings.0"),
])
async def test_bad_input_is_dutch_problem_json_naming_the_field(app, client, body, field):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    operator = await _operator(app)
    response = await client.post("/api/v1/broadcasts", headers=operator, json=body)
    assert response.status_code == 422, response.text
    details = problem(response)
    assert details["title"] == "Ongeldige invoer" and details["field"] == field
    assert details["detail"].startswith("Veld ") or "bestaat niet" in details["detail"]


async def test_no_recipients_is_422(app, client):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    operator = await _operator(app)
    async with app.state.sessionmaker() as session:
        from app.registry.models import Beheerder

        for beheerder in (await session.scalars(select(Beheerder))).all():
            beheerder.active = False
        await session.commit()
    response = await client.post("/api/v1/broadcasts", headers=operator, json=alert())
    assert response.status_code == 422 and problem(response)["code"] == "no_recipients"


async def test_lists_progress_and_events_and_only_the_meldkamer_sees_failures(app, client, demo, worker, fake):
    operator = await login(client, demo["operator"])
    wijkagent = await login(client, demo["wijkagent"])
    by_operator = (await client.post("/api/v1/broadcasts", headers=operator, json=alert())).json()
    by_wijkagent = (await client.post("/api/v1/broadcasts", headers=wijkagent, json=alert(
        "informatie", "Let op: oplichters aan de deur die zich voordoen als monteur."))).json()
    fake.fail_next(len(wijk_beheerders(demo, WESTWIJK)), 400, endpoint="messages")  # invalid parameter: permanent
    await deliver(worker, fake)

    listing = (await client.get("/api/v1/broadcasts", headers=operator)).json()
    assert [b["id"] for b in listing["items"]] == [by_wijkagent["id"], by_operator["id"]] and listing["total"] == 2
    own = (await client.get("/api/v1/broadcasts", headers=wijkagent)).json()
    assert [b["id"] for b in own["items"]] == [by_wijkagent["id"]]
    assert (await client.get(f"/api/v1/broadcasts/{by_operator['id']}", headers=wijkagent)).status_code == 404

    # The first delivery per beheerder failed permanently on WhatsApp and fell back to in-app: none are failed.
    detail = (await client.get(f"/api/v1/broadcasts/{by_operator['id']}", headers=operator)).json()
    assert detail["progress"]["failed"] == 0 and detail["progress"]["delivered"] == detail["progress"]["recipients"]
    assert detail["per_channel"] == {"app": len(wijk_beheerders(demo, WESTWIJK))}
    agent_view = (await client.get(f"/api/v1/broadcasts/{by_wijkagent['id']}", headers=wijkagent)).json()
    assert agent_view["failed_deliveries"] is None

    async with app.state.sessionmaker() as session:
        types = list((await session.scalars(select(Event.type).order_by(Event.id))).all())
        alerts = (await session.scalars(select(Event).where(Event.type == "alert"))).all()
    assert types.count("broadcast.created") == 2 and "broadcast.progress" in types
    assert {e.audience for e in alerts} == {f"beheerder:{b['id']}" for b in wijk_beheerders(demo, WESTWIJK)}
    assert all(e.data["broadcast_id"] == by_operator["id"] for e in alerts)


async def test_every_broadcast_route_declares_its_roles():
    for route in [*broadcast_router.routes, *alerts_router.routes]:
        guards = [d.call for d in route.dependant.dependencies if isinstance(d.call, RoleGuard)]  # type: ignore[attr-defined]
        assert guards, route.path  # type: ignore[attr-defined]
