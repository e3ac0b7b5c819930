"""How a committed event row reaches the hubs: session hooks that run for every flush of an Event.

On PostgreSQL a transaction that inserts events

1. takes `pg_advisory_xact_lock(EVENT_WRITE_LOCK)` before the INSERT, and
2. calls `pg_notify(CHANNEL, '<event id>')` after it.

Why the lock: ids come from a sequence, so without it two writers can commit out of id order (B takes id
11 and commits while A still holds id 10). A hub that read 11 and moved its high-water mark past 10 would
never deliver A's event. With the lock an event-writing transaction obtains its ids only after the previous
one has committed and become visible (PostgreSQL releases transaction locks after the commit is visible),
so the committed events are always a gap-free prefix of the id order and "id > mark" never misses a row.
We chose this over gap tracking with a hold-back because it is simple to reason about and costs only
the (short) overlap of event-writing transactions from their first event flush to commit; services emit
events at the end of their unit of work, so that window is a flush and a commit. A rolled-back writer
leaves a gap that nobody waits for. Emit events after taking other row locks, not before, to avoid
lock-order deadlocks.

pg_notify is transactional: listeners in every app process hear it only once the row is committed.
The hooks see ORM inserts (which is what `emit` does). The intake's group commit writes its events with Core
through `app.events.service.insert_events`, which takes the same lock and sends the same NOTIFY itself.

On SQLite (one process, writers already serialised by BEGIN IMMEDIATE, so ids commit in order) there is
no NOTIFY; instead `after_commit` wakes the hub that serves the same engine in this process.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from app.events.models import Event

CHANNEL = "meldkamer_events"
EVENT_WRITE_LOCK = 0x6D656C646B616D  # "meldkam"; the advisory lock key that orders event writers
_WROTE_EVENTS = "meldkamer.events.wrote"

NOTIFY_SQL = text(f"SELECT pg_notify('{CHANNEL}', CAST(id AS text)) FROM unnest(CAST(:ids AS BIGINT[])) AS id")
LOCK_SQL = text("SELECT pg_advisory_xact_lock(:key)")

# The lock, the insert and the NOTIFY of a batch of events in one round trip (the intake's group commit). No row
# reaches the INSERT, and so no id is drawn from the sequence, before the `held` row exists, i.e. before the
# lock is held, whichever way the planner joins it; pg_advisory_xact_lock is volatile, so the CTE is never
# inlined or skipped.
INSERT_EVENTS_SQL = text(f"""
WITH held AS (SELECT pg_advisory_xact_lock(:key) AS locked),
added AS (
    INSERT INTO events (type, at, region_id, wijk_code, audience, data)
    SELECT e.type, CAST(:at AS TIMESTAMP WITH TIME ZONE), e.region_id, e.wijk_code, e.audience, e.data
    FROM held, json_to_recordset(CAST(CAST(:rows AS TEXT) AS json))
        AS e(type VARCHAR, region_id INTEGER, wijk_code VARCHAR, audience VARCHAR, data JSON)
    RETURNING id)
SELECT id, pg_notify('{CHANNEL}', CAST(id AS text)) FROM added""")

_wakers: weakref.WeakKeyDictionary[Engine, Callable[[], None]] = weakref.WeakKeyDictionary()


def register_waker(engine: Engine, wake: Callable[[], None]) -> None:
    """Called by a hub: run `wake` after every commit that wrote events through this engine."""
    _wakers[engine] = wake


def unregister_waker(engine: Engine) -> None:
    _wakers.pop(engine, None)


def wake_local_hub(engine: Engine) -> None:
    """Tells the hub of this process that events were committed through `engine` (SQLite has no NOTIFY)."""
    wake = _wakers.get(engine)
    if wake is not None:
        wake()


def thread_safe_waker(wake_on_loop: Callable[[], None]) -> Callable[[], None]:
    """`wake_on_loop`, run on the current event loop whichever thread the commit happened on."""
    loop = asyncio.get_running_loop()

    def wake() -> None:
        loop.call_soon_threadsafe(wake_on_loop)

    return wake


def _new_events(session: Session) -> list[Event]:
    return [obj for obj in session.new if isinstance(obj, Event)]


@event.listens_for(Session, "before_flush")
def _lock_before_insert(session: Session, _context: Any, _instances: Any) -> None:
    if not _new_events(session):
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(LOCK_SQL, {"key": EVENT_WRITE_LOCK})


@event.listens_for(Session, "after_flush")
def _notify_after_insert(session: Session, _context: Any) -> None:
    # In after_flush, session.new still lists the objects just inserted, now with their ids.
    ids = [obj.id for obj in _new_events(session)]
    if not ids:
        return
    session.info[_WROTE_EVENTS] = True
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(NOTIFY_SQL, {"ids": ids})


@event.listens_for(Session, "after_commit")
def _wake_local_hub(session: Session) -> None:
    if not session.info.pop(_WROTE_EVENTS, False):
        return
    bind = session.get_bind()
    wake_local_hub(bind if isinstance(bind, Engine) else bind.engine)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_WROTE_EVENTS, None)
