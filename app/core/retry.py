"""How long to wait before trying again: the one backoff formula of the relay.

Retries scheduled in the database (outbox deliveries, media downloads) store `now + next_attempt_delay(...)`;
retries inside one call (the Graph media download) use it as their tenacity wait.
"""

from __future__ import annotations

import random


def next_attempt_delay(attempt: int, *, base: float, cap: float, jitter: float | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 for the first; 0 counts as 1).

    The step doubles with every attempt from `base` up to `cap`; the delay lies between half the step and
    the whole step, placed by `jitter` (0 to 1, random when None) so that retries do not all arrive at once.
    """
    doublings = min(max(attempt, 1) - 1, 64)  # far beyond any cap, and the float stays finite
    step = min(cap, base * 2**doublings)
    share = random.random() if jitter is None else jitter
    return step / 2 + share * step / 2
