"""The one backoff formula behind every retry: doubling steps up to a cap, jitter within the step."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.broadcast.channels import SendResult
from app.broadcast.models import PENDING, Delivery
from app.broadcast.outbox import apply_failure
from app.core.retry import next_attempt_delay
from app.core.settings import Settings


def test_the_first_retry_waits_between_half_the_base_and_the_base() -> None:
    assert next_attempt_delay(1, base=10.0, cap=100.0, jitter=0.0) == 5.0
    assert next_attempt_delay(1, base=10.0, cap=100.0, jitter=1.0) == 10.0
    assert next_attempt_delay(0, base=10.0, cap=100.0, jitter=0.5) == next_attempt_delay(1, base=10.0, cap=100.0,
                                                                                         jitter=0.5)


@pytest.mark.parametrize("jitter", [0.0, 0.3, 1.0])
def test_delays_double_until_the_cap_and_then_stay(jitter: float) -> None:
    delays = [next_attempt_delay(attempt, base=1.0, cap=20.0, jitter=jitter) for attempt in range(1, 12)]
    steps = [1.0, 2.0, 4.0, 8.0, 16.0] + [20.0] * 6
    assert delays == [step / 2 + jitter * step / 2 for step in steps]
    assert delays == sorted(delays)


def test_random_jitter_spreads_over_the_step_and_never_leaves_it() -> None:
    delays = [next_attempt_delay(3, base=1.0, cap=60.0) for _ in range(500)]
    assert all(2.0 <= delay <= 4.0 for delay in delays)
    assert min(delays) < 2.5 and max(delays) > 3.5  # not one fixed point: retries do not arrive together


def test_a_huge_attempt_number_waits_the_cap() -> None:
    assert next_attempt_delay(10_000, base=5.0, cap=900.0, jitter=1.0) == 900.0


@pytest.mark.parametrize(("failures", "low", "high"), [(1, 2.5, 5.0), (3, 10.0, 20.0), (6, 30.0, 60.0)])
def test_a_failed_delivery_comes_back_within_its_backoff_step(failures: int, low: float, high: float) -> None:
    settings = Settings(broadcast_retry_base_seconds=5.0, broadcast_retry_max_seconds=60.0, broadcast_max_attempts=9)
    now = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
    row = Delivery(channel="whatsapp", fallbacks=[], failures=failures - 1, status="sending")

    # without a fallback channel, apply_failure needs no session
    apply_failure(None, row, SendResult("retry", error="HTTP 500"), settings, now)  # type: ignore[arg-type]

    assert row.status == PENDING and row.failures == failures
    assert row.next_attempt_at is not None
    assert low <= (row.next_attempt_at - now).total_seconds() <= high
