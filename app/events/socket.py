"""One websocket client of `WS /ws/events`: hello, welcome, replay, then live events.

Protocol: the client's first message is `{"type": "hello", "token": ..., "last_event_id": N}`; a bad token,
a malformed hello or none within a few seconds closes with 4401 and a reason. The server answers
`{"type": "welcome", "last_event_id": <newest visible id>, "principal": {...}}`, replays the visible events
after N in id order, then streams live ones as `{"id", "type", "at", "data"}`. When the client cannot
keep up, its queue is dropped and it gets `{"type": "resync", "last_event_id": <last delivered>}` followed
by the events after that id, read from the database. A client that cannot take a single message within
`send_timeout` is closed with 4408 (if the close frame still gets through) and reconnects with its last
id. Idle connections get `{"type": "ping"}` every `ping_interval` seconds. The token is checked again at once
when it, or its account, is revoked or deactivated (an access.revoked event, from any process), and every
`token_recheck_interval` seconds for expiry: once it no longer holds, the stream closes with 4401 and the
reason."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.core.errors import Forbidden, Unauthorized
from app.core.principal import Principal, TokenResolver
from app.events.hub import EventHub
from app.events.schemas import Hello, event_json
from app.events.service import events_after, last_visible_id
from app.events.subscription import Resync, StreamEvent
from app.events.visibility import Visibility

logger = logging.getLogger("app.events")

CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_SLOW = 4408
MAX_REASON_BYTES = 123  # the limit of a websocket close frame


class Rejected(Exception):
    """The hello was missing, malformed or carried a token we do not accept."""


class TooSlow(Exception):
    """The client did not take a message within the send timeout."""


class TokenWithdrawn(Exception):
    """The token the stream was opened with no longer holds."""


async def serve_event_socket(websocket: WebSocket, hub: EventHub) -> None:
    await websocket.accept()
    try:
        hello = await _receive_hello(websocket, hub.config.hello_timeout)
        principal = await _authenticate(hub.reader, hello.token, websocket)
        visibility = _visibility(principal)
    except Rejected as exc:
        await close_quietly(websocket, CLOSE_UNAUTHORIZED, str(exc))
        return
    except WebSocketDisconnect:
        return
    await EventStream(websocket, hub, principal, visibility, hello.token).run(hello.last_event_id)


async def _receive_hello(websocket: WebSocket, wait_s: float) -> Hello:
    try:
        async with asyncio.timeout(wait_s):
            message = await websocket.receive()
    except TimeoutError:
        raise Rejected(f"Geen hello ontvangen binnen {wait_s:g} seconden.") from None
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    raw = message.get("text") or message.get("bytes")
    try:
        return Hello.model_validate_json(raw or b"")
    except ValidationError:
        raise Rejected('Ongeldige hello; verwacht {"type": "hello", "token": ..., "last_event_id": N}.') from None


async def _authenticate(sessionmaker: async_sessionmaker[AsyncSession], token: str,
                        websocket: WebSocket) -> Principal:
    source_ip = websocket.client.host if websocket.client else None
    async with sessionmaker() as session:
        try:
            resolve: TokenResolver = websocket.app.state.resolve_token  # app.auth.service.resolve_token
            return await resolve(session, token, source_ip)
        except Unauthorized as exc:
            raise Rejected(exc.detail or "Ongeldig token.") from None


def _visibility(principal: Principal) -> Visibility:
    try:
        return Visibility.for_principal(principal)
    except Forbidden as exc:
        raise Rejected(exc.detail or "Geen eventstroom voor dit account.") from None


async def close_quietly(websocket: WebSocket, code: int, reason: str) -> None:
    """Closes with a code and reason, without waiting long for a client that does not read."""
    reason = reason.encode()[:MAX_REASON_BYTES].decode(errors="ignore")
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1):
            await websocket.close(code, reason)


class EventStream:
    """Delivers one client's events in id order, exactly once, from replay and live queue alike: every
    message carries its id and anything at or below `last_id` (the last one sent) is skipped."""

    def __init__(self, websocket: WebSocket, hub: EventHub, principal: Principal, visibility: Visibility,
                 token: str) -> None:
        self.websocket = websocket
        self.token = token
        self.hub = hub
        self.config = hub.config
        self.principal = principal
        self.visibility = visibility
        # Subscribed before the replay reads, so nothing falls between.
        self.subscription = hub.subscribe(visibility, token_id=principal.token_id,
                                          principal=(principal.kind, principal.id))
        self.last_id = 0

    async def run(self, requested_after: int | None) -> None:
        try:
            await self._serve(requested_after)
        except WebSocketDisconnect:
            pass
        except TooSlow:
            logger.info("closing event stream of %s %s: too slow", self.principal.kind, self.principal.id)
            await close_quietly(self.websocket, CLOSE_TOO_SLOW, "Te traag; verbind opnieuw met last_event_id.")
        except TokenWithdrawn as exc:
            logger.info("closing event stream of %s %s: %s", self.principal.kind, self.principal.id, exc)
            await close_quietly(self.websocket, CLOSE_UNAUTHORIZED, str(exc))
        finally:
            self.hub.unsubscribe(self.subscription)

    async def _serve(self, requested_after: int | None) -> None:
        """Sends in one task and reads in another, until either ends; the hub's watchdog cancels the sender
        of a client that has not taken a message within the send timeout."""
        deliver = asyncio.create_task(self._deliver(requested_after))
        self.subscription.sender = deliver
        incoming = asyncio.create_task(self._ignore_incoming())
        watch = asyncio.create_task(self._watch_token())
        tasks = (deliver, incoming, watch)
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.subscription.too_slow:
            raise TooSlow()
        for task in done:
            task.result()

    async def _watch_token(self) -> None:
        """Ends (with TokenWithdrawn) once the token is refused: checked when the hub says it may have been
        revoked, and every `token_recheck_interval` for expiry. A database hiccup is not a refusal."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.token_recheck_interval):
                    await self.subscription.recheck.wait()
            self.subscription.recheck.clear()
            try:
                await _authenticate(self.hub.reader, self.token, self.websocket)
            except Rejected as exc:
                raise TokenWithdrawn(str(exc)) from None
            except Exception:
                logger.warning("could not re-check the token of an event stream", exc_info=True)

    async def _ignore_incoming(self) -> None:
        """Reads (and ignores) what the client sends, so that a disconnect is noticed at once."""
        while (await self.websocket.receive())["type"] != "websocket.disconnect":
            pass

    async def _deliver(self, requested_after: int | None) -> None:
        await self._welcome(requested_after)
        await self._catch_up()
        while True:
            item = await self.subscription.queue.get()
            if isinstance(item, StreamEvent):
                if item.id > self.last_id:
                    await self._send_event(item.id, item.text_for(self.visibility.view))
            elif isinstance(item, Resync):
                await self._send_json({"type": "resync", "last_event_id": self.last_id})
                await self._catch_up()
            else:
                await self._send_json({"type": "ping"})

    async def _welcome(self, requested_after: int | None) -> None:
        async with self.hub.reader() as session:
            newest = await last_visible_id(session, self.visibility)
        # A client that asks for nothing starts now; one that is ahead of the table (a reset database) too.
        self.last_id = newest if requested_after is None or requested_after > newest else requested_after
        p = self.principal
        await self._send_json({
            "type": "welcome", "last_event_id": newest,
            "principal": {"kind": p.kind, "name": p.name, "role": p.role},
            "ping_interval": self.config.ping_interval,
        })

    async def _catch_up(self) -> None:
        """Sends the visible events after `last_id` from the database; live events queue up meanwhile."""
        self.subscription.resume()
        while True:
            async with self.hub.reader() as session:
                rows = await events_after(session, self.last_id, self.config.page_size, self.visibility)
            for row in rows:
                await self._send_event(row.id, event_json(row, self.visibility.view))
            if len(rows) < self.config.page_size:
                return

    async def _send_event(self, event_id: int, text: str | None) -> None:
        """Sends an event as this client's view shows it; one it shows nothing of is passed over."""
        if text is not None:
            await self._send_text(text)
        self.last_id = event_id

    async def _send_json(self, message: dict[str, Any]) -> None:
        await self._send_text(json.dumps(message, separators=(",", ":")))

    async def _send_text(self, text: str) -> None:
        self.subscription.sending()
        await self.websocket.send_text(text)
        self.subscription.sent()
