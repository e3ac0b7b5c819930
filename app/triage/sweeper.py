"""A background task of every app process: ends expired claims on incidents (see queue.expire_claims)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.triage.queue import expire_claims

logger = logging.getLogger("app.triage.sweeper")


class ClaimSweeper:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], interval_seconds: float) -> None:
        self.sessionmaker = sessionmaker
        self.interval_seconds = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="claim-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_seconds)
            try:
                async with self.sessionmaker() as session:
                    expired = await expire_claims(session)
                if expired:
                    logger.info("ended %d expired claims", expired)
            except Exception:
                logger.warning("could not end expired claims; retrying", exc_info=True)
