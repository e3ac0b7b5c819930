"""Delivery across app processes on PostgreSQL: NOTIFY, commit order, and a lost listener connection.

A second app instance (another create_app with its own engine) stands in for another process: its commits
do not wake the first instance's hub in-process, so only NOTIFY (or the reconnect catch-up) can."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.core.settings import Settings
from app.events.hub import EventHub
from app.events.service import emit
from app.factory import create_app
from tests.support import builders
from tests.support.events import commit_events, merged


@pytest.fixture
async def other_instance(settings: Settings) -> AsyncIterator[FastAPI]:
    other = create_app(settings, configure_logs=False)
    yield other
    await other.state.engine.dispose()


def _postgres_only(settings: Settings) -> None:
    if settings.is_sqlite:
        pytest.skip("several app processes share a database only on PostgreSQL")


async def test_an_event_committed_by_another_instance_reaches_this_ones_clients(
        app, settings, other_instance, open_stream):
    _postgres_only(settings)
    ams = await builders.region(app, "AMS")
    wall = await open_stream((await builders.wall(app, region_code="AMS")).token)
    [event_id] = await commit_events(other_instance, merged(ams, 3))
    [received] = await wall.events(1, within=3)
    assert received["id"] == event_id and received["data"] == {"incident_id": 3, "into": 4}


async def test_an_event_that_commits_after_a_later_id_is_not_lost(app, settings, other_instance, open_stream):
    """A flushes (and so takes its id) first but commits last; B, from the other instance, commits in
    between. Without ordered commits the hub would read B, move its mark past A's id, and never see A.
    (SQLite runs one process, so there B writes through the same app.)"""
    ams = await builders.region(app, "AMS")
    writer_b = app if settings.is_sqlite else other_instance
    wall = await open_stream((await builders.wall(app, region_code="AMS")).token)
    async with app.state.sessionmaker() as session_a:
        event_a = emit(session_a, "incident.merged", {"incident_id": 1, "into": 2}, region_id=ams)
        await session_a.flush()

        async def write_b() -> int:
            [event_id] = await commit_events(writer_b, merged(ams, 5))
            return event_id

        task_b = asyncio.create_task(write_b())
        await asyncio.sleep(0.5)  # B commits now, or waits for A
        await session_a.commit()
    event_b = await asyncio.wait_for(task_b, 10)
    received = await wall.events(2, within=5)
    assert [e["id"] for e in received] == sorted([event_a.id, event_b]) and event_a.id < event_b


async def test_the_listener_reconnects_and_catches_up_after_losing_its_connection(
        app, settings, other_instance, hub: EventHub, open_stream):
    _postgres_only(settings)
    ams = await builders.region(app, "AMS")
    wall = await open_stream((await builders.wall(app, region_code="AMS")).token)
    assert hub.listener is not None
    await asyncio.wait_for(hub.listener.listening.wait(), 5)
    async with other_instance.state.engine.connect() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": hub.listener.backend_pid})
    # Committed while nobody listens: the NOTIFY is lost, the row is not.
    [event_id] = await commit_events(other_instance, merged(ams))
    [received] = await wall.events(1, within=5)
    assert received["id"] == event_id
    assert hub.listener.connects == 2

