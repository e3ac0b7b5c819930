"""The median and p90 of app.stats.portable: PostgreSQL's percentile_cont and the window-function version on
SQLite both give, to the last bit, percentile_cont's definition computed here in Python (so they give the
same numbers as each other), and that agrees with Python's own linear interpolation (statistics.quantiles,
method "inclusive"), which rounds differently in the last bits."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from sqlalchemy import Integer, literal, select, union_all

from app.stats.portable import spreads


def _durations(values: list[tuple[str, int | None]]):
    rows = [select(literal(key).label("key"), literal(seconds, Integer).label("seconds")) for key, seconds in values]
    return union_all(*rows).subquery()


def _percentile_cont(values: list[int], p: float) -> float:
    """PostgreSQL's definition: the rows at floor and ceil of p * (n - 1), interpolated in doubles."""
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    lo, hi = ordered[math.floor(position)], ordered[math.ceil(position)]
    return lo + (position - math.floor(position)) * (hi - lo)


def _expected(values: list[int]) -> tuple[float, float]:
    median, p90 = _percentile_cont(values, 0.5), _percentile_cont(values, 0.9)
    if len(values) > 1:  # an independent check of the definition above
        assert (median, p90) == pytest.approx(
            (statistics.median(values), statistics.quantiles(values, n=10, method="inclusive")[8]), rel=1e-12)
    return median, p90


async def test_median_and_p90_equal_linear_interpolation_overall_and_per_key(app):
    rng = random.Random(7)
    sizes = {"een": 1, "twee": 2, "drie": 3, "tien": 10, "elf": 11, "veel": 237}
    values = [(key, rng.choice([rng.randint(0, 90), rng.randint(0, 20_000)])) for key, n in sizes.items()
              for _ in range(n)]
    values += [("veel", None), ("een", None)]  # no duration: left out
    durations = _durations(values)
    async with app.state.sessionmaker() as session:
        measured = (await spreads(session, durations, ["seconds"], baseline=600, by="key"))["seconds"]
    overall, per_key = measured[None], measured
    measured = [seconds for _, seconds in values if seconds is not None]
    assert (overall.n, overall.median, overall.p90) == (len(measured), *_expected(measured))
    assert overall.within == sum(seconds <= 600 for seconds in measured)
    for key in sizes:
        key_values = [seconds for k, seconds in values if k == key and seconds is not None]
        assert (per_key[key].n, per_key[key].median, per_key[key].p90) == (len(key_values), *_expected(key_values))


async def test_no_durations_give_no_figures(app):
    async with app.state.sessionmaker() as session:
        assert await spreads(session, _durations([("a", None), ("b", None)]), ["seconds"], by="key") == {"seconds": {}}
