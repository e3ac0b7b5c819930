"""`meldkamer load-scale`: a registry and a year of history written set-based; the result is consistent and the
console, the wall and the evaluation answer on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from app.broadcast.models import Broadcast, Delivery
from app.incidents.models import Incident
from app.intake.models import Report
from app.registry.models import Beheerder, Group, Wijk
from app.simulation.scale import DatabaseNotEmpty, Sizes, load_scale
from tests.support.builders import staff, wall
from tests.support.http import bearer

SIZES = Sizes(beheerders=200, reports=5000)


async def _scalar(app, statement: str) -> int:
    async with app.state.engine.connect() as connection:
        return int(await connection.scalar(text(statement)) or 0)


async def _count(app, model) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_scale_dataset_is_complete_and_consistent(app):
    result = await load_scale(app.state.engine, SIZES)
    assert (await _count(app, Beheerder), await _count(app, Wijk), await _count(app, Group)) == (200, 20, 160)
    assert await _count(app, Report) == 5000 and await _count(app, Incident) == 5000
    assert await _count(app, Broadcast) == SIZES.alerts and await _count(app, Delivery) > 1000
    assert await _scalar(app, "SELECT count(*) FROM reports r LEFT JOIN incidents i ON i.id = r.incident_id "
                              "WHERE i.id IS NULL OR i.region_id IS DISTINCT FROM r.region_id") == 0
    assert await _scalar(app, "SELECT count(*) FROM reports r LEFT JOIN beheerder_groups bg "
                              "ON bg.beheerder_id = r.beheerder_id AND bg.group_id = r.group_id "
                              "WHERE bg.group_id IS NULL") == 0
    assert await _scalar(app, "SELECT count(*) FROM deliveries d LEFT JOIN beheerders b ON b.id = d.beheerder_id "
                              "WHERE b.id IS NULL") == 0
    assert await _scalar(app, "SELECT count(*) FROM audit_entries WHERE action = 'incident.claim'") > 4000
    async with app.state.sessionmaker() as session:
        first, last = (await session.execute(select(func.min(Report.received_at), func.max(Report.received_at)))).one()
    now = datetime.now(UTC)
    assert now - timedelta(days=366) < first and last <= now and last - first > timedelta(days=300)
    assert set(result.seconds) >= {"registry", "reports", "incidents"}


async def test_a_second_load_is_refused_and_writes_nothing(app):
    await load_scale(app.state.engine, Sizes(beheerders=20, reports=100))
    with pytest.raises(DatabaseNotEmpty):
        await load_scale(app.state.engine, Sizes(beheerders=20, reports=100))
    assert await _count(app, Report) == 100


async def test_the_queue_the_wall_the_registry_and_the_evaluation_answer_on_it(app, client):
    await load_scale(app.state.engine, SIZES)
    operator = bearer((await staff(app, "operator")).token)
    queue = (await client.get("/api/v1/queue", headers=operator)).json()
    open_incidents = await _count_open(app)
    assert open_incidents > 0 and queue["total"] == open_incidents
    incident = queue["items"][0]
    page = await client.get(f"/api/v1/incidents/{incident['id']}", headers=operator)
    assert page.status_code == 200 and page.json()["reports"][0]["text"]
    videowall = await wall(app, region_code="NN")  # a small load lies in the first region
    cards = (await client.get("/api/v1/wall/cards", headers=bearer(videowall.token))).json()
    assert cards["total"] == await _scalar(app, "SELECT count(*) FROM incidents WHERE status = 'open' "
                                                "AND urgency IN ('P1', 'P2')") > 0
    admin = bearer((await staff(app, "admin")).token)
    beheerders = (await client.get("/api/v1/admin/beheerders", params={"limit": 50}, headers=admin)).json()
    assert beheerders["total"] == 200 and len(beheerders["items"]) == 50
    analyst = bearer((await staff(app, "analyst")).token)
    today = datetime.now(UTC).date()
    period = {"from": (today - timedelta(days=364)).isoformat(), "to": today.isoformat()}
    stats = await client.get("/api/v1/stats", params=period, headers=analyst)
    assert stats.status_code == 200
    assert 4900 <= stats.json()["reports_by_category"]["total"] <= 5000


async def _count_open(app) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).where(Incident.status == "open")) or 0)


async def test_queue_pages_follow_each_other_across_urgencies(app, client):
    await load_scale(app.state.engine, Sizes(beheerders=50, reports=500))
    operator = bearer((await staff(app, "operator")).token)
    whole = (await client.get("/api/v1/queue", params={"limit": 200}, headers=operator)).json()
    pages = [(await client.get("/api/v1/queue", params={"limit": 3, "offset": offset}, headers=operator)).json()
             for offset in range(0, whole["total"], 3)]
    assert [i["id"] for page in pages for i in page["items"]] == [i["id"] for i in whole["items"]]
    assert all(page["total"] == whole["total"] == 20 for page in pages)
    ranks = [("P1", "P2", "P3", "none").index(i["urgency"]) for i in whole["items"]]
    assert ranks == sorted(ranks) and len(set(ranks)) > 1
