"""SQLite calls on the event loop's own thread, for the embedded (single-process) deployment.

aiosqlite runs every call on a helper thread and SQLAlchemy's adapter makes about four calls per statement;
each thread hand-over costs ~100 us here, while the statements themselves take 5-50 us on a local WAL file.
Running them inline makes a statement ~10x cheaper (see docs/performance.md, "Intake"). With one
connection per process nothing else could use the database meanwhile anyway.

What blocking the loop would cost is kept short: a statement outside a transaction (above all our
`BEGIN IMMEDIATE`) that finds the file locked by another process is retried after an asyncio sleep, until
the busy timeout, instead of blocking in SQLite's own busy handler. Inside a transaction SQLite waits at
most `IN_TRANSACTION_WAIT_SECONDS` (it rarely has to: writers take the lock when they begin).

This builds on aiosqlite's connection (so SQLAlchemy's aiosqlite dialect drives it unchanged) and replaces
its thread and queue; the aiosqlite version is pinned for that reason and tests/platform/test_sqlite_inline.py
checks the behaviour."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import aiosqlite

from app.core.periodic import PeriodicTask

IN_TRANSACTION_WAIT_SECONDS = 0.1
SAFETY_NET_AUTOCHECKPOINT_PAGES = 10_000  # ~40 MB of WAL
FIRST_RETRY_SECONDS = 0.001
LONGEST_RETRY_SECONDS = 0.05


class _RunNow:
    """Stands in for aiosqlite's queue to its thread: runs the call at once and settles its future."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting caller, as the thread would
            if future is None:
                raise
            future.set_exception(exc)
        else:
            if future is not None:
                future.set_result(result)


class InlineSQLiteConnection(aiosqlite.Connection):
    def __init__(self, database: str, busy_timeout_seconds: float) -> None:
        connector = partial(sqlite3.connect, database, timeout=IN_TRANSACTION_WAIT_SECONDS, isolation_level=None)
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]
        self.busy_timeout_seconds = busy_timeout_seconds

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()  # no thread to start

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        connection = self._connection
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.busy_timeout_seconds
        delay = FIRST_RETRY_SECONDS
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                # Outside a transaction a refused statement changed nothing, so it can simply run again.
                if not _is_busy(exc) or connection.in_transaction or loop.time() + delay > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, LONGEST_RETRY_SECONDS)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or \
        "database is locked" in str(exc)


def inline_connector(database: str, busy_timeout_seconds: float) -> Callable[[], Any]:
    """An `async_creator` for SQLAlchemy's create_async_engine."""

    async def connect() -> InlineSQLiteConnection:
        connection = InlineSQLiteConnection(database, busy_timeout_seconds)
        await connection
        return connection

    return connect


class WalCheckpointer(PeriodicTask):
    """Copies the WAL back into the database file from a helper thread, once a second.

    SQLite otherwise checkpoints inside the commit that crosses `wal_autocheckpoint` pages, which on the event
    loop would stall every request for the checkpoint's writes and fsync. A PASSIVE checkpoint never waits
    for, nor blocks, readers and writers; the app's connections keep a high autocheckpoint as a safety net
    for when no checkpointer runs (command-line tools, a standalone worker)."""

    def __init__(self, database: str, interval_seconds: float = 1.0) -> None:
        super().__init__("sqlite-wal-checkpoint", interval_seconds, lambda: asyncio.to_thread(self.checkpoint))
        self.database = database

    def checkpoint(self) -> tuple[int, int, int]:
        """(busy, WAL frames, frames copied) as SQLite reports them."""
        connection = sqlite3.connect(self.database, timeout=IN_TRANSACTION_WAIT_SECONDS, isolation_level=None)
        try:
            busy, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            return int(busy), int(frames), int(copied)
        finally:
            connection.close()
