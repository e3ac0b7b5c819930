"""Event stream helpers: the stream's test timings, websocket clients that speak the event protocol, and
committing events as the domain code does."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from app.events.hub import StreamConfig
from app.events.service import emit

# Safety polls are long, so that a test passes only through the real wake-ups (after-commit, NOTIFY).
TEST_STREAM_CONFIG = StreamConfig(sqlite_poll_interval=60, postgres_poll_interval=60, hello_timeout=2,
                                  retry_min=0.2, retry_max=1)


@dataclass
class EventSpec:
    type: str = "test.event"
    region_id: int | None = None
    audience: str = "staff"
    data: dict[str, Any] = field(default_factory=dict)


def merged(region_id: int | None, incident_id: int = 1) -> EventSpec:
    """An event a wall of the region receives whole, as staff do: an incident merged into the next id."""
    return EventSpec("incident.merged", region_id, data={"incident_id": incident_id, "into": incident_id + 1})


class StreamClient:
    """A websocket client of /ws/events that sorts what arrives into events, resyncs and pings."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.welcome: dict[str, Any] = {}
        self.resyncs: list[dict[str, Any]] = []
        self.pings = 0

    async def message(self, within: float = 5) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), within))
        return result

    async def events(self, count: int, within: float = 5) -> list[dict[str, Any]]:
        """The next `count` events, in the order they arrive."""
        received: list[dict[str, Any]] = []
        async with asyncio.timeout(within):
            while len(received) < count:
                message = await self.message(within)
                if "id" in message:
                    received.append(message)
                elif message["type"] == "resync":
                    self.resyncs.append(message)
                elif message["type"] == "ping":
                    self.pings += 1
        return received

    async def nothing_more(self, seconds: float = 0.3) -> None:
        """Asserts that no event arrives within `seconds`."""
        try:
            extra = await self.events(1, within=seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected event {extra}")

    async def close(self) -> None:
        await self.ws.close()


async def open_raw(url: str, **kwargs: Any) -> ClientConnection:
    return await connect(f"{url}/ws/events", proxy=None, open_timeout=5, **kwargs)


async def commit_events(app: FastAPI, *specs: EventSpec) -> list[int]:
    """Emits the events in one transaction through `emit`, commits, and returns their ids."""
    async with app.state.sessionmaker() as session:
        rows = [emit(session, spec.type, spec.data, region_id=spec.region_id, audience=spec.audience)
                for spec in specs]
        await session.commit()
    return [row.id for row in rows]


def small_receive_buffer_socket(url: str) -> socket.socket:
    """A connected client socket with a tiny receive buffer, so that a client that stops reading pushes
    back on the server quickly."""
    host, port = url.removeprefix("ws://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.setblocking(False)
    return sock
