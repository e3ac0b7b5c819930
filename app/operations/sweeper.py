"""A background task of every app process: opens and closes operations when their start and end come."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.periodic import PeriodicTask
from app.core.settings import Settings
from app.operations.lifecycle import advance
from app.operations.times import Clock


class OperationSweeper(PeriodicTask):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock,
                 sent: Callable[[], None] = lambda: None) -> None:
        super().__init__("operation-sweeper", settings.operation_sweep_seconds, self.sweep)
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.clock = clock
        self.sent = sent  # wakes the delivery worker for the closing messages

    async def sweep(self) -> int:
        async with self.sessionmaker() as session:
            moved = await advance(session, self.clock(), self.settings)
        if moved:
            self.sent()
        return moved
