"""Fault drill: PostgreSQL stopped and started again under load. Meanwhile the API answers 503 problem+json
(not a hang, not a 500) and /readyz says not ready; afterwards everything works again without restarting
the app, every report that got a 201 is in the database, and a wall that lost its stream reconnects and
catches up without a gap."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from app.intake.models import Report
from tests.support.drills import ReportLoad, WallClient, drill_env, eventually, prepare, served
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.drill


@pytest.fixture
def postgres() -> Iterator[tuple[PostgresServer, str]]:
    try:
        server = PostgresServer()
        url = server.start()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"no PostgreSQL server binaries: {exc}")
    yield server, url
    server.stop()


async def test_postgres_stopped_and_started_under_load(postgres, tmp_path: Path) -> None:
    server, url = postgres
    env = drill_env(url, tmp_path / "var")
    demo = prepare(env, tmp_path / "demo.json")
    with served(env, tmp_path / "app.log") as app:
        async with httpx.AsyncClient(base_url=app.base, timeout=15) as client:
            operator = await _login(client, demo["operator"])
            wall = WallClient(app.base.replace("http", "ws") + "/ws/events", operator)
            load = ReportLoad(app.base, [(b["token"], b["group_ids"][0]) for b in demo["beheerders"]])
            running = [asyncio.create_task(load.run()), asyncio.create_task(wall.run())]
            await eventually(lambda: len(load.created) >= 20 and wall.seen, "reports before the outage")

            await asyncio.to_thread(server.stop_only)
            await eventually(lambda: load.statuses["503"] >= 10, "503 answers while the database is down")
            await wall.drop()
            down = await client.get("/readyz")
            during = await client.get("/api/v1/queue", headers={"Authorization": f"Bearer {operator}"})

            await asyncio.to_thread(server.start_again)
            await eventually(lambda: _ready(client), "ready again without a restart")
            recovered = len(load.created)
            await eventually(lambda: len(load.created) >= recovered + 20, "reports after the outage")
            load.running = False
            await running[0]
            visible = await _visible_events(client, operator)
            await eventually(lambda: wall.after >= visible[-1], "the wall caught up")
            wall.running = False
            await running[1]

    assert down.status_code == 503 and down.headers["content-type"] == "application/problem+json"
    assert during.status_code == 503 and during.headers["content-type"] == "application/problem+json"
    assert set(load.statuses) <= {"201", "503"}, load.statuses  # no 500, no timeout, no hang
    assert all(a["content_type"] == "application/problem+json" and "Dienst niet beschikbaar" in a["body"]
               for a in load.answers)
    stored = await _report_ids(url)
    assert set(load.created.values()) <= stored and len(stored) == len(load.created)
    assert wall.reconnects >= 1
    assert sorted(set(wall.seen)) == visible  # every event it may see, once the wall is back: no gap


async def _login(client: httpx.AsyncClient, account: dict[str, str]) -> str:
    response = await client.post("/api/v1/auth/login", json={"username": account["username"],
                                                               "password": account["password"]})
    response.raise_for_status()
    return str(response.json()["access_token"])


async def _ready(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/readyz")).status_code == 200
    except httpx.TransportError:
        return False


async def _visible_events(client: httpx.AsyncClient, token: str) -> list[int]:
    """The ids of every event this principal may see, through the polling API."""
    ids: list[int] = []
    after, more = 0, True
    while more:
        page = (await client.get("/api/v1/events", params={"after": after, "limit": 500},
                                 headers={"Authorization": f"Bearer {token}"})).json()
        ids += [event["id"] for event in page["events"]]
        after, more = page["last_event_id"], page["has_more"]
    return ids


async def _report_ids(url: str) -> set[int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return set((await connection.scalars(select(Report.id))).all())
    finally:
        await engine.dispose()
