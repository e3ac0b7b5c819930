"""Send pacing per channel key (e.g. one WhatsApp business number), shared by every worker.

Both limiters hand out evenly spaced send slots at `rate` per second (GCRA: a theoretical arrival time that
moves 1/rate per message), so a provider's sliding one-second window never sees more than `rate`.
`HEADROOM` keeps a little below the limit because requests reach the provider a few milliseconds apart
from when they were scheduled.

* `LocalRateLimiter`: in process. Enough for SQLite, which runs a single worker process.
* `DatabaseRateLimiter`: on PostgreSQL, the arrival time lives in a row (`delivery_rate_limits`) that every
  worker process updates under a row lock. A process reserves a small run of slots per round trip
  (about 50 ms worth) and spaces them out locally. No process sees the others' sends, so the shared schedule
  allows no catch-up: a slot is used on time (within `LATE_TOLERANCE`) or not at all, and the schedule never
  restarts in the past. In any second the processes together then send at most
  rate * (SHARED_HEADROOM + LATE_TOLERANCE) + 1, below the provider's limit."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.broadcast.models import RateLimitState

HEADROOM = 0.99
RESERVE_SECONDS = 0.05
CATCH_UP = 0.05  # seconds of lateness the local schedule makes up for (the window rule still caps a burst)
SHARED_HEADROOM = 0.98
LATE_TOLERANCE = 0.01  # seconds a shared slot may be used late; older slots are given up

Sleep = Callable[[float], Awaitable[None]]


class RateLimiter(Protocol):
    async def wait_turn(self, key: str, rate: float) -> None:
        """Returns when the caller may send one message under `key`."""


class _Window:
    """The provider's rule, checked on our side: at most `cap` sends in any trailing second, counted at the
    moments callers really go (so a catch-up after a stalled event loop cannot bunch up beyond it)."""

    def __init__(self) -> None:
        self._recent: deque[float] = deque()

    def earliest(self, slot: float, cap: int) -> float:
        return max(slot, self._recent[-cap] + 1.0) if len(self._recent) >= cap else slot

    def note(self, release: float, cap: int) -> None:
        self._recent.append(release)
        while len(self._recent) > cap:
            self._recent.popleft()


class LocalRateLimiter:
    """Evenly spaced slots (GCRA) plus the window rule, in this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._windows: dict[str, _Window] = {}

    async def wait_turn(self, key: str, rate: float) -> None:
        if rate <= 0:
            return
        now = self._clock()
        cap, window = max(1, int(rate * HEADROOM)), self._windows.setdefault(key, _Window())
        # A caller that wakes a little late does not push the schedule back: the next ones catch up.
        slot = window.earliest(max(now - CATCH_UP, self._next.get(key, now)), cap)
        self._next[key] = slot + 1.0 / (rate * HEADROOM)
        release = max(slot, now)
        window.note(release, cap)
        if release > now:
            await self._sleep(release - now)


class DatabaseRateLimiter:
    """Slots reserved in runs from the shared row (wall-clock seconds), then the window rule locally."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], sleep: Sleep = asyncio.sleep) -> None:
        self._sessionmaker = sessionmaker
        self._sleep = sleep
        self._slots: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._windows: dict[str, _Window] = {}

    async def wait_turn(self, key: str, rate: float) -> None:
        if rate <= 0:
            return
        cap, window = max(1, int(rate * SHARED_HEADROOM)), self._windows.setdefault(key, _Window())
        slot = window.earliest(await self._next_slot(key, rate * SHARED_HEADROOM), cap)
        now = time.time()
        release = max(slot, now)
        window.note(release, cap)
        if release > now:
            await self._sleep(release - now)

    async def _next_slot(self, key: str, rate: float) -> float:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            slots = self._slots.setdefault(key, deque())
            while slots and slots[0] < time.time() - LATE_TOLERANCE:  # a late slot is not a licence to burst
                slots.popleft()
            if not slots:
                slots.extend(await self._reserve(key, rate, max(1, int(rate * RESERVE_SECONDS))))
            return slots.popleft()

    async def _reserve(self, key: str, rate: float, count: int) -> list[float]:
        async with self._sessionmaker() as session:
            await session.execute(pg_insert(RateLimitState).values(key=key, tat=0.0).on_conflict_do_nothing())
            state = await session.scalar(select(RateLimitState).where(RateLimitState.key == key).with_for_update())
            assert state is not None
            start = max(time.time(), state.tat)
            state.tat = start + count / rate
            await session.commit()
        return [start + index / rate for index in range(count)]


def build_rate_limiter(sessionmaker: async_sessionmaker[AsyncSession], is_postgres: bool) -> RateLimiter:
    return DatabaseRateLimiter(sessionmaker) if is_postgres else LocalRateLimiter()
