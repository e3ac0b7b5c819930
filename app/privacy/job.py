"""The daily retention purge inside the app, on an injectable clock (`app.state.privacy_clock`). Every app
process runs this job; a lease in the database lets one of them purge per period and the others skip it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.periodic import PeriodicTask
from app.core.settings import Settings
from app.privacy.lease import JobLease
from app.privacy.retention import PurgeResult, purge

FIRST_RUN_AFTER_SECONDS = 600.0  # not in the crowd of start-up work; then every retention_purge_hours
LEASE_NAME = "retention-purge"
# The lease ends a little before the period does, so that the process holding it finds it free on its next
# run even when its timer drifts early; another process then takes it only once that much has passed too.
LEASE_SHARE_OF_PERIOD = 0.9


class PurgeJob(PeriodicTask):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 clock: Callable[[], datetime], *, first_after_seconds: float = FIRST_RUN_AFTER_SECONDS) -> None:
        period = settings.retention_purge_hours * 3600
        super().__init__("retention-purge", period, self.run, first_after_seconds=first_after_seconds)
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.clock = clock
        self.lease = JobLease(sessionmaker, LEASE_NAME, period * LEASE_SHARE_OF_PERIOD)

    async def run(self) -> PurgeResult | None:
        """Purges when this process takes the lease; None when another process purged in this period."""
        now = self.clock()
        if not await self.lease.take(now):
            return None
        return await purge(self.sessionmaker, self.settings, now, source="job")
