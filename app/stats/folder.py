"""A background task of every app process: folds the queued fact changes in once a minute, so that an
evaluation after a quiet hour does not first compute an hour of new reports' facts (app.stats.facts)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.periodic import PeriodicTask
from app.stats.facts import fold_changes

FOLD_EVERY_SECONDS = 60.0


class FactFolder(PeriodicTask):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession],
                 interval_seconds: float = FOLD_EVERY_SECONDS) -> None:
        super().__init__("fact-folder", interval_seconds, self.fold)
        self.sessionmaker = sessionmaker

    async def fold(self) -> int:
        async with self.sessionmaker() as session:
            folded = await fold_changes(session)
            await session.commit()
            return folded
