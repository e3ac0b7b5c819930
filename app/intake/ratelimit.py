"""The per-beheerder report limit, shared by every app process through the database, and the per-process
budget of decoded photo pixels."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Float, column, select, text, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.auth.service import TOKEN_LOOKUP, principal_of, resolve_token
from app.core.database import utcnow
from app.core.principal import Principal
from app.core.security import token_digest

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

# PostgreSQL: the token check and the slot in one statement, one round trip instead of two on every report.
# The slot's CTE runs only for a token that principal_of() will accept as a beheerder's (the same conditions
# at the same `at`), so a refused token takes no slot; `slot_tat` is NULL when there is no slot to take.
# SQLite allows no INSERT in a WITH clause, and its statements cost no round trip: there it stays two.
_TOKEN = TOKEN_LOOKUP.cte("token")
_SLOT = text(
    "INSERT INTO intake_rate_limits (key, tat) "
    "SELECT 'beheerder:' || token.beheerder_id, CAST(:now AS DOUBLE PRECISION) + :interval FROM token "
    "WHERE token.kind = 'beheerder' AND token.beheerder_active AND token.revoked_at IS NULL "
    "AND token.expires_at > :at "
    "ON CONFLICT (key) DO UPDATE SET tat = CASE WHEN intake_rate_limits.tat > :now THEN intake_rate_limits.tat "
    "ELSE CAST(:now AS DOUBLE PRECISION) END + :interval "
    "WHERE CASE WHEN intake_rate_limits.tat > :now THEN intake_rate_limits.tat "
    "ELSE CAST(:now AS DOUBLE PRECISION) END + :interval - :now <= :tolerance "
    "RETURNING tat"
).columns(column("tat", Float)).cte("slot")
_TOKEN_AND_SLOT = select(_TOKEN, _SLOT.c.tat.label("slot_tat")).select_from(_TOKEN.outerjoin(_SLOT, true()))


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
        async with self.engine.connect() as connection:
            return await self._take(connection, key)

    async def admit(self, token: str, source_ip: str | None) -> tuple[Principal, float | None]:
        """The principal of a presented token (or 401, taking nothing) and, when it is a beheerder, one slot of
        theirs taken: None when allowed, else the seconds until the next one. Other principals take none."""
        async with self.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                principal = await resolve_token(connection, token, source_ip)
                return principal, (await self._take(connection, _key(principal))
                                   if principal.kind == "beheerder" else None)
            now, at = self.clock(), utcnow()
            record = (await connection.execute(_TOKEN_AND_SLOT, {"digest": token_digest(token), "at": at,
                                                                 **self._params(now)})).first()
            principal = principal_of(record, source_ip, at)
            if principal.kind != "beheerder" or record is None or record.slot_tat is not None:
                return principal, None
            return principal, await self._wait(connection, _key(principal), now)

    def _params(self, now: float) -> dict[str, float]:
        return {"now": now, "interval": self.interval, "tolerance": self.tolerance}

    async def _take(self, connection: AsyncConnection, key: str) -> float | None:
        now = self.clock()
        if (await connection.execute(_TAKE_SLOT, {"key": key, **self._params(now)})).first() is not None:
            await connection.commit()
            return None
        return await self._wait(connection, key, now)

    async def _wait(self, connection: AsyncConnection, key: str, now: float) -> float:
        """The seconds until the key's next slot, for a report that was refused at `now`."""
        tat = (await connection.execute(_TAT, {"key": key})).scalar_one()
        return max(0.0, tat + self.interval - self.tolerance - now)


def _key(principal: Principal) -> str:
    return f"beheerder:{principal.id}"


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
