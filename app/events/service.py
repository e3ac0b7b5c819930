"""Writing events: in the caller's transaction, so an event exists exactly when its change does."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.events.models import Event

STAFF_AUDIENCE = "staff"


def beheerder_audience(beheerder_id: int) -> str:
    return f"beheerder:{beheerder_id}"


def emit(
    session: AsyncSession,
    event_type: str,
    data: dict[str, Any],
    *,
    region_id: int | None = None,
    wijk_code: str | None = None,
    audience: str = STAFF_AUDIENCE,
) -> Event:
    """Adds an event row to the session; it is committed (or rolled back) with the change it describes."""
    event = Event(type=event_type, data=data, region_id=region_id, wijk_code=wijk_code, audience=audience)
    session.add(event)
    return event
