"""The live event stream (`WS /ws/events`) and the polling API (`GET /api/v1/events`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, WebSocket

from app.core.deps import SessionDep, allow
from app.core.principal import Principal
from app.core.schemas import MAX_DB_BIGINT
from app.core.vocabulary import STAFF
from app.events import service
from app.events.schemas import EventPage, event_out
from app.events.socket import close_quietly, serve_event_socket
from app.events.visibility import Visibility

router = APIRouter(prefix="/events", tags=["events"])
ws_router = APIRouter(tags=["events"])


@router.get("", response_model=EventPage, summary="Events na een id, voor clients die pollen")
async def list_events(
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=MAX_DB_BIGINT, description="Alleen events met een hoger id")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    principal: Principal = allow(*STAFF, "wall"),
) -> EventPage:
    visibility = Visibility.for_principal(principal)
    rows = await service.events_after(session, after, limit + 1, visibility)
    page = rows[:limit]
    shown = [event_out(row, visibility.view) for row in page]
    return EventPage(events=[event for event in shown if event is not None],
                     last_event_id=page[-1].id if page else after, has_more=len(rows) > limit)


@ws_router.websocket("/ws/events")
async def event_socket(websocket: WebSocket) -> None:
    """Authenticated by the first message (a hello with a token), not by headers: see app.events.socket."""
    hub = getattr(websocket.app.state, "event_hub", None)
    if hub is None:
        await websocket.accept()
        await close_quietly(websocket, 1011, "De eventstroom is niet gestart.")
        return
    await serve_event_socket(websocket, hub)
