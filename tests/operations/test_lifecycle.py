"""gepland -> open -> gesloten on the operations' clock: across midnight and the night the clocks go back (the
last Sunday of October), by the sweeper and by hand, each step announced on the event stream."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.events.models import Event
from app.operations.sweeper import OperationSweeper
from tests.support import builders
from tests.support.http import bearer, problem
from tests.support.operations import WESTWIJK, create

# Saturday 24 October 2026, 18:00 summer time, to Sunday 06:00 winter time: thirteen hours on the clock.
DDO_NIGHT = {"starts_at": "2026-10-24T18:00:00", "ends_at": "2026-10-25T06:00:00"}


async def _specialist(app) -> dict[str, str]:
    return bearer((await builders.staff(app, "specialist")).token)


async def _status(client, headers: dict[str, str], operation_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/operations/{operation_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _event_types(app, operation_id: int) -> list[str]:
    async with app.state.sessionmaker() as session:
        events = (await session.scalars(select(Event).where(Event.type.like("operation.%")).order_by(Event.id))).all()
    return [event.type for event in events if event.data.get("operation_id") == operation_id]


async def test_a_ddo_night_opens_at_its_start_runs_past_midnight_and_the_dst_change_and_closes_at_its_end(
        app, client, settings, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    specialist = await _specialist(app)
    clock.set_local("2026-10-20T12:00")
    created = await create(client, specialist, **DDO_NIGHT)
    assert created["status"] == "gepland"
    shown = await _status(client, specialist, created["id"])
    assert (shown["starts_at"], shown["ends_at"]) == ("2026-10-24T18:00:00+02:00", "2026-10-25T06:00:00+01:00")

    sweeper = OperationSweeper(app.state.sessionmaker, settings, clock)
    moments = ["2026-10-24T17:59", "2026-10-24T18:00", "2026-10-24T23:59", "2026-10-25T00:30",
               "2026-10-25T02:30+02:00", "2026-10-25T02:30+01:00", "2026-10-25T05:59+01:00", "2026-10-25T06:00+01:00"]
    seen = []
    for moment in moments:
        clock.set_local(moment)
        await sweeper.sweep()
        seen.append((await _status(client, specialist, created["id"]))["status"])
    assert seen == ["gepland", "open", "open", "open", "open", "open", "open", "gesloten"]

    closed = await _status(client, specialist, created["id"])
    assert closed["opened_at"] == "2026-10-24T18:00:00+02:00" and closed["closed_at"] == "2026-10-25T06:00:00+01:00"
    assert closed["closed_by"] == "klok"
    assert await _event_types(app, created["id"]) == ["operation.created", "operation.opened", "operation.closed"]


async def test_the_hour_that_happens_twice_needs_its_offset_and_the_hour_that_is_skipped_is_refused(
        app, client, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    specialist = await _specialist(app)
    clock.set_local("2026-10-20T12:00")
    twice = await client.post("/api/v1/operations", headers=specialist, json={
        "name": "Nachtdienst", "kind": "ddo", "area": {"wijkcodes": [WESTWIJK]}, "briefing": "Let op inbraken.",
        "starts_at": "2026-10-24T22:00:00", "ends_at": "2026-10-25T02:30:00"})
    assert twice.status_code == 422 and problem(twice)["code"] == "ambiguous_time"
    assert problem(twice)["field"] == "ends_at"

    second_time = await create(client, specialist, starts_at="2026-10-24T22:00:00", ends_at="2026-10-25T02:30:00+01:00")
    shown = await _status(client, specialist, second_time["id"])
    assert shown["ends_at"] == "2026-10-25T02:30:00+01:00"

    skipped = await client.post("/api/v1/operations", headers=specialist, json={
        "name": "Voorjaar", "kind": "ddo", "area": {"wijkcodes": [WESTWIJK]}, "briefing": "Let op inbraken.",
        "starts_at": "2027-03-28T02:30:00", "ends_at": "2027-03-28T08:00:00"})
    assert skipped.status_code == 422 and problem(skipped)["code"] == "nonexistent_time"


async def test_an_operation_whose_start_has_come_is_open_at_once(app, client, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    specialist = await _specialist(app)
    clock.set_local("2026-12-12T17:30")
    created = await create(client, specialist)  # 17:00 - 23:00 that day
    assert created["status"] == "open"
    assert await _event_types(app, created["id"]) == ["operation.created", "operation.opened"]


async def test_closing_by_hand_ends_it_before_its_end_and_the_sweeper_leaves_it_closed(app, client, settings, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    specialist = await _specialist(app)
    clock.set_local("2026-12-12T18:00")
    created = await create(client, specialist)
    closed = await client.post(f"/api/v1/operations/{created['id']}/close", headers=specialist,
                               json={"text": "Twee aanhoudingen. Dank voor het meekijken."})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "gesloten" and closed.json()["closed_by"] == "specialist"

    clock.set_local("2026-12-12T23:30")
    await OperationSweeper(app.state.sessionmaker, settings, clock).sweep()
    again = await client.post(f"/api/v1/operations/{created['id']}/close", headers=specialist)
    assert again.status_code == 409 and problem(again)["code"] == "operation_closed"
    assert await _event_types(app, created["id"]) == ["operation.created", "operation.opened", "operation.closed"]
