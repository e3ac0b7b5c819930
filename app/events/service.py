"""Writing and reading events. An event is written in the caller's transaction, so it exists exactly when
the change it describes does; importing this module installs the hooks of `app.events.notify`, which make
a committed event reach the live stream of every app process (advisory lock + NOTIFY on PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, Row, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.core.database import utcnow
from app.events import notify  # also installs the session hooks
from app.events.models import Event
from app.events.visibility import STAFF_AUDIENCE, Visibility, beheerder_audience

__all__ = ["STAFF_AUDIENCE", "SYSTEM_AUDIENCE", "NewEvent", "beheerder_audience", "emit", "emit_access_revoked",
           "event_rows_after", "events_after", "insert_events", "last_visible_id"]

# Events for the hubs themselves, never shown to a client: no principal's visibility has this audience.
SYSTEM_AUDIENCE = "system"
ACCESS_REVOKED = "access.revoked"


_EVENT_ROWS_AFTER = (select(Event.__table__).where(Event.id > bindparam("after")).order_by(Event.id)
                     .limit(bindparam("limit", type_=Integer)))  # built once: the hub runs it after every commit


def emit(
    session: AsyncSession,
    event_type: str,
    data: dict[str, Any],
    *,
    region_id: int | None = None,
    wijk_code: str | None = None,
    audience: str = STAFF_AUDIENCE,
) -> Event:
    """Adds an event row to the session; it is committed (or rolled back) with the change it describes.
    Call it at the end of the unit of work (see `app.events.notify` for why)."""
    event = Event(type=event_type, data=data, region_id=region_id, wijk_code=wijk_code, audience=audience)
    session.add(event)
    return event


def emit_access_revoked(session: AsyncSession, *, token_ids: Sequence[int] = (),
                        principal: tuple[str, int] | None = None) -> Event:
    """Tells every process's event hub, once the revocation commits, to check the tokens of the streams it
    serves for these tokens or this principal (kind, id) at once: they close within a moment, not at their
    next periodic check."""
    data: dict[str, Any] = {"token_ids": list(token_ids)}
    if principal is not None:
        data["principal"] = {"kind": principal[0], "id": principal[1]}
    return emit(session, ACCESS_REVOKED, data, audience=SYSTEM_AUDIENCE)


@dataclass(frozen=True)
class NewEvent:
    """An event to write with `insert_events`: the columns of an Event row without id and time."""

    type: str
    data: dict[str, Any]
    region_id: int | None = None
    wijk_code: str | None = None
    audience: str = field(default=STAFF_AUDIENCE)


_INSERT_EVENTS = insert(Event).returning(Event.id)  # the ids only feed NOTIFY: their order does not matter


async def insert_events(connection: AsyncConnection, events: Sequence[NewEvent]) -> list[int]:
    """Writes events in the connection's transaction without an ORM session (the intake's group commit),
    with the same ordering lock and NOTIFY as the session hooks of `app.events.notify`. Call it after the
    transaction's other writes. On SQLite, call `notify.wake_local_hub` after the commit."""
    if not events:
        return []
    rows = [{"type": event.type, "data": event.data, "region_id": event.region_id, "wijk_code": event.wijk_code,
             "audience": event.audience} for event in events]  # not dataclasses.asdict: it deep-copies the data
    if connection.dialect.name == "postgresql":  # lock, insert and NOTIFY in one round trip
        result = await connection.execute(notify.INSERT_EVENTS_SQL, {
            "key": notify.EVENT_WRITE_LOCK, "at": utcnow(), "rows": json.dumps(rows)})
    else:
        result = await connection.execute(_INSERT_EVENTS, rows)
    return [int(row_id) for row_id in result.scalars().all()]


async def event_rows_after(connection: AsyncConnection, after: int, limit: int) -> Sequence[Row[Any]]:
    """Every event with id > `after` in id order, as plain rows (no ORM objects: the hub reads these after
    every commit that wrote events)."""
    return (await connection.execute(_EVENT_ROWS_AFTER, {"after": after, "limit": limit})).all()


async def events_after(session: AsyncSession, after: int, limit: int, visibility: Visibility) -> list[Event]:
    """The events with id > `after` that `visibility` allows, in id order."""
    query = select(Event).where(Event.id > after, visibility.clause()).order_by(Event.id).limit(limit)
    return list((await session.scalars(query)).all())


async def last_visible_id(session: AsyncSession, visibility: Visibility | None = None) -> int:
    """The highest event id the viewer may see, 0 when there is none."""
    query = select(Event.id).order_by(Event.id.desc()).limit(1)
    if visibility is not None:
        query = query.where(visibility.clause())
    return int(await session.scalar(query) or 0)
