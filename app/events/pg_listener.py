"""A dedicated asyncpg connection that LISTENs on the event channel and survives PostgreSQL restarts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from app.core.retry import next_attempt_delay

logger = logging.getLogger("app.events")


class PostgresListener:
    """Calls `on_signal` for every notification on `channel`, and once after every (re)connect so that the
    hub catches up on what was committed while nobody was listening. A lost connection is logged and
    reopened with exponential back-off; a silent one is found by a periodic `SELECT 1`."""

    def __init__(self, connect_kwargs: dict[str, Any], channel: str, on_signal: Callable[[], None], *,
                 retry_min: float = 0.5, retry_max: float = 15.0, health_interval: float = 15.0) -> None:
        self.connect_kwargs = connect_kwargs
        self.channel = channel
        self.on_signal = on_signal
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.health_interval = health_interval
        self.backend_pid: int | None = None
        self.connects = 0
        self.listening = asyncio.Event()

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                connection = await asyncpg.connect(**{"timeout": 10, **self.connect_kwargs})
            except Exception as exc:
                failures += 1
                delay = next_attempt_delay(failures, base=self.retry_min, cap=self.retry_max)
                logger.warning("event listener cannot connect (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            delay = next_attempt_delay(1, base=self.retry_min, cap=self.retry_max)
            try:
                await self._listen(connection)
            except Exception as exc:
                logger.warning("event listener failed: %s", exc)
            finally:
                self.listening.clear()
                self.backend_pid = None
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), 2)
            logger.warning("event listener lost its PostgreSQL connection; reconnecting in %.1fs", delay)
            await asyncio.sleep(delay)

    async def _listen(self, connection: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(self.channel, self._notified)
        self.backend_pid = connection.get_server_pid()
        self.connects += 1
        self.listening.set()
        logger.info("event listener is listening on %s", self.channel)
        self.on_signal()
        while True:
            try:
                async with asyncio.timeout(self.health_interval):
                    await lost.wait()
                return
            except TimeoutError:
                await connection.execute("SELECT 1", timeout=5)

    def _notified(self, _connection: Any, _pid: int, _channel: str, _payload: str) -> None:
        self.on_signal()
