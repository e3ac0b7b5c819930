"""GET /api/v1/events: paging for clients that poll, with the same visibility as the stream."""

from __future__ import annotations

from app.events.visibility import beheerder_audience
from tests.support import builders
from tests.support.events import EventSpec, commit_events, merged
from tests.support.http import bearer, problem


async def test_polling_pages_through_the_events_a_wall_may_see(app, client):
    ams, mnl = await builders.region(app, "AMS"), await builders.region(app, "MNL")
    beheerder = await builders.beheerder(app)
    ids = await commit_events(
        app, merged(ams, 10), merged(mnl), merged(None), EventSpec(audience=beheerder_audience(beheerder.id)),
        merged(ams), EventSpec("report.created", ams), merged(ams))
    wall = bearer((await builders.wall(app, region_code="AMS")).token)

    first = (await client.get("/api/v1/events", params={"after": 0, "limit": 2}, headers=wall)).json()
    assert [e["id"] for e in first["events"]] == [ids[0], ids[2]]
    assert first["has_more"] is True and first["last_event_id"] == ids[2]
    assert first["events"][0]["data"] == {"incident_id": 10, "into": 11}
    assert first["events"][0]["type"] == "incident.merged"
    second = (await client.get("/api/v1/events", params={"after": first["last_event_id"], "limit": 2},
                               headers=wall)).json()
    assert [e["id"] for e in second["events"]] == [ids[4], ids[6]] and second["has_more"] is False
    empty = (await client.get("/api/v1/events", params={"after": ids[6]}, headers=wall)).json()
    assert empty == {"events": [], "last_event_id": ids[6], "has_more": False}

    operator = bearer((await builders.staff(app, "operator")).token)
    seen = (await client.get("/api/v1/events", headers=operator)).json()
    assert [e["id"] for e in seen["events"]] == [ids[0], ids[1], ids[2], ids[4], ids[5], ids[6]]


async def test_polling_is_for_staff_and_walls_only(app, client):
    await builders.region(app, "AMS")
    wall = await builders.wall(app, region_code="AMS")
    beheerder = await client.get("/api/v1/events", headers=bearer((await builders.beheerder(app)).token))
    assert beheerder.status_code == 403 and problem(beheerder)
    anonymous = await client.get("/api/v1/events")
    assert anonymous.status_code == 401 and problem(anonymous)
    too_many = await client.get("/api/v1/events", params={"limit": 501}, headers=bearer(wall.token))
    assert too_many.status_code == 422 and problem(too_many)["field"] == "limit"
