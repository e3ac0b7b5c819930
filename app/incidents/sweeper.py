"""A background task of every app process: ends expired claims on incidents (see queue.expire_claims)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.periodic import PeriodicTask
from app.incidents.service import expire_claims


class ClaimSweeper(PeriodicTask):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], interval_seconds: float) -> None:
        super().__init__("claim-sweeper", interval_seconds, self.sweep)
        self.sessionmaker = sessionmaker

    async def sweep(self) -> int:
        async with self.sessionmaker() as session:
            return await expire_claims(session)
