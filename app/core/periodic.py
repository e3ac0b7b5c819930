"""A background task that runs one piece of work every few seconds for as long as the app runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger("app.core.periodic")


class PeriodicTask:
    """Runs `work` every `interval_seconds` (first after one interval, or after `first_after_seconds`). A
    failing run is logged and the next one tries again: the work must be safe to repeat."""

    def __init__(self, name: str, interval_seconds: float, work: Callable[[], Awaitable[object]], *,
                 first_after_seconds: float | None = None) -> None:
        self.name = name
        self.interval_seconds = interval_seconds
        self.first_after_seconds = interval_seconds if first_after_seconds is None else first_after_seconds
        self.work = work
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        delay = self.first_after_seconds
        while True:
            await asyncio.sleep(delay)
            delay = self.interval_seconds
            try:
                await self.work()
            except Exception:
                logger.warning("%s failed; trying again in %.0f s", self.name, self.interval_seconds, exc_info=True)
