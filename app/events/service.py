"""Writing and reading events. An event is written in the caller's transaction, so it exists exactly when
the change it describes does; importing this module installs the hooks of `app.events.notify`, which make
a committed event reach the live stream of every app process (advisory lock + NOTIFY on PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.events import notify  # noqa: F401  (installs the session hooks)
from app.events.models import Event
from app.events.visibility import STAFF_AUDIENCE, Visibility, beheerder_audience

__all__ = ["STAFF_AUDIENCE", "beheerder_audience", "emit", "events_after", "last_visible_id"]


_ALL_EVENTS_AFTER = (select(Event).where(Event.id > bindparam("after")).order_by(Event.id)
                     .limit(bindparam("limit", type_=Integer)))


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


async def events_after(
    session: AsyncSession, after: int, limit: int, visibility: Visibility | None = None
) -> list[Event]:
    """Events with id > `after` in id order; only those `visibility` allows, or all when it is None."""
    if visibility is None:  # the hub, after every commit: a statement built once
        return list((await session.scalars(_ALL_EVENTS_AFTER, {"after": after, "limit": limit})).all())
    query = select(Event).where(Event.id > after, visibility.clause()).order_by(Event.id).limit(limit)
    return list((await session.scalars(query)).all())


async def last_visible_id(session: AsyncSession, visibility: Visibility | None = None) -> int:
    """The highest event id the viewer may see, 0 when there is none."""
    query = select(Event.id).order_by(Event.id.desc()).limit(1)
    if visibility is not None:
        query = query.where(visibility.clause())
    return int(await session.scalar(query) or 0)
