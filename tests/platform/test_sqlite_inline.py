"""The embedded SQLite driver runs statements on the event loop: a file locked by another process must make
a writer wait without freezing the loop, and give up with "database is locked" after the busy timeout."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.core.database import create_engine, create_sessionmaker, wal_checkpointer


def _hold_write_lock(path: Path, seconds: float, held: threading.Event,
                     committed: threading.Event | None = None) -> None:
    """Another process's writer: BEGIN IMMEDIATE, keep the lock for a while, commit."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO notes (body) VALUES ('from the other writer')")
    held.set()
    time.sleep(seconds)
    other.execute("COMMIT")
    if committed is not None:
        committed.set()
    other.close()


def _other_writer(path: Path, seconds: float, committed: threading.Event | None = None) -> threading.Thread:
    """Starts another process's writer and returns once it holds the write lock (join it afterwards)."""
    held = threading.Event()
    other = threading.Thread(target=_hold_write_lock, args=(path, seconds, held, committed))
    other.start()
    held.wait(5)
    return other


async def _prepared(tmp_path: Path, busy_timeout_ms: int):
    path = tmp_path / "inline.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}", sqlite_busy_timeout_ms=busy_timeout_ms)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    return path, engine


async def _ticks_while(work) -> tuple[object, int]:
    """Runs `work` and counts how often a 10 ms ticker got to run meanwhile."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        return await work, ticks
    finally:
        task.cancel()


async def test_a_writer_waits_for_another_process_without_freezing_the_loop(tmp_path):
    path, engine = await _prepared(tmp_path, busy_timeout_ms=5000)
    other = _other_writer(path, 0.5)

    async def write() -> list[str]:
        async with create_sessionmaker(engine)() as session:
            await session.execute(text("INSERT INTO notes (body) VALUES ('ours')"))
            await session.commit()
            return list((await session.scalars(text("SELECT body FROM notes ORDER BY id"))).all())

    try:
        bodies, ticks = await _ticks_while(write())
    finally:
        other.join()
        await engine.dispose()
    assert bodies == ["from the other writer", "ours"]  # it waited for the lock, then wrote after the other
    assert ticks >= 3  # the loop kept running while it waited (~50 ticks of 10 ms in 0.5 s when idle)


async def test_a_writer_gives_up_after_the_busy_timeout_and_nothing_is_written(tmp_path):
    path, engine = await _prepared(tmp_path, busy_timeout_ms=200)
    other = _other_writer(path, 1.0)
    try:
        async with create_sessionmaker(engine)() as session:
            with pytest.raises(OperationalError, match="database is locked"):
                await session.execute(text("INSERT INTO notes (body) VALUES ('ours')"))
    finally:
        other.join()
    async with engine.connect() as connection:
        bodies = (await connection.execute(text("SELECT body FROM notes"))).scalars().all()
    await engine.dispose()
    assert bodies == ["from the other writer"]


async def test_readers_do_not_wait_for_a_writer(tmp_path):
    path, engine = await _prepared(tmp_path, busy_timeout_ms=5000)
    reader = create_engine(f"sqlite+aiosqlite:///{path}", sqlite_reader=True)
    committed = threading.Event()
    other = _other_writer(path, 3.0, committed)
    try:
        async with reader.connect() as connection:
            count = (await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one()
        writer_still_busy = not committed.is_set()
    finally:
        other.join()
        await reader.dispose()
        await engine.dispose()
    assert count == 0  # the snapshot before the other writer's commit
    assert writer_still_busy  # answered while the other writer still held the lock


async def test_the_checkpointer_copies_the_wal_back_without_the_writers_help(tmp_path):
    path, engine = await _prepared(tmp_path, busy_timeout_ms=5000)
    async with engine.begin() as connection:
        for n in range(200):
            await connection.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": f"note {n}" * 50})
    wal = path.with_name(path.name + "-wal")
    assert wal.stat().st_size > 0  # the app's own commits leave checkpointing to the checkpointer

    checkpointer = wal_checkpointer(engine)
    assert checkpointer is not None
    busy, frames, copied = await asyncio.to_thread(checkpointer.checkpoint)
    await engine.dispose()
    assert busy == 0 and frames > 0 and copied == frames
    reopened = sqlite3.connect(path)
    assert reopened.execute("SELECT count(*) FROM notes").fetchone() == (200,)
    reopened.close()
