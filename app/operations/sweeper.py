"""A background task of every app process: opens and closes operations when their start and end come, and
forgets the numbers of public participants once the retention period after closing has passed."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.periodic import PeriodicTask
from app.core.settings import Settings
from app.operations.lifecycle import advance
from app.operations.public import forget_due
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
        now = self.clock()
        async with self.sessionmaker() as session:
            moved = await advance(session, now, self.settings)
            await forget_due(session, now, self.settings)
        if moved:
            self.sent()
        return moved
