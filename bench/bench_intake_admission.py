"""The admission of a report on PostgreSQL: the token check and the beheerder's slot of the shared report limit as
two statements on two checkouts (`resolve_token`, then `SharedRateLimiter.try_acquire`: main before issue 16's
second pass) against one (`SharedRateLimiter.admit`), in alternating blocks in one process with 16 concurrent
callers. The app's CPU per admission comes from time.process_time (waiting excluded), PostgreSQL's from /proc:
figures that the other work on a shared machine disturbs much less than throughput.

Run: .venv/bin/python bench/bench_intake_admission.py [--blocks 6] [--block 400]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_intake import CONCURRENCY, _process_tree_cpu  # noqa: E402
from common import BIN, ROOT  # noqa: E402

from app.auth.service import resolve_token  # noqa: E402
from app.core.database import create_engine, create_read_engine  # noqa: E402
from app.intake.ratelimit import SharedRateLimiter  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402

Admission = Callable[[str], Awaitable[object]]


async def _block(admit: Admission, tokens: list[str], size: int, postmaster: int) -> tuple[float, float, float]:
    """(app CPU ms, PostgreSQL CPU ms, wall-clock admissions/s) per admission over `size` admissions."""
    turns = iter(range(size))

    async def caller() -> None:
        for turn in turns:
            await admit(tokens[turn % len(tokens)])

    cpu, db, started = time.process_time(), _process_tree_cpu(postmaster), time.perf_counter()
    await asyncio.gather(*[caller() for _ in range(CONCURRENCY)])
    return ((time.process_time() - cpu) * 1000 / size, (_process_tree_cpu(postmaster) - db) * 1000 / size,
            size / (time.perf_counter() - started))


async def measure(url: str, tokens: list[str], postmaster: int, blocks: int, size: int) -> dict[str, dict]:
    engine = create_engine(url)
    reader = create_read_engine(engine)
    limiter = SharedRateLimiter(reader, 100_000_000, 100_000_000)

    async def two_statements(token: str) -> None:
        async with reader.connect() as connection:
            principal = await resolve_token(connection, token, "127.0.0.1")
        await limiter.try_acquire(f"beheerder:{principal.id}")

    async def one_statement(token: str) -> None:
        await limiter.admit(token, "127.0.0.1")

    variants: dict[str, Admission] = {"two statements": two_statements, "one statement": one_statement}
    for admit in variants.values():  # warm up: connections, prepared statements
        await _block(admit, tokens, size, postmaster)
    rounds: dict[str, list[tuple[float, float, float]]] = {name: [] for name in variants}
    for _ in range(blocks):
        for name, admit in variants.items():
            rounds[name].append(await _block(admit, tokens, size, postmaster))
    await engine.dispose()
    return {name: {"app_cpu_ms": round(statistics.median(r[0] for r in rows), 3),
                   "db_cpu_ms": round(statistics.median(r[1] for r in rows), 3),
                   "admissions_per_s": round(statistics.median(r[2] for r in rows)),
                   "app_cpu_ms_per_block": [round(r[0], 3) for r in rows]} for name, rows in rounds.items()}


def main(blocks: int, size: int) -> dict:
    server = PostgresServer()
    try:
        url = server.start("")
        workdir = Path(tempfile.mkdtemp(prefix="meldkamer-bench-"))
        env = {**os.environ, "MELDKAMER_DATABASE_URL": url, "MELDKAMER_DATA_DIR": str(workdir),
               "MELDKAMER_LOG_LEVEL": "WARNING"}
        for command in (["migrate"], ["seed-demo", "--out", str(workdir / "demo.json")]):
            subprocess.run([str(BIN / "meldkamer"), *command], env=env, check=True, capture_output=True, cwd=ROOT)
        tokens = [b["token"] for b in json.loads((workdir / "demo.json").read_text())["beheerders"]]
        postmaster = int((server.datadir / "postmaster.pid").read_text().split()[0])
        started = time.strftime("%H:%M:%S", time.gmtime())
        result = asyncio.run(measure(url, tokens, postmaster, blocks, size))
        return {"started_utc": started, "load_average": os.getloadavg()[0], **result}
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--block", type=int, default=400, help="admissions per block")
    args = parser.parse_args()
    print(json.dumps(main(args.blocks, args.block), indent=1))
