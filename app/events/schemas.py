"""Event shapes for the live stream and the polling API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row

from app.core.schemas import MAX_DB_BIGINT
from app.events.models import Event
from app.events.projection import View


class EventOut(BaseModel):
    """One event as clients see it, on the websocket and in the polling API alike; `data` is what the
    principal's view (app.events.projection) shows of it."""

    id: int
    type: str
    at: datetime
    data: dict[str, Any]


class EventPage(BaseModel):
    events: list[EventOut]
    last_event_id: int = Field(description="Id van het laatste event in deze pagina (of `after` als die leeg is); "
                                           "geef het mee als `after` bij de volgende vraag")
    has_more: bool


class Hello(BaseModel):
    """The first message a websocket client sends."""

    model_config = ConfigDict(extra="ignore")
    type: Literal["hello"]
    token: str = Field(min_length=1, max_length=512)
    last_event_id: int | None = Field(default=None, ge=0, le=MAX_DB_BIGINT)


def event_out(event: Event | Row[Any], view: View) -> EventOut | None:
    """The event as a principal with this view receives it, or None when it receives nothing of it."""
    data = view.project(event.type, event.data or {})
    if data is None:
        return None
    return EventOut(id=event.id, type=event.type, at=event.at, data=data)


def event_json(event: Event | Row[Any], view: View) -> str | None:
    """The stream message for an event as this view shows it (serialised once per view by the hub)."""
    out = event_out(event, view)
    return None if out is None else out.model_dump_json()
