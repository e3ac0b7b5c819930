"""The operators' queue end to end through the API: suggestion with reasons, incidents, claims, overrides."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta

from PIL import Image
from sqlalchemy import select, update

from app.core.database import utcnow
from app.events.models import Event
from app.incidents import queue
from app.incidents.models import Incident
from app.incidents.sweeper import ClaimSweeper
from tests.support.http import bearer, login, post_report, problem, westwijk_beheerders

BURGLARY_NOW = "Er wordt nu ingebroken aan de Zonnestein, twee mannen met een breekijzer bij de achterdeur"




async def test_a_report_appears_in_the_queue_with_its_suggestion_and_reasons(client, demo):
    reporter = westwijk_beheerders(demo)[0]
    created = await post_report(client, reporter, BURGLARY_NOW)
    assert created["advice"] == ["Gebeurt het nu? Bel 112."]
    operator = await login(client, demo["operator"])
    page = (await client.get("/api/v1/queue", headers=operator)).json()
    [incident] = page["items"]
    assert incident["urgency"] == "P1" and incident["offence"] == "woninginbraak"
    assert incident["wijkcode"] == "WK036204"
    [report] = incident["reports"]
    assert report["case_number"] == created["case_number"]
    codes = {reason["text"] for reason in report["reasons"]}
    assert any("Zonnestein" in text for text in codes)
    assert report["suggestion"]["labels"]["in_progress"] is True


async def test_three_groups_reporting_one_event_become_one_incident(client, demo):
    reporters = westwijk_beheerders(demo)[:3]
    texts = [BURGLARY_NOW, "Inbrekers bezig bij woning aan de Zonnestein, politie gebeld",
             "Zojuist inbraak Zonnestein 14, daders gevlucht op scooter richting Bankrasweg"]
    for reporter, text in zip(reporters, texts, strict=True):
        await post_report(client, reporter, text)
    await post_report(client, reporters[0], "Onze kat is weggelopen, grijs met witte pootjes")
    operator = await login(client, demo["operator"])
    items = (await client.get("/api/v1/queue", headers=operator)).json()["items"]
    burglary = next(i for i in items if i["offence"] == "woninginbraak")
    assert burglary["report_count"] == 3 and burglary["group_count"] == 3 and burglary["urgency"] == "P1"
    assert len(items) == 2 and items[0]["id"] == burglary["id"]  # P1 first, the lost cat last
    assert items[1]["urgency"] == "none"


async def test_queue_filters_by_urgency_and_wijk(client, demo):
    reporter = westwijk_beheerders(demo)[0]
    await post_report(client, reporter, BURGLARY_NOW)
    await post_report(client, reporter, "Onze kat is weggelopen")
    operator = await login(client, demo["operator"])
    p1 = (await client.get("/api/v1/queue?urgency=P1", headers=operator)).json()
    assert p1["total"] == 1 and p1["items"][0]["urgency"] == "P1"
    assert (await client.get("/api/v1/queue?wijk=WK036302", headers=operator)).json()["total"] == 0
    bad = await client.get("/api/v1/queue?urgency=P9", headers=operator)
    assert bad.status_code == 422 and problem(bad)["field"] == "urgency"


async def test_a_second_operator_gets_409_naming_who_holds_the_claim(client, demo):
    await post_report(client, westwijk_beheerders(demo)[0], BURGLARY_NOW)
    first = await login(client, demo["operator"])
    second = await login(client, demo["operator2"])
    incident_id = (await client.get("/api/v1/queue", headers=first)).json()["items"][0]["id"]
    claimed = await client.post(f"/api/v1/incidents/{incident_id}/claim", headers=first)
    assert claimed.status_code == 200 and claimed.json()["claimed_by"] == "Centralist Demo"
    conflict = await client.post(f"/api/v1/incidents/{incident_id}/claim", headers=second)
    assert conflict.status_code == 409 and "Centralist Demo" in problem(conflict)["detail"]
    change = await client.patch(f"/api/v1/incidents/{incident_id}", headers=second, json={"urgency": "P2",
                                                                                          "reason": "x"})
    assert change.status_code == 409
    assert (await client.delete(f"/api/v1/incidents/{incident_id}/claim", headers=first)).status_code == 200
    assert (await client.post(f"/api/v1/incidents/{incident_id}/claim", headers=second)).status_code == 200


async def test_an_expired_claim_can_be_taken_over(app, client, demo):
    from sqlalchemy import update

    from app.incidents.models import Incident

    await post_report(client, westwijk_beheerders(demo)[0], BURGLARY_NOW)
    first, second = await login(client, demo["operator"]), await login(client, demo["operator2"])
    incident_id = (await client.get("/api/v1/queue", headers=first)).json()["items"][0]["id"]
    await client.post(f"/api/v1/incidents/{incident_id}/claim", headers=first)
    async with app.state.sessionmaker() as session:
        await session.execute(update(Incident).values(claim_expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    taken = await client.post(f"/api/v1/incidents/{incident_id}/claim", headers=second)
    assert taken.status_code == 200 and taken.json()["claimed_by"] == "Centralist Twee"


async def test_lowering_a_p1_needs_a_reason_and_is_audited(client, demo):
    await post_report(client, westwijk_beheerders(demo)[0], BURGLARY_NOW)
    operator = await login(client, demo["operator"])
    incident_id = (await client.get("/api/v1/queue", headers=operator)).json()["items"][0]["id"]
    refused = await client.patch(f"/api/v1/incidents/{incident_id}", headers=operator, json={"urgency": "P3"})
    assert refused.status_code == 422 and problem(refused)["field"] == "reason"
    lowered = await client.patch(f"/api/v1/incidents/{incident_id}", headers=operator,
                                 json={"urgency": "P3", "reason": "Buurman met sleutelprobleem", "offence": None})
    body = lowered.json()
    assert body["urgency"] == "P3" and body["override_reason"] == "Buurman met sleutelprobleem"
    assert body["offence"] is None and set(body["overridden"]) == {"urgency", "offence"}
    admin = await login(client, demo["admin"])
    audit = (await client.get("/api/v1/admin/audit?action=incident.update", headers=admin)).json()
    assert audit[0]["detail"]["reason"] == "Buurman met sleutelprobleem"


async def test_raising_urgency_and_events_for_the_wall(app, client, demo):
    from sqlalchemy import select

    from app.events.models import Event

    await post_report(client, westwijk_beheerders(demo)[0], "Verdacht busje staat al een uur in de Zonnestein")
    operator = await login(client, demo["operator"])
    incident = (await client.get("/api/v1/queue", headers=operator)).json()["items"][0]
    raised = await client.patch(f"/api/v1/incidents/{incident['id']}", headers=operator, json={"urgency": "P1"})
    assert raised.json()["urgency"] == "P1"
    async with app.state.sessionmaker() as session:
        events = (await session.scalars(select(Event).where(Event.type == "incident.updated")
                                        .order_by(Event.id))).all()
    assert events[-1].data["urgency"] == "P1" and events[-1].data["incident_id"] == incident["id"]


async def test_merge_and_split(client, demo):
    westwijk = westwijk_beheerders(demo)
    await post_report(client, westwijk[0], BURGLARY_NOW)
    await post_report(client, westwijk[1], "Fiets gestolen bij het Westwijkplein, net gebeurd, dader op scooter")
    operator = await login(client, demo["operator"])
    items = (await client.get("/api/v1/queue", headers=operator)).json()["items"]
    assert len(items) == 2
    merged = await client.post(f"/api/v1/incidents/{items[0]['id']}/merge", headers=operator,
                               json={"incident_ids": [items[1]["id"]]})
    assert merged.status_code == 200 and merged.json()["report_count"] == 2
    assert (await client.get("/api/v1/queue", headers=operator)).json()["total"] == 1
    moving = merged.json()["reports"][1]["id"]
    split = await client.post(f"/api/v1/incidents/{items[0]['id']}/split", headers=operator,
                              json={"report_ids": [moving]})
    assert split.status_code == 201 and [r["id"] for r in split.json()["reports"]] == [moving]
    assert (await client.get("/api/v1/queue", headers=operator)).json()["total"] == 2
    everything = await client.post(f"/api/v1/incidents/{split.json()['id']}/split", headers=operator,
                                   json={"report_ids": [moving]})
    assert everything.status_code == 422


async def test_roles_on_the_queue(client, demo):
    beheerder = bearer(demo["beheerders"][0]["token"])
    assert (await client.get("/api/v1/queue", headers=beheerder)).status_code == 403
    assert (await client.get("/api/v1/queue", headers=bearer(demo["wall_token"]))).status_code == 403  # /wall/cards
    assert (await client.post("/api/v1/incidents/1/claim", headers=bearer(demo["wall_token"]))).status_code == 403
    analyst = await login(client, demo["analyst"])
    assert (await client.get("/api/v1/queue", headers=analyst)).status_code == 200
    assert (await client.post("/api/v1/incidents/1/claim", headers=analyst)).status_code == 403
    operator = await login(client, demo["operator"])
    missing = await client.post("/api/v1/incidents/999/claim", headers=operator)
    assert missing.status_code == 404


async def test_appearance_only_report_is_flagged_and_asks_what_the_person_did(client, demo):
    created = await post_report(client, westwijk_beheerders(demo)[0],
                            "Er lopen hier twee buitenlands uitziende mannen door de Zonnestein")
    assert any("deed" in advice or "gedrag" in advice for advice in created["advice"])
    operator = await login(client, demo["operator"])
    incident = (await client.get("/api/v1/queue", headers=operator)).json()["items"][0]
    assert incident["appearance_only"] is True and incident["urgency"] == "P3"


async def test_follow_up_result_and_note_reach_each_reporter_and_only_them(client, demo):
    westwijk = westwijk_beheerders(demo)
    first = await post_report(client, westwijk[0], BURGLARY_NOW)
    second = await post_report(client, westwijk[1], "Inbrekers bezig bij woning aan de Zonnestein, politie gebeld")
    operator = await login(client, demo["operator"])
    incident = (await client.get("/api/v1/queue", headers=operator)).json()["items"][0]
    assert incident["report_count"] == 2
    response = await client.patch(f"/api/v1/incidents/{incident['id']}", headers=operator, json={
        "follow_up": "ter_plaatse", "result": "aanhouding", "note_for_reporter": "Dank voor het snelle melden.",
        "close": True})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "closed"
    for beheerder, created in ((westwijk[0], first), (westwijk[1], second)):
        mine = (await client.get(f"/api/v1/reports/{created['id']}", headers=bearer(beheerder["token"]))).json()
        texts = " ".join(item["text"] for item in mine["feedback"])
        assert mine["status"] == "afgehandeld"
        assert created["case_number"] in texts and "ter plaatse" in texts
        assert "Dank voor het snelle melden." in texts
    outsider = westwijk[2]
    assert (await client.get("/api/v1/reports", headers=bearer(outsider["token"]))).json()["total"] == 0
    assert (await client.get(f"/api/v1/reports/{first['id']}", headers=bearer(outsider["token"]))).status_code == 404
    closed_queue = (await client.get("/api/v1/queue", headers=operator)).json()
    assert closed_queue["total"] == 0


async def test_an_appearance_only_report_opens_its_own_incident(client, demo):
    westwijk = westwijk_beheerders(demo)
    await post_report(client, westwijk[0], BURGLARY_NOW)
    await post_report(client, westwijk[1], "Er lopen hier twee buitenlands uitziende mannen door de Zonnestein")
    operator = await login(client, demo["operator"])
    items = (await client.get("/api/v1/queue", headers=operator)).json()["items"]
    assert [(i["urgency"], i["report_count"], i["appearance_only"]) for i in items] == [
        ("P1", 1, False), ("P3", 1, True)]


BURGLARY_SOMEWHERE = "Er wordt nu ingebroken, twee mannen met een breekijzer bij de achterdeur"
WEST_OF_BORDER = {"lat": 52.294996, "lon": 4.835820}  # Westwijk (WK036204), 150 m from the border
EAST_OF_BORDER = {"lat": 52.295016, "lon": 4.840217}  # the neighbouring wijk (WK036205), 300 m from the first
FAR_WEST = {"lat": 52.294885, "lon": 4.812587}  # Westwijk again, but 1.6 km away


async def test_grouping_goes_by_distance_across_wijk_borders_not_by_wijk(client, demo):
    reporters = westwijk_beheerders(demo)[:3]
    for reporter, point in zip(reporters, (WEST_OF_BORDER, EAST_OF_BORDER, FAR_WEST), strict=True):
        await post_report(client, reporter, BURGLARY_SOMEWHERE, location=point)
    operator = await login(client, demo["operator"])
    items = (await client.get("/api/v1/queue", headers=operator)).json()["items"]
    counts = sorted((i["report_count"], i["wijkcode"]) for i in items)
    assert counts == [(1, "WK036204"), (2, "WK036204")]  # the two near the border share one incident


async def test_an_expired_claim_is_ended_and_shown_free_on_every_screen(app, client, demo):
    await post_report(client, westwijk_beheerders(demo)[0], BURGLARY_NOW)
    operator = await login(client, demo["operator"])
    incident_id = (await client.get("/api/v1/queue", headers=operator)).json()["items"][0]["id"]
    assert (await client.post(f"/api/v1/incidents/{incident_id}/claim", headers=operator)).status_code == 200
    async with app.state.sessionmaker() as session:  # ten minutes later
        await session.execute(update(Incident).where(Incident.id == incident_id)
                              .values(claim_expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    last_event = (await client.get("/api/v1/events?limit=500", headers=operator)).json()["last_event_id"]

    sweeper = ClaimSweeper(app.state.sessionmaker, interval_seconds=0.05)
    sweeper.start()
    try:
        for _ in range(200):  # up to 10 s
            events = (await client.get(f"/api/v1/events?after={last_event}", headers=operator)).json()
            if events["events"]:
                break
            await asyncio.sleep(0.05)
    finally:
        await sweeper.stop()

    [event] = events["events"]
    assert event["type"] == "incident.updated" and event["data"]["incident_id"] == incident_id
    assert event["data"]["claimed_by"] is None
    admin = await login(client, demo["admin"])
    [expired] = (await client.get("/api/v1/admin/audit?action=incident.claim_expired", headers=admin)).json()
    assert expired["actor_type"] == "system" and expired["target_id"] == str(incident_id)
    second = await login(client, demo["operator2"])  # free for anyone now
    assert (await client.post(f"/api/v1/incidents/{incident_id}/claim", headers=second)).status_code == 200


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (90, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


async def _report_with_photo(client, beheerder: dict, text: str) -> dict:
    response = await client.post("/api/v1/reports", headers=bearer(beheerder["token"]),
                                 files=[("photos", ("foto.png", _png(), "image/png"))],
                                 data={"report": json.dumps({"text": text})})
    assert response.status_code == 201, response.text
    return response.json()


async def _card_photo(app, incident_id: int) -> dict | None:
    """The photo of the incident's newest event: what the wall draws on the card."""
    async with app.state.sessionmaker() as session:
        events = (await session.scalars(select(Event).where(Event.type.like("incident.%")).order_by(Event.id))).all()
    return [e.data for e in events if e.data["incident_id"] == incident_id][-1]["photo"]


async def test_the_card_shows_the_first_photo_of_the_incident_also_after_a_split(app, client, demo):
    westwijk = westwijk_beheerders(demo)
    await post_report(client, westwijk[0], BURGLARY_NOW)
    operator = await login(client, demo["operator"])
    [item] = (await client.get("/api/v1/queue", headers=operator)).json()["items"]
    assert await _card_photo(app, item["id"]) is None
    with_photo = await _report_with_photo(client, westwijk[1], BURGLARY_NOW + " (foto)")
    assert await _card_photo(app, item["id"]) == {"report_id": with_photo["id"],
                                                  "photo_id": with_photo["photos"][0]["id"]}
    later = await _report_with_photo(client, westwijk[2], BURGLARY_NOW + " (nog een foto)")
    assert await _card_photo(app, item["id"]) == {"report_id": with_photo["id"],
                                                  "photo_id": with_photo["photos"][0]["id"]}
    split = await client.post(f"/api/v1/incidents/{item['id']}/split", headers=operator,
                              json={"report_ids": [with_photo["id"]]})
    assert split.status_code == 201, split.text
    assert await _card_photo(app, split.json()["id"]) == {"report_id": with_photo["id"],
                                                          "photo_id": with_photo["photos"][0]["id"]}
    assert await _card_photo(app, item["id"]) == {"report_id": later["id"], "photo_id": later["photos"][0]["id"]}


async def _closed_history(app, urgencies: list[str]) -> list[int]:
    """Closed incidents, one per urgency given, the oldest first (the history the console pages through)."""
    start = utcnow() - timedelta(days=300)
    incidents = [Incident(status="closed", urgency=urgency, first_report_at=start + timedelta(hours=n),
                          last_report_at=start + timedelta(hours=n), closed_at=start + timedelta(hours=n))
                 for n, urgency in enumerate(urgencies)]
    async with app.state.sessionmaker() as session:
        session.add_all(incidents)
        await session.commit()
    return [incident.id for incident in incidents]


async def test_the_closed_history_counts_up_to_the_cap_and_says_so(app, client, demo, monkeypatch):
    monkeypatch.setattr(queue, "COUNT_CAP", 4)
    ids = await _closed_history(app, ["P3", "P1", "none", "P1", "P2", "P3", "none"])
    operator = await login(client, demo["operator"])
    first = (await client.get("/api/v1/queue?status=closed&limit=3", headers=operator)).json()
    assert first["total"] == 4 and first["total_capped"] is True  # "4+" of 7
    assert [item["id"] for item in first["items"]] == [ids[1], ids[3], ids[4]]
    beyond = (await client.get("/api/v1/queue?status=closed&limit=3&offset=3", headers=operator)).json()
    assert [item["id"] for item in beyond["items"]] == [ids[0], ids[5], ids[2]]
    assert beyond["total"] == 6 and beyond["total_capped"] is True  # counted to the end of this page
    last = (await client.get("/api/v1/queue?status=closed&limit=3&offset=6", headers=operator)).json()
    assert [item["id"] for item in last["items"]] == [ids[6]]
    assert last["total"] == 7 and last["total_capped"] is False
    every = (await client.get("/api/v1/queue?status=&limit=2", headers=operator)).json()
    assert every["total"] == 4 and every["total_capped"] is True


async def test_a_history_under_the_cap_is_counted_exactly(app, client, demo):
    ids = await _closed_history(app, ["P1", "P2", "P3"])
    operator = await login(client, demo["operator"])
    page = (await client.get("/api/v1/queue?status=closed&urgency=P2", headers=operator)).json()
    assert page["total"] == 1 and page["total_capped"] is False and page["items"][0]["id"] == ids[1]
    everything = (await client.get("/api/v1/queue?status=closed", headers=operator)).json()
    assert everything["total"] == 3 and everything["total_capped"] is False
