"""The intake's group commit writes its events with `insert_events`: on PostgreSQL the ordering lock, the rows
and the NOTIFY go in one statement. What a hub reads back must be exactly what was written, and listeners
hear of the rows only once they are committed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
from fastapi import FastAPI

from app.core.database import simulated_time
from app.events.hub import _asyncpg_connect_kwargs
from app.events.notify import CHANNEL
from app.events.service import NewEvent, event_rows_after, insert_events, last_visible_id

WRITTEN = [
    NewEvent("incident.updated", {"id": 7, "text": "Verdachte man bij de Kastanjeplein, ‘capuchon’ 🚨",
                                  "nested": {"urgency": "P1", "groups": [3, 4]}, "none": None},
             region_id=2, wijk_code="WK036204"),
    NewEvent("report.created", {"id": 8}, audience="beheerder:5"),
]


async def test_the_rows_come_back_as_written_with_the_commit_time(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:
        before = await last_visible_id(session)
    at = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    async with app.state.engine.connect() as connection, connection.begin():
        with simulated_time(at):
            ids = await insert_events(connection, WRITTEN)
    async with app.state.engine.connect() as connection:
        rows = await event_rows_after(connection, before, 10)
    assert [row.id for row in rows] == sorted(ids) and len(ids) == 2
    by_type = {row.type: row for row in rows}
    for event in WRITTEN:
        row = by_type[event.type]
        assert (row.data, row.region_id, row.wijk_code, row.audience) == (
            event.data, event.region_id, event.wijk_code, event.audience)
        assert row.at == at


async def test_nothing_is_written_for_no_events(app: FastAPI) -> None:
    async with app.state.engine.connect() as connection, connection.begin():
        assert await insert_events(connection, []) == []


async def test_postgres_listeners_hear_each_row_after_the_commit_only(app: FastAPI) -> None:
    engine = app.state.engine
    if engine.dialect.name != "postgresql":
        return  # SQLite has no NOTIFY: the writer wakes the hub of its own process (test_stream)
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(**_asyncpg_connect_kwargs(engine))
    try:
        await listener.add_listener(CHANNEL, lambda *args: heard.put_nowait(args[3]))
        async with engine.connect() as connection:
            async with connection.begin():
                ids = await insert_events(connection, WRITTEN)
                await asyncio.sleep(0.2)
                assert heard.empty()  # not before the commit
            received = {int(await asyncio.wait_for(heard.get(), 10)) for _ in ids}
        assert received == set(ids)
    finally:
        await listener.close()
