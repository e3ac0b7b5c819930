"""Intake throughput and latency: text-only reports over HTTP against one uvicorn worker on SQLite.

Measures (1) sustained reports/s with enough concurrent clients to saturate the server, (2) latency
percentiles at a fixed 100 reports/s (open loop: requests are sent on schedule, not after the previous
answer), and (3) the floor: a bare insert-and-commit loop on the same database, without HTTP, auth,
validation or triage. Figures are medians over several rounds; quote them as ratios to the floor.

Run: .venv/bin/python bench/bench_intake.py [--seconds 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import percentile, served_app  # noqa: E402

TEXTS = [
    "Er wordt nu ingebroken aan de Zonnestein, twee mannen met een breekijzer",
    "Verdacht busje staat al een uur in de Populierenlaan, kijken in auto's",
    "Onze kat is weggelopen, grijs met witte pootjes",
    "Gisteren fiets gestolen bij het Westwijkplein",
    "Man met rode capuchon loopt langs de achterpaden en kijkt bij woningen naar binnen",
]
# The bench measures the server, not the per-beheerder rate limit: lift it for this run.
ENV = {"MELDKAMER_INTAKE_REPORTS_PER_MINUTE": "100000000", "MELDKAMER_INTAKE_BURST": "100000000"}


async def _post(client: httpx.AsyncClient, token: str, group_id: int, text: str) -> float:
    started = time.perf_counter()
    response = await client.post("/api/v1/reports", headers={"Authorization": f"Bearer {token}"},
                                 json={"text": text, "group_id": group_id})
    if response.status_code != 201:
        raise RuntimeError(f"unexpected {response.status_code}: {response.text[:200]}")
    return time.perf_counter() - started


async def sustained(base: str, senders: list[tuple[str, int]], seconds: float, concurrency: int) -> float:
    deadline = time.perf_counter() + seconds
    count = 0
    cycle = itertools.cycle(senders)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal count
        texts = itertools.cycle(TEXTS)
        while time.perf_counter() < deadline:
            token, group = next(cycle)
            await _post(client, token, group, next(texts))
            count += 1

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*[worker(client) for _ in range(concurrency)])
        elapsed = time.perf_counter() - started
    return count / elapsed


async def fixed_rate(base: str, senders: list[tuple[str, int]], rate: float, seconds: float) -> list[float]:
    total = int(rate * seconds)
    cycle, texts = itertools.cycle(senders), itertools.cycle(TEXTS)
    async with httpx.AsyncClient(base_url=base, timeout=30,
                                 limits=httpx.Limits(max_connections=200)) as client:
        start = time.perf_counter()
        tasks = []
        for index in range(total):
            await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
            token, group = next(cycle)
            tasks.append(asyncio.create_task(_post(client, token, group, next(texts))))
        return list(await asyncio.gather(*tasks))


async def floor(database_url: str, seconds: float) -> float:
    """Insert-and-commit of a report-sized row, one transaction each, on the same database file."""
    import aiosqlite

    path = database_url.split("///", 1)[1]
    async with aiosqlite.connect(path) as db:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY, text TEXT, at TEXT)")
        count, deadline = 0, time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            await db.execute("INSERT INTO bench_floor (text, at) VALUES (?, ?)", (TEXTS[count % 5], time.time()))
            await db.commit()
            count += 1
        return count / (time.perf_counter() - started)


async def main(seconds: float, rounds: int) -> dict:
    results: dict[str, list[float]] = {"floor": [], "sustained": [], "p50_ms": [], "p99_ms": []}
    with served_app(ENV) as (base, demo, database_url):
        senders = [(b["token"], b["group_ids"][0]) for b in demo["beheerders"]]
        await sustained(base, senders, 2, 16)  # warm up: knowledge base, connections
        for _ in range(rounds):
            results["floor"].append(await floor(database_url, seconds))
            results["sustained"].append(await sustained(base, senders, seconds, 16))
            latencies = await fixed_rate(base, senders, 100, seconds)
            results["p50_ms"].append(percentile(latencies, 0.50) * 1000)
            results["p99_ms"].append(percentile(latencies, 0.99) * 1000)
    summary = {key: round(statistics.median(values), 1) for key, values in results.items()}
    summary["ratio_to_floor"] = round(summary["sustained"] / summary["floor"], 3)
    summary["rounds"] = rounds
    summary["seconds_per_measurement"] = seconds
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.seconds, args.rounds)), indent=2))
