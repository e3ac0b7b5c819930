"""An operation's own view: the queue filtered to the incidents its participants reported, and on the wall of
its region the banner's data (name, kind, end; nothing else) while it runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.core.database import utcnow
from tests.support import builders
from tests.support.http import bearer, problem
from tests.support.operations import WESTWIJK, create

SIGHTING = "Man voelt aan voordeuren in de Zonnestein, nu richting de Bankrasweg"
OTHER = "Gisteren is er een fiets gestolen bij het station Amstelveen"


async def _open_operation(client: Any, specialist: dict[str, str], clock: Any, **overrides: Any) -> dict[str, Any]:
    clock.now = utcnow()
    return await create(client, specialist, starts_at=(clock.now - timedelta(hours=1)).isoformat(),
                        ends_at=(clock.now + timedelta(days=1)).isoformat(), **overrides)


async def _report(client: Any, beheerder: builders.BeheerderAccount, text: str) -> None:
    response = await client.post("/api/v1/reports", headers=bearer(beheerder.token), json={"text": text})
    assert response.status_code == 201, response.text


async def test_the_queue_filtered_by_operation_shows_only_what_its_participants_reported(app, client, clock):
    participant = await builders.beheerder(app, wijkcode=WESTWIJK)
    bystander = await builders.beheerder(app, wijkcode=WESTWIJK)
    specialist = bearer((await builders.staff(app, "specialist")).token)
    operation = await _open_operation(client, specialist, clock)
    await client.post(f"/api/v1/operations/{operation['id']}/join", headers=bearer(participant.token))
    await _report(client, participant, SIGHTING)
    await _report(client, bystander, OTHER)

    everything = (await client.get("/api/v1/queue", headers=specialist, params={"status": ""})).json()
    assert everything["total"] == 2
    own = (await client.get("/api/v1/queue", headers=specialist, params={"status": "", "operation": operation["id"]}))
    assert own.status_code == 200
    assert [r["text"] for item in own.json()["items"] for r in item["reports"]] == [SIGHTING]
    assert own.json()["total"] == 1

    for bad in ("abc", "0", str(2**31)):
        refused = await client.get("/api/v1/queue", headers=specialist, params={"operation": bad})
        assert refused.status_code == 422 and problem(refused)["title"]


async def test_the_wall_of_the_region_gets_the_banner_of_a_running_operation_and_nothing_more(app, client, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    await builders.wijk(app, "WK003402")
    await builders.region(app, "AMS")
    await builders.region(app, "MNL")
    own_wall, other_wall = await builders.wall(app, region_code="AMS"), await builders.wall(app, region_code="MNL")
    specialist = bearer((await builders.staff(app, "specialist")).token)
    operation = await _open_operation(client, specialist, clock, name="Heterdaad Westwijk", kind="heterdaad")

    running = await client.get("/api/v1/operations/running", headers=bearer(own_wall.token))
    assert running.status_code == 200
    assert [(o["name"], o["kind"], o["status"]) for o in running.json()] == [("Heterdaad Westwijk", "heterdaad",
                                                                              "open")]
    assert (await client.get("/api/v1/operations/running", headers=bearer(other_wall.token))).json() == []
    assert (await client.get("/api/v1/operations/running", headers=specialist)).status_code == 403

    await client.post(f"/api/v1/operations/{operation['id']}/close", headers=specialist)
    events = (await client.get("/api/v1/events", headers=bearer(own_wall.token), params={"after": 0})).json()
    banner = [(e["type"], e["data"]) for e in events["events"] if e["type"].startswith("operation.")]
    assert [kind for kind, _ in banner] == ["operation.opened", "operation.closed"]
    assert all(set(data) == {"operation_id", "name", "kind", "status", "ends_at"} for _, data in banner)
    elsewhere = (await client.get("/api/v1/events", headers=bearer(other_wall.token), params={"after": 0})).json()
    assert not [e for e in elsewhere["events"] if e["type"].startswith("operation.")]
    assert (await client.get("/api/v1/operations/running", headers=bearer(own_wall.token))).json() == []
