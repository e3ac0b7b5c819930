"""The per-beheerder report limit, shared by every app process through the database, and the per-process
budget of decoded photo pixels."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# GCRA: a key's row holds the theoretical arrival time (TAT) of its next report. A report is allowed when
# moving the TAT on by one interval keeps it within `burst` intervals of now; the check and the move are
# one atomic upsert (the conditional DO UPDATE takes the row lock on PostgreSQL; SQLite has one writer),
# so two processes can never both take the last slot. No row comes back when the report is refused.
# Plain SQL that SQLite (3.35+) and PostgreSQL both speak (the CASE is max(), named differently on each).
_TAKE_SLOT = text(
    "INSERT INTO intake_rate_limits (key, tat) VALUES (:key, CAST(:now AS DOUBLE PRECISION) + :interval) "
    "ON CONFLICT (key) DO UPDATE SET tat = CASE WHEN intake_rate_limits.tat > :now THEN intake_rate_limits.tat "
    "ELSE CAST(:now AS DOUBLE PRECISION) END + :interval "
    "WHERE CASE WHEN intake_rate_limits.tat > :now THEN intake_rate_limits.tat "
    "ELSE CAST(:now AS DOUBLE PRECISION) END + :interval - :now <= :tolerance "
    "RETURNING tat"
)
_TAT = text("SELECT tat FROM intake_rate_limits WHERE key = :key")


class SharedRateLimiter:
    """A burst, then a steady rate per key, counted in the database so that every process applies one limit.

    Runs its one statement on an engine in autocommit (the app's read engine): on PostgreSQL one round trip
    per report, and on SQLite no wait for the intake writer's connection."""

    def __init__(self, engine: AsyncEngine, per_minute: int, burst: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.interval = 60.0 / max(per_minute, 1)
        self.tolerance = max(burst, 1) * self.interval
        self.clock = clock

    async def try_acquire(self, key: str) -> float | None:
        """Takes one slot; returns None when allowed, else the seconds until the next one."""
        now = self.clock()
        params = {"key": key, "now": now, "interval": self.interval, "tolerance": self.tolerance}
        async with self.engine.connect() as connection:
            if (await connection.execute(_TAKE_SLOT, params)).first() is not None:
                await connection.commit()
                return None
            tat = (await connection.execute(_TAT, {"key": key})).scalar_one()
        return max(0.0, tat + self.interval - self.tolerance - now)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class PixelBudget:
    """Decoded pixels per key per minute (per process), refilled continuously up to one minute's worth.

    What an image will cost is known only once it is decoded, so a caller reserves the most it can cost (the
    per-image cap for each photo) before decoding and settles with what it did cost afterwards. Reserving
    the worst case keeps a burst of simultaneous uploads from one sender within the budget."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(max(per_minute, 1))
        self.rate = self.capacity / 60.0
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, key: str) -> _Bucket:
        now = self.clock()
        bucket = self._buckets.get(key) or _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self._buckets[key] = bucket
        return bucket

    def reserve(self, key: str, pixels: int) -> float | None:
        """Takes `pixels` (at most the whole budget); None when allowed, else the seconds until it would be."""
        needed = min(float(pixels), self.capacity)
        bucket = self._bucket(key)
        if bucket.tokens >= needed:
            bucket.tokens -= needed
            return None
        return (needed - bucket.tokens) / self.rate

    def settle(self, key: str, reserved: int, used: int) -> None:
        """Gives back what a reservation did not use (or takes what it used beyond it)."""
        bucket = self._bucket(key)
        bucket.tokens = min(self.capacity, bucket.tokens + min(float(reserved), self.capacity) - used)
