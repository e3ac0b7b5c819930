"""Broadcast benchmark: how close the delivery outbox gets to the provider's rate limit.

1. 10,000 deliveries against the fake WhatsApp Cloud API limited to 1,000 messages/s: the floor is 10 s.
2. An alert to the 26 Westwijk beheerders at the default 80 messages/s: the floor is 26/80 = 0.325 s.

Each is timed from the send (the API's transaction: broadcast plus outbox rows, after the console's preview)
to the provider's last accepted message. The fake runs as its own process (uvicorn with httptools), the
worker in this process, as in the app, on a fresh SQLite file (or PostgreSQL: --postgres starts one).
The machine may be shared: every run reports the CPU that other processes used meanwhile (in cores), and
the summary takes the run with the least of it.

    .venv/bin/python bench/bench_broadcast.py [--postgres] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.broadcast.models import Delivery  # noqa: E402
from app.broadcast.schemas import BroadcastIn  # noqa: E402
from app.broadcast.service import create_broadcast, plan_broadcast  # noqa: E402
from app.broadcast.worker import build_worker  # noqa: E402
from app.cli import alembic_config  # noqa: E402
from app.core.database import create_engine, create_sessionmaker  # noqa: E402
from app.core.principal import Principal  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.demo import seed_demo  # noqa: E402
from app.registry.models import Beheerder, Gemeente, Group, Wijk, beheerder_groups  # noqa: E402
from bench.common import report_rows, row  # noqa: E402
from tests.support.postgres import PostgresServer, free_port  # noqa: E402

TOKEN = "bench-token"
PHONE_NUMBER_ID = "100200300"
SENDER = Principal(kind="system", id=0, name="benchmark", role="specialist")
BIG_WIJK, WESTWIJK = "WK036299", "WK036204"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class FakeProcess:
    """The fake WhatsApp Cloud API in its own process, driven through its control API."""

    def __init__(self) -> None:
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, "-m", "tests.fakes.graph_api", "--port", str(self.port),
                                         "--token", TOKEN], cwd=ROOT)
        self.http = httpx.Client(base_url=f"{self.origin}/_fake", timeout=10)
        deadline = time.monotonic() + 15
        while True:
            try:
                self.http.get("/counts")
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def counts(self) -> dict[str, Any]:
        result: dict[str, Any] = self.http.get("/counts").json()
        return result

    def limit(self, **limits: Any) -> None:
        self.http.post("/reset")
        self.http.post("/limits", json=limits)

    def cpu_seconds(self) -> float:
        return _cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self.http.close()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(10)


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu_seconds(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _database_cpu_seconds(postmaster: int | None) -> float:
    """CPU of the PostgreSQL server and its backends (part of the system under test, not "others")."""
    if postmaster is None:
        return 0.0
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = _stat(int(entry.name))
                if int(entry.name) == postmaster or int(fields[1]) == postmaster:
                    total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            except (OSError, ValueError, IndexError):
                continue  # the process ended meanwhile
    return total


def _busy_seconds() -> float:
    """CPU seconds all processes of the machine have used (user, nice, system, irq, softirq, steal)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values[:3]) + sum(values[5:8])) / CLOCK_TICKS


async def _add_beheerders(sessionmaker: Any, wijkcode: str, count: int, prefix: str) -> None:
    """`count` beheerders with a group each in `wijkcode`, in three multi-row INSERTs."""
    async with sessionmaker() as session:
        wijk_id = await session.scalar(select(Wijk.id).where(Wijk.code == wijkcode))
        group_ids = (await session.execute(insert(Group).returning(Group.id), [
            {"name": f"Benchgroep {n}", "wijk_id": wijk_id, "member_count": 50} for n in range(count)])).scalars().all()
        beheerder_ids = (await session.execute(insert(Beheerder).returning(Beheerder.id), [
            {"name": f"Bench beheerder {n}", "phone": f"{prefix}{n:07d}", "channels": ["whatsapp"]}
            for n in range(count)])).scalars().all()
        await session.execute(insert(beheerder_groups), [
            {"beheerder_id": b, "group_id": g} for b, g in zip(beheerder_ids, group_ids, strict=True)])
        await session.commit()


async def _registry(sessionmaker: Any) -> None:
    """The demo registry, a wijk with 10,000 beheerders, and Westwijk topped up to its 26 groups' beheerders."""
    with tempfile.TemporaryDirectory() as tmp:
        async with sessionmaker() as session:
            await seed_demo(session, Settings(environment="test"), Path(tmp) / "credentials.json")
            gemeente_id = await session.scalar(select(Gemeente.id).where(Gemeente.code == "GM0362"))
            session.add(Wijk(code=BIG_WIJK, name="Benchwijk", gemeente_id=gemeente_id))
            await session.commit()
    await _add_beheerders(sessionmaker, BIG_WIJK, 10_000, "+3160")
    async with sessionmaker() as session:
        body = BroadcastIn(kind="informatie", text="x", target={"wijkcodes": [WESTWIJK]})  # type: ignore[arg-type]
        present = len((await plan_broadcast(session, SENDER, body, Settings(environment="test"))).recipients)
    await _add_beheerders(sessionmaker, WESTWIJK, 26 - present, "+3161")


def _settings(url: str, fake: FakeProcess, rate: float) -> Settings:
    return Settings(database_url=url, environment="test", log_json=False, broadcast_worker_in_app=False,
                    whatsapp_api_base=f"{fake.origin}/v21.0", whatsapp_access_token=TOKEN,  # type: ignore[arg-type]
                    whatsapp_phone_number_id=PHONE_NUMBER_ID, broadcast_whatsapp_rate_per_second=rate)


async def _wait_for_sent(fake: FakeProcess, count: int, started: float, within: float) -> dict[str, Any]:
    """Polls the fake rarely (polling costs the worker CPU); the fake stamps its last accepted message."""
    while True:
        counts = await asyncio.to_thread(fake.counts)
        if counts["sent"] >= count:
            return counts
        if time.time() - started > within:
            raise TimeoutError(f"only {counts['sent']} of {count} messages after {within} s")
        await asyncio.sleep(0.25 if count > 100 else 0.05)


async def _one_run(sessionmaker: Any, settings: Settings, fake: FakeProcess, wijkcode: str, count: int,
                   postmaster: int | None, worker_sessions: list[Any]) -> dict[str, Any]:
    """Previews, then sends one alert as the API does (commit, then wake the worker) and times it."""
    body = BroadcastIn(kind="waarschuwing", text="Let op: nepagenten aan de deur. Vraag altijd om een pas.",
                       target={"wijkcodes": [wijkcode]})  # type: ignore[arg-type]
    async with sessionmaker() as session:
        await plan_broadcast(session, SENDER, body, settings)  # the console's preview, before the send
    workers = [build_worker(sessions, settings) for sessions in worker_sessions]
    for worker in workers:
        worker.start()
    try:
        busy, cpu, started = _busy_seconds(), time.process_time(), time.time()
        helpers = fake.cpu_seconds() + _database_cpu_seconds(postmaster)
        async with sessionmaker() as session:
            await create_broadcast(session, SENDER, body, settings)
        committed = time.time() - started
        for worker in workers:
            worker.wake()
        counts = await _wait_for_sent(fake, count, started, 60)
        wall = time.time() - started
        ours = time.process_time() - cpu + fake.cpu_seconds() + _database_cpu_seconds(postmaster) - helpers
        others = max(0.0, _busy_seconds() - busy - ours) / wall
        cpu = time.process_time() - cpu
    finally:
        for worker in workers:
            await worker.stop()
    async with sessionmaker() as session:
        open_rows = await session.scalar(select(func.count()).select_from(Delivery)
                                         .where(Delivery.status.in_(("pending", "sending"))))
    return {"seconds": round(counts["last_sent_at"] - started, 3), "send_transaction_seconds": round(committed, 3),
            "worker_cpu_seconds": round(cpu, 2), "other_processes_cores": round(others, 2),
            "rejected_by_provider": counts["rejected"], "recipients": counts["recipients"],
            "max_per_recipient": counts["max_per_recipient"], "still_open_rows": open_rows}


def _summary(runs: list[dict[str, Any]], floor: float) -> dict[str, Any]:
    quietest = min(runs, key=lambda run: run["other_processes_cores"])
    seconds = sorted(run["seconds"] for run in runs)
    return {"floor_seconds": floor, "quietest_run": quietest, "ratio_to_floor": round(quietest["seconds"] / floor, 3),
            "all_runs_seconds": [run["seconds"] for run in runs], "median_seconds": seconds[len(seconds) // 2]}


async def bench(url: str, runs: int, postmaster: int | None = None, workers: int = 1) -> dict[str, Any]:
    """With several workers, each has its own engine (connection pool), as separate processes would; they
    share the provider's rate through the database (app.broadcast.ratelimit.DatabaseRateLimiter)."""
    await asyncio.to_thread(lambda: _migrate(url))
    engine = create_engine(url, sqlite_busy_timeout_ms=30_000)
    sessionmaker = create_sessionmaker(engine)
    worker_engines = [create_engine(url, sqlite_busy_timeout_ms=30_000) for _ in range(workers - 1)]
    worker_sessions = [sessionmaker, *[create_sessionmaker(e) for e in worker_engines]]
    fake = FakeProcess()
    try:
        await _registry(sessionmaker)
        big, small = [], []
        for run in range(runs):
            if run:
                await asyncio.sleep(6.5)  # the same people again: WhatsApp's pair rate (one per 6 s) applies
            fake.limit(messages_per_second=1000)
            big.append(await _one_run(sessionmaker, _settings(url, fake, 1000), fake, BIG_WIJK, 10_000, postmaster,
                                      worker_sessions))
            fake.limit(messages_per_second=80, pair_limit=1, pair_window=6.0)
            small.append(await _one_run(sessionmaker, _settings(url, fake, 80), fake, WESTWIJK, 26, postmaster,
                                        worker_sessions))
    finally:
        fake.stop()
        for each in [engine, *worker_engines]:
            await each.dispose()
    return {"database": engine.dialect.name, "workers": workers, "fan_out_10000_at_1000_per_s": _summary(big, 10.0),
            "westwijk_26_at_80_per_s": _summary(small, 26 / 80)}


def _migrate(url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), "head")


@contextmanager
def _database(postgres: bool) -> Iterator[tuple[str, int | None]]:
    """The database URL, and the PostgreSQL server's pid when there is one."""
    if postgres:
        server = PostgresServer()
        try:
            url = server.start()
            yield url, int((server.datadir / "postmaster.pid").read_text().split()[0])
        finally:
            server.stop()
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite+aiosqlite:///{tmp}/bench.db", None


def _markdown(result: dict[str, Any]) -> str:
    lines = []
    for name, summary in result.items():
        if not isinstance(summary, dict):
            continue
        run = summary["quietest_run"]
        lines.append(f"| {result['database']} | {name} | {run['seconds']} s | {summary['floor_seconds']:g} s | "
                     f"{summary['ratio_to_floor']} | {summary['all_runs_seconds']} | {run['other_processes_cores']} "
                     f"| {run['rejected_by_provider']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL server")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print everything as JSON")
    parser.add_argument("--workers", type=int, default=1, help="delivery workers (more than one: PostgreSQL only)")
    args = parser.parse_args()
    if args.workers > 1 and not args.postgres:
        parser.error("several delivery workers need PostgreSQL (--postgres)")
    with _database(args.postgres) as (url, postmaster):
        result = asyncio.run(bench(url, args.runs, postmaster, args.workers))
    scenarios = [(name, summary) for name, summary in result.items() if isinstance(summary, dict)]
    engine = f"{result['database']}, {args.workers} worker(s)"
    report_rows([row(f"broadcast {engine}: {name}", "time", summary["quietest_run"]["seconds"], "s",
                     summary["floor_seconds"]) for name, summary in scenarios]
                + [row(f"broadcast {engine}: {name}", "duplicates and provider refusals",
                       summary["quietest_run"]["rejected_by_provider"]
                       + summary["quietest_run"]["recipients"] * (summary["quietest_run"]["max_per_recipient"] - 1),
                       "messages") for name, summary in scenarios])
    print(json.dumps(result, indent=2) if args.json else _markdown(result))


if __name__ == "__main__":
    main()
