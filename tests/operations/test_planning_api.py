"""Planning an operation in the console: the area preview (wijken, beheerders, overlap; it creates nothing) and
changing a planned operation (only while it is planned; checked as a new one; audited; an event)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.events.models import Event
from app.operations.models import Operation
from tests.support import builders
from tests.support.http import bearer, problem
from tests.support.operations import MIDDENHOVEN, WESTWIJK, create, operation_body


async def _specialist(app: Any) -> dict[str, str]:
    return bearer((await builders.staff(app, "specialist")).token)


async def _count_operations(app: Any) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Operation)) or 0)


async def test_the_preview_counts_the_beheerders_of_the_area_and_names_overlapping_operations(app, client, clock):
    for _ in range(3):
        await builders.beheerder(app, wijkcode=WESTWIJK)
    await builders.beheerder(app, wijkcode=MIDDENHOVEN)
    specialist = await _specialist(app)
    planned = await create(client, specialist)

    westwijk = await client.post("/api/v1/operations/preview", headers=specialist, json={"area": {"wijkcodes": [
        WESTWIJK]}, "kind": "ddo", "starts_at": "2026-12-12T20:00:00", "ends_at": "2026-12-13T01:00:00"})
    assert westwijk.status_code == 200, westwijk.text
    assert westwijk.json()["wijkcodes"] == [WESTWIJK] and westwijk.json()["beheerders"] == 3
    assert [o["id"] for o in westwijk.json()["overlapping"]] == [planned["id"]]
    assert westwijk.json()["overlapping"][0]["starts_at"] == "2026-12-12T17:00:00+01:00"

    both = (await client.post("/api/v1/operations/preview", headers=specialist, json={
        "area": {"gemeentecodes": ["GM0362"]}, "kind": "evenement", "starts_at": "2026-12-12T20:00:00",
        "ends_at": "2026-12-13T01:00:00"})).json()
    assert both["beheerders"] == 4 and both["overlapping"] == [], "another kind does not overlap"
    itself = (await client.post("/api/v1/operations/preview", headers=specialist, json={
        "area": {"wijkcodes": [WESTWIJK]}, "kind": "ddo", "starts_at": "2026-12-12T20:00:00",
        "ends_at": "2026-12-13T01:00:00", "operation_id": planned["id"]})).json()
    assert itself["overlapping"] == [], "the operation being edited does not overlap with itself"
    assert await _count_operations(app) == 1


async def test_a_half_filled_form_still_gets_its_count_and_bad_areas_are_problems(app, client, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    specialist = await _specialist(app)
    no_times = await client.post("/api/v1/operations/preview", headers=specialist,
                                 json={"area": {"lat": 52.2894, "lon": 4.8243, "radius_m": 300},
                                       "starts_at": "2026-12-12T20:00:00", "ends_at": "2026-12-12T19:00:00"})
    assert no_times.status_code == 200 and no_times.json()["beheerders"] == 1
    assert no_times.json()["overlapping"] == []

    empty = await client.post("/api/v1/operations/preview", headers=specialist, json={"area": {}})
    assert empty.status_code == 422 and problem(empty)["title"]
    unknown = await client.post("/api/v1/operations/preview", headers=specialist,
                                json={"area": {"wijkcodes": ["WK999999"]}})
    assert unknown.status_code == 422
    beheerder = await builders.beheerder(app, wijkcode=WESTWIJK)
    refused = await client.post("/api/v1/operations/preview", headers=bearer(beheerder.token),
                                json={"area": {"wijkcodes": [WESTWIJK]}})
    assert refused.status_code == 403 and problem(refused)["title"] == "Geen toegang"


async def test_a_planned_operation_is_changed_audited_and_announced(app, client, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    await builders.beheerder(app, wijkcode=MIDDENHOVEN)
    specialist = await _specialist(app)
    created = await create(client, specialist)
    changed = await client.patch(f"/api/v1/operations/{created['id']}", headers=specialist, json={
        "name": "DDO Westwijk en Middenhoven", "area": {"wijkcodes": [WESTWIJK, MIDDENHOVEN]},
        "ends_at": "2026-12-13T01:30:00"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "gepland"

    detail = (await client.get(f"/api/v1/operations/{created['id']}", headers=specialist)).json()
    assert detail["name"] == "DDO Westwijk en Middenhoven" and detail["wijkcodes"] == [WESTWIJK, MIDDENHOVEN]
    assert detail["ends_at"] == "2026-12-13T01:30:00+01:00" and detail["starts_at"] == "2026-12-12T17:00:00+01:00"
    assert detail["briefing"] == operation_body()["briefing"]
    async with app.state.sessionmaker() as session:
        audit = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "operation.update"))).all()
        events = (await session.scalars(select(Event).where(Event.type == "operation.updated"))).all()
    assert len(audit) == 1 and len(events) == 1
    assert events[0].data["name"] == "DDO Westwijk en Middenhoven"


async def test_changing_checks_the_result_as_creating_does(app, client, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    await builders.wijk(app, MIDDENHOVEN)
    specialist = await _specialist(app)
    created = await create(client, specialist)
    path = f"/api/v1/operations/{created['id']}"

    backwards = await client.patch(path, headers=specialist, json={"ends_at": "2026-12-12T16:00:00"})
    assert backwards.status_code == 422 and problem(backwards)["code"] == "end_before_start"
    nobody = await client.patch(path, headers=specialist, json={"area": {"wijkcodes": [MIDDENHOVEN]}})
    assert nobody.status_code == 422 and problem(nobody)["code"] == "no_beheerders"
    null = await client.patch(path, headers=specialist, json={"name": None})
    assert null.status_code == 422
    extra = await client.patch(path, headers=specialist, json={"status": "open"})
    assert extra.status_code == 422
    missing = await client.patch("/api/v1/operations/999999", headers=specialist, json={"name": "x"})
    assert missing.status_code == 404 and problem(missing)["title"]
    wijkagent = bearer((await builders.staff(app, "wijkagent", wijkcodes=[WESTWIJK])).token)
    not_theirs = await client.patch(path, headers=wijkagent, json={"name": "Mijn actie"})
    assert not_theirs.status_code == 403
    detail = (await client.get(path, headers=specialist)).json()
    assert detail["name"] == "DDO Westwijk" and detail["wijkcodes"] == [WESTWIJK], "nothing changed"


async def test_an_open_or_closed_operation_cannot_be_changed(app, client, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    specialist = await _specialist(app)
    created = await create(client, specialist, starts_at="2026-12-01T09:00:00", ends_at="2026-12-01T18:00:00")
    assert created["status"] == "open"
    path = f"/api/v1/operations/{created['id']}"
    running = await client.patch(path, headers=specialist, json={"name": "Andere naam"})
    assert running.status_code == 409
    assert problem(running)["code"] == "operation_not_planned" and "al open" in problem(running)["detail"]
    assert (await client.post(f"{path}/close", headers=specialist)).status_code == 200
    closed = await client.patch(path, headers=specialist, json={"name": "Andere naam"})
    assert closed.status_code == 409 and "gesloten" in problem(closed)["detail"]


async def test_moving_the_start_to_now_opens_it(app, client, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    specialist = await _specialist(app)
    created = await create(client, specialist)
    moved = await client.patch(f"/api/v1/operations/{created['id']}", headers=specialist,
                               json={"starts_at": "2026-12-01T10:00:00+01:00"})
    assert moved.status_code == 200 and moved.json()["status"] == "open"
