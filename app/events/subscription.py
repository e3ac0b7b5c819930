"""One client's subscription: a bounded queue the hub fills without ever waiting, plus the timestamps the
hub's watchdog uses to ping idle clients and to give up on clients that stopped reading."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Final

from sqlalchemy import Row

from app.events.models import Event
from app.events.projection import View
from app.events.schemas import event_json
from app.events.visibility import Visibility


class StreamEvent:
    """An event as fanned out: what the visibility rule needs, and its message as each view shows it,
    serialised once per view when the first client with that view takes it (an event nobody is shown is
    never serialised)."""

    __slots__ = ("id", "type", "audience", "region_id", "_row", "_texts")

    def __init__(self, row: Event | Row[Any]) -> None:
        self.id: int = row.id
        self.type: str = row.type
        self.audience: str = row.audience
        self.region_id: int | None = row.region_id
        self._row: Event | Row[Any] = row
        self._texts: dict[str, str | None] = {}

    def text_for(self, view: View) -> str | None:
        """The message for a client with this view, None when the view shows nothing of the event."""
        if view.name not in self._texts:
            self._texts[view.name] = event_json(self._row, view)
        return self._texts[view.name]


class Resync:
    """Queued instead of the dropped events when a client's queue overflowed."""


class Ping:
    """Queued by the watchdog when a client has had nothing for a ping interval."""


RESYNC: Final = Resync()
PING: Final = Ping()
QueueItem = StreamEvent | Resync | Ping


class Subscription:
    def __init__(self, visibility: Visibility, queue_size: int, *, token_id: int | None = None,
                 principal: tuple[str, int] | None = None) -> None:
        self.visibility = visibility
        self.token_id = token_id
        self.principal = principal
        self.recheck = asyncio.Event()  # set by the hub when this stream's token or account may be revoked
        self.queue: asyncio.Queue[QueueItem] = asyncio.Queue(maxsize=queue_size)
        self.overflowed = False
        self.dropped = 0
        self.last_sent = time.monotonic()
        self.sending_since: float | None = None
        self.too_slow = False
        self.sender: asyncio.Task[None] | None = None

    def offer(self, item: StreamEvent) -> None:
        if self.overflowed:
            self.dropped += 1
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self._overflow()

    def _overflow(self) -> None:
        self.overflowed = True
        while not self.queue.empty():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(RESYNC)

    def concerned_by(self, revoked: dict[str, Any]) -> bool:
        """Whether an access.revoked event's data names this stream's token or principal."""
        named = revoked.get("principal") or {}
        return self.token_id in (revoked.get("token_ids") or ()) or (
            self.principal is not None and (named.get("kind"), named.get("id")) == self.principal)

    def resume(self) -> None:
        """The client is being caught up from the database: queue live events again from now on."""
        self.overflowed = False

    def sending(self) -> None:
        self.sending_since = time.monotonic()

    def sent(self) -> None:
        self.sending_since = None
        self.last_sent = time.monotonic()

    def check(self, now: float, ping_interval: float, send_timeout: float) -> None:
        """The watchdog's round: one timer for all clients instead of two per message."""
        if self.sending_since is not None:
            if now - self.sending_since > send_timeout and not self.too_slow:
                self.too_slow = True
                if self.sender is not None:
                    self.sender.cancel()
        elif now - self.last_sent >= ping_interval and self.queue.empty():
            self.queue.put_nowait(PING)
