"""A lease on a job shared by every app process through the database: the daily purge runs in one process
per period, not in each of them (each would do the same work again and write its own audit entry)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# One atomic statement on both engines (SQLite 3.35+, PostgreSQL): the first taker inserts the row; later
# takers move it to themselves only when the previous lease has run out (the conditional DO UPDATE takes the
# row lock on PostgreSQL; SQLite has one writer), so two processes can never both hold it. A row comes back
# only to the process that took it. Times are epoch seconds of the job's own clock.
_TAKE = text(
    "INSERT INTO job_leases (name, holder, expires_at) VALUES (:name, :holder, :until) "
    "ON CONFLICT (name) DO UPDATE SET holder = :holder, expires_at = :until "
    "WHERE job_leases.expires_at <= :now "
    "RETURNING holder"
)


class JobLease:
    """Taken for `seconds` from the job's `now`; kept after the run, so that the other processes skip the
    rest of that period. A process that dies holding it only delays the next run to the lease's end."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], name: str, seconds: float) -> None:
        self.sessionmaker = sessionmaker
        self.name = name
        self.seconds = seconds
        self.holder = uuid.uuid4().hex  # this process (or this job object)

    async def take(self, now: datetime) -> bool:
        params = {"name": self.name, "holder": self.holder, "now": now.timestamp(),
                  "until": now.timestamp() + self.seconds}
        async with self.sessionmaker() as session:
            taken = (await session.execute(_TAKE, params)).first() is not None
            await session.commit()
        return taken
