"""The daily retention purge inside the app, on an injectable clock (`app.state.privacy_clock`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.periodic import PeriodicTask
from app.core.settings import Settings
from app.privacy.retention import PurgeResult, purge

FIRST_RUN_AFTER_SECONDS = 600.0  # not in the crowd of start-up work; then every retention_purge_hours


class PurgeJob(PeriodicTask):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 clock: Callable[[], datetime], *, first_after_seconds: float = FIRST_RUN_AFTER_SECONDS) -> None:
        super().__init__("retention-purge", settings.retention_purge_hours * 3600, self.run,
                         first_after_seconds=first_after_seconds)
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.clock = clock

    async def run(self) -> PurgeResult:
        return await purge(self.sessionmaker, self.settings, self.clock(), source="job")
