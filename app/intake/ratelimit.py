"""Per-key token buckets (per process): a beheerder may send a burst, then a steady rate."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def try_acquire(self, key: str) -> float | None:
        """Takes one token; returns None when allowed, else the seconds until the next token."""
        now = self.clock()
        bucket = self._buckets.get(key) or _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self._buckets[key] = bucket
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return (1 - bucket.tokens) / self.rate if self.rate > 0 else math.inf


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
