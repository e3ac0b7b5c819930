"""Intake throughput and latency: text-only reports over HTTP against `meldkamer serve` on SQLite or PostgreSQL.

Measures (1) sustained reports/s with enough concurrent clients to saturate the server, (2) latency
percentiles at a fixed 100 reports/s (open loop: requests are sent on schedule, not after the previous
answer), and (3) the floor: a bare insert-and-commit loop on the same database, without HTTP, auth,
validation or triage. Figures are medians over several rounds; quote them as ratios to the floor.

On SQLite the server is one uvicorn worker on a fresh file. `--postgres` starts a throwaway PostgreSQL server
(the test suite's settings: fsync off) and serves it with `--workers N` uvicorn workers; its floor is asyncpg
with the same concurrency as the sustained clients. `--statements` loads pg_stat_statements and prints the
statements per report of one sustained phase.

Run: .venv/bin/python bench/bench_intake.py [--seconds 8] [--rounds 3] [--postgres [--workers 2] [--statements]]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import percentile, report_rows, row, served_app  # noqa: E402
from loadgen import ConnectionPool  # noqa: E402

from tests.support.postgres import PostgresServer  # noqa: E402

CONCURRENCY = 16
# uvicorn closes a keep-alive connection after 5 idle seconds. When a slow phase opened many connections, one
# left idle that long and reused later read 0 bytes: the "dropped connection" of earlier runs, not the server.
MAX_IDLE = 4.0

TEXTS = [
    "Er wordt nu ingebroken aan de Zonnestein, twee mannen met een breekijzer",
    "Verdacht busje staat al een uur in de Populierenlaan, kijken in auto's",
    "Onze kat is weggelopen, grijs met witte pootjes",
    "Gisteren fiets gestolen bij het Westwijkplein",
    "Man met rode capuchon loopt langs de achterpaden en kijkt bij woningen naar binnen",
]
# The bench measures the server, not the per-beheerder rate limit: lift it for this run.
ENV = {"MELDKAMER_INTAKE_REPORTS_PER_MINUTE": "100000000", "MELDKAMER_INTAKE_BURST": "100000000"}


def _request_body(text: str, group_id: int) -> bytes:
    return json.dumps({"text": text, "group_id": group_id}).encode()


async def _post(pool: ConnectionPool, token: str, body: bytes) -> float:
    started = time.perf_counter()
    status, answer = await pool.request("POST", "/api/v1/reports", body,
                                        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    if status != 201:
        raise RuntimeError(f"unexpected {status}: {answer[:200]!r}")
    return time.perf_counter() - started


def _requests(senders: list[tuple[str, int]]) -> Iterator[tuple[str, bytes]]:
    """(token, body) for each request in turn: every beheerder, every text."""
    bodies = [[(token, _request_body(text, group)) for text in TEXTS] for token, group in senders]
    for round_ in itertools.count():
        for per_sender in bodies:
            yield per_sender[round_ % len(TEXTS)]


async def sustained(base: str, senders: list[tuple[str, int]], seconds: float, concurrency: int) -> float:
    deadline = time.perf_counter() + seconds
    count = 0
    requests = _requests(senders)
    pool = ConnectionPool(base, max_idle=MAX_IDLE)

    async def worker() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await _post(pool, *next(requests))
            count += 1

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    elapsed = time.perf_counter() - started
    await pool.close()
    return count / elapsed


async def fixed_rate(base: str, senders: list[tuple[str, int]], rate: float, seconds: float) -> list[float]:
    """Open loop: request n starts at n / rate, whether or not earlier ones were answered."""
    total = int(rate * seconds)
    requests = _requests(senders)
    pool = ConnectionPool(base, max_idle=MAX_IDLE)
    start = time.perf_counter()
    tasks = []
    for index in range(total):
        await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(_post(pool, *next(requests))))
    latencies = list(await asyncio.gather(*tasks))
    await pool.close()
    return latencies


async def floor(database_url: str, seconds: float) -> float:
    if database_url.startswith("postgresql"):
        return await postgres_floor(database_url, seconds)
    return sqlite_floor(database_url, seconds)


async def postgres_floor(database_url: str, seconds: float) -> float:
    """BEGIN; INSERT a report-sized row; COMMIT with asyncpg, CONCURRENCY connections at once: no HTTP, no
    ORM, no triage, nothing but the driver and the server."""
    dsn = database_url.replace("postgresql+asyncpg", "postgresql")
    pool = await asyncpg.create_pool(dsn, min_size=CONCURRENCY, max_size=CONCURRENCY)
    await pool.execute("CREATE TABLE IF NOT EXISTS bench_floor (id BIGSERIAL PRIMARY KEY, case_number TEXT, "
                       "beheerder_id INT, group_id INT, text TEXT, text_original TEXT, received_at TIMESTAMPTZ)")
    count, deadline = 0, time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal count
        async with pool.acquire() as connection:
            while time.perf_counter() < deadline:
                async with connection.transaction():
                    text = TEXTS[count % 5]
                    await connection.execute(
                        "INSERT INTO bench_floor (case_number, beheerder_id, group_id, text, text_original, "
                        "received_at) VALUES ($1, $2, $3, $4, $5, now())", f"MK-2026-{count:06d}", 1, 1, text, text)
                count += 1

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(CONCURRENCY)])
    rate = count / (time.perf_counter() - started)
    await pool.execute("DROP TABLE bench_floor")
    await pool.close()
    return rate


def sqlite_floor(database_url: str, seconds: float) -> float:
    """Insert-and-commit of a report-sized row, one transaction each, on the same database file, with the
    sqlite3 module directly (WAL, synchronous=NORMAL like the app): no driver, no HTTP, no ORM."""
    path = database_url.split("///", 1)[1]
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY, text TEXT, at TEXT)")
    count, deadline = 0, time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO bench_floor (text, at) VALUES (?, ?)", (TEXTS[count % 5], time.time()))
        db.execute("COMMIT")
        count += 1
    rate = count / (time.perf_counter() - started)
    # Leave the file as the app had it: otherwise the app's checkpointer spends the next phase copying
    # the floor's rows (tens of MB of WAL) into the database, and that would be charged to the app.
    db.execute("DROP TABLE bench_floor")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return rate


async def statements_per_report(base: str, senders: list[tuple[str, int]], database_url: str,
                                seconds: float) -> dict:
    """pg_stat_statements over one sustained phase: the statements the app ran, per report written."""
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    await connection.execute("SELECT pg_stat_statements_reset()")
    reports_before = await connection.fetchval("SELECT count(*) FROM reports")
    await sustained(base, senders, seconds, CONCURRENCY)
    reports = await connection.fetchval("SELECT count(*) FROM reports") - reports_before
    rows = await connection.fetch(
        "SELECT query, calls, total_exec_time FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' "
        "ORDER BY calls DESC LIMIT 25")
    await connection.close()
    return {"reports": reports,
            "statements_per_report": round(sum(row["calls"] for row in rows) / max(reports, 1), 2),
            "top": [{"per_report": round(row["calls"] / max(reports, 1), 2),
                     "ms_per_call": round(row["total_exec_time"] / max(row["calls"], 1), 3),
                     "query": " ".join(row["query"].split())[:160]} for row in rows]}


def _process_tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of a process and its children: a figure the other work on a shared machine
    disturbs much less than throughput."""
    ticks, parents = 0, {root}
    for stat in sorted(Path("/proc").glob("[0-9]*/stat"), key=lambda path: int(path.parent.name)):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid in parents or ppid in parents:
            parents.add(pid)
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _server_pid(base: str) -> int:
    port = base.rsplit(":", 1)[1]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with suppress(OSError):
            if f"serve\0--port\0{port}\0".encode() in cmdline.read_bytes():
                return int(cmdline.parent.name)
    raise RuntimeError("server process not found")


@dataclass
class Database:
    url: str | None = None
    postmaster: int | None = None


@contextmanager
def database(postgres: bool, statements: bool) -> Iterator[Database]:
    if not postgres:
        yield Database()
        return
    server = PostgresServer()
    try:
        url = server.start("-c shared_preload_libraries=pg_stat_statements" if statements else "")
        yield Database(url, int((server.datadir / "postmaster.pid").read_text().split()[0]))
    finally:
        server.stop()


async def cpu_per_report(base: str, senders: list[tuple[str, int]], db: Database, seconds: float) -> dict[str, float]:
    """Milliseconds of CPU per report in the app's processes and in PostgreSQL, over one sustained phase."""
    app = _server_pid(base)
    before = {"app": _process_tree_cpu(app), "db": _process_tree_cpu(db.postmaster) if db.postmaster else 0.0}
    reports = await sustained(base, senders, seconds, CONCURRENCY) * seconds
    used = {"app": _process_tree_cpu(app) - before["app"],
            "db": _process_tree_cpu(db.postmaster) - before["db"] if db.postmaster else 0.0}
    return {f"{part}_cpu_ms_per_report": round(used[part] * 1000 / max(reports, 1), 2) for part in used}


async def main(seconds: float, rounds: int, postgres: bool = False, workers: int = 1,
               statements: bool = False) -> dict:
    results: dict[str, list[float]] = {"floor": [], "sustained": [], "p50_ms": [], "p99_ms": [],
                                       "app_cpu_ms_per_report": [], "db_cpu_ms_per_report": []}
    with database(postgres, statements) as db, served_app(ENV, db.url, workers) as (base, demo, database_url):
        senders = [(b["token"], b["group_ids"][0]) for b in demo["beheerders"]]
        await sustained(base, senders, 2, CONCURRENCY)  # warm up: knowledge base, connections
        if statements:
            return await statements_per_report(base, senders, database_url, seconds)
        for _ in range(rounds):
            results["floor"].append(await floor(database_url, seconds))
            results["sustained"].append(await sustained(base, senders, seconds, CONCURRENCY))
            latencies = await fixed_rate(base, senders, 100, seconds)
            results["p50_ms"].append(percentile(latencies, 0.50) * 1000)
            results["p99_ms"].append(percentile(latencies, 0.99) * 1000)
            for key, value in (await cpu_per_report(base, senders, db, seconds)).items():
                results[key].append(value)
    summary = {key: round(statistics.median(values), 1) for key, values in results.items()}
    summary["ratio_to_floor"] = round(summary["sustained"] / summary["floor"], 3)
    summary["per_round"] = {key: [round(v, 1) for v in values] for key, values in results.items()}
    summary["database"] = "postgresql" if postgres else "sqlite"
    summary["workers"] = workers
    summary["rounds"] = rounds
    summary["seconds_per_measurement"] = seconds
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL server")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (PostgreSQL only)")
    parser.add_argument("--statements", action="store_true",
                        help="PostgreSQL: count the statements per report (pg_stat_statements) instead")
    args = parser.parse_args()
    if args.workers > 1 and not args.postgres:
        parser.error("--workers needs --postgres: SQLite runs one process")
    summary = asyncio.run(main(args.seconds, args.rounds, args.postgres, args.workers, args.statements))
    if not args.statements:
        name = f"intake {summary['database']}" + (f", {args.workers} workers" if args.workers > 1 else "")
        report_rows([row(name, "sustained", summary["sustained"], "reports/s", summary["floor"]),
                     row(f"{name}, 100 reports/s", "p99", summary["p99_ms"], "ms")])
    print(json.dumps(summary, indent=2))
