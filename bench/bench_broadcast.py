"""Broadcast benchmark: how close the delivery outbox gets to the provider's rate limit.

1. 10,000 deliveries against the fake WhatsApp Cloud API limited to 1,000 messages/s: the floor is 10 s.
2. An alert to the 26 Westwijk beheerders with the default 80 messages/s: the floor is 26/80 = 0.33 s.

The fake runs as its own process (uvicorn with httptools), the worker in this process on a fresh SQLite
database (or PostgreSQL with --database-url). Prints JSON; `--markdown` prints the docs/performance.md rows.

    .venv/bin/python bench/bench_broadcast.py [--database-url postgresql+asyncpg://...] [--markdown]
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
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.broadcast.models import Delivery  # noqa: E402
from app.broadcast.schemas import BroadcastIn  # noqa: E402
from app.broadcast.service import create_broadcast, plan_broadcast  # noqa: E402
from app.broadcast.worker import DeliveryWorker, build_worker  # noqa: E402
from app.cli import alembic_config  # noqa: E402
from app.core.database import create_engine, create_sessionmaker  # noqa: E402
from app.core.principal import Principal  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.registry.demo import seed_demo  # noqa: E402
from app.registry.models import Gemeente, Wijk  # noqa: E402
from tests.support.postgres import free_port  # noqa: E402

TOKEN = "bench-token"
PHONE_NUMBER_ID = "100200300"
SENDER = Principal(kind="system", id=0, name="benchmark", role="specialist")


def _migrate(url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), "head")


async def _add_beheerders(sessionmaker: Any, wijkcode: str, count: int, prefix: str) -> None:
    """`count` beheerders with a group each in `wijkcode`, in three multi-row INSERTs."""
    from sqlalchemy import insert

    from app.registry.models import Beheerder, Group, beheerder_groups

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


class FakeProcess:
    """The fake WhatsApp Cloud API in its own process, driven through its control API."""

    def __init__(self, rate: int) -> None:
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.graph_api", "--port", str(self.port), "--token", TOKEN,
             "--rate", str(rate)], cwd=ROOT)
        self.http = httpx.Client(base_url=self.origin, timeout=10)
        deadline = time.monotonic() + 15
        while True:
            try:
                self.http.get("/_fake/counts")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def counts(self) -> dict[str, Any]:
        result: dict[str, Any] = self.http.get("/_fake/counts").json()
        return result

    def configure(self, **limits: Any) -> None:
        self.http.post("/_fake/reset")
        self.http.post("/_fake/limits", json=limits)

    def stop(self) -> None:
        self.http.close()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(10)


async def _wait_for_sent(fake: FakeProcess, count: int, started: float, within: float) -> tuple[float, dict[str, Any]]:
    """Polls the fake rarely (polling costs the worker CPU); the fake stamps its last accepted message."""
    while True:
        counts = await asyncio.to_thread(fake.counts)
        if counts["sent"] >= count:
            return counts["last_sent_at"] - started, counts
        if time.time() - started > within:
            raise TimeoutError(f"only {counts['sent']} of {count} messages after {within} s")
        print(round(time.time() - started, 2), counts["sent"], flush=True) if os.environ.get("BENCH_TRACE") else None
        await asyncio.sleep(0.25 if count > 100 else 0.05)


def _settings(url: str, fake: FakeProcess, rate: float) -> Settings:
    return Settings(database_url=url, environment="test", log_json=False, broadcast_worker_in_app=False,
                    whatsapp_api_base=f"{fake.origin}/v21.0", whatsapp_access_token=TOKEN,  # type: ignore[arg-type]
                    whatsapp_phone_number_id=PHONE_NUMBER_ID, broadcast_whatsapp_rate_per_second=rate,
                    broadcast_poll_seconds=1.0)


async def _run(worker: DeliveryWorker, sessionmaker: Any, settings: Settings, wijkcode: str, fake: FakeProcess,
               count: int, within: float) -> dict[str, Any]:
    """Previews, then sends one alert to `wijkcode` as the API does (commit, then wake the worker), and times
    it from the send to the provider's last accepted message."""
    body = BroadcastIn(kind="waarschuwing", text="Let op: nepagenten aan de deur. Vraag altijd om een pas.",
                       target={"wijkcodes": [wijkcode]})  # type: ignore[arg-type]
    async with sessionmaker() as session:
        await plan_broadcast(session, SENDER, body, settings)  # the console's preview, before the send
    worker.start()
    try:
        cpu = time.process_time()
        started = time.time()
        async with sessionmaker() as session:
            await create_broadcast(session, SENDER, body, settings)
        committed = time.time() - started
        worker.wake()
        elapsed, counts = await _wait_for_sent(fake, count, started, within)
        cpu = time.process_time() - cpu
    finally:
        await worker.stop()
    async with sessionmaker() as session:
        open_rows = await session.scalar(select(func.count()).select_from(Delivery)
                                         .where(Delivery.status.in_(("pending", "sending"))))
    return {"messages": count, "seconds": round(elapsed, 3), "worker_cpu_seconds": round(cpu, 3),
            "insert_and_commit_seconds": round(committed, 3),
            "rejected_by_provider": counts["rejected"], "recipients": counts["recipients"],
            "max_per_recipient": counts["max_per_recipient"], "open_rows_after": open_rows}


async def bench(url: str) -> dict[str, Any]:
    await asyncio.to_thread(_migrate, url)
    engine = create_engine(url, sqlite_busy_timeout_ms=30_000)
    sessionmaker = create_sessionmaker(engine)
    fake = FakeProcess(rate=1000)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with sessionmaker() as session:
                await seed_demo(session, Settings(environment="test"), Path(tmp) / "credentials.json")
                gemeente_id = await session.scalar(select(Gemeente.id).where(Gemeente.code == "GM0362"))
                session.add(Wijk(code="WK036299", name="Benchwijk", gemeente_id=gemeente_id))
                await session.commit()
        await _add_beheerders(sessionmaker, "WK036299", 10_000, "+3160")
        settings = _settings(url, fake, 1000)
        big = await _run(build_worker(sessionmaker, settings), sessionmaker, settings, "WK036299", fake, 10_000, 60)

        async with sessionmaker() as session:
            westwijk = await session.scalar(text(
                "SELECT count(DISTINCT bg.beheerder_id) FROM beheerder_groups bg JOIN groups g ON g.id = bg.group_id "
                "JOIN wijken w ON w.id = g.wijk_id WHERE w.code = 'WK036204'"))
        await _add_beheerders(sessionmaker, "WK036204", 26 - int(westwijk or 0), "+3161")
        fake.configure(messages_per_second=80, pair_limit=1, pair_window=6.0)
        settings = _settings(url, fake, 80)
        small = await _run(build_worker(sessionmaker, settings), sessionmaker, settings, "WK036204", fake, 26, 10)
    finally:
        fake.stop()
        await engine.dispose()
    return {
        "database": engine.dialect.name,
        "fan_out_10000_at_1000_per_s": {**big, "floor_seconds": 10.0,
                                        "ratio_to_floor": round(big["seconds"] / 10.0, 3)},
        "westwijk_26_at_80_per_s": {**small, "floor_seconds": round(26 / 80, 3),
                                    "ratio_to_floor": round(small["seconds"] / (26 / 80), 3)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL server")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    server = None
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        if args.postgres:
            from tests.support.postgres import PostgresServer

            server = PostgresServer()
            url = server.start()
        try:
            result = asyncio.run(bench(url))
        finally:
            if server is not None:
                server.stop()
    if args.markdown:
        for name, row in list(result.items())[1:]:
            print(f"| {result['database']} | {name} | {row['seconds']} s | {row['floor_seconds']} s | "
                  f"{row['ratio_to_floor']} | {row['rejected_by_provider']} |")
    else:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("MELDKAMER_LOG_JSON", "false")
    main()
