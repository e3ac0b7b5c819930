"""Helpers shared by the benchmarks: a throwaway database, a served app on it, and percentiles."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from tests.support.postgres import PostgresServer  # noqa: E402


@contextmanager
def throwaway_database(postgres: bool, directory: Path) -> Iterator[str]:
    """The URL of an empty database for one run: a PostgreSQL server started for it (and stopped after), or an
    SQLite file in `directory`."""
    if not postgres:
        yield f"sqlite+aiosqlite:///{directory / 'bench.db'}"
        return
    server = PostgresServer()
    try:
        yield server.start()
    finally:
        server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


@contextmanager
def served_app(extra_env: dict[str, str] | None = None, database_url: str | None = None,
               workers: int = 1) -> Iterator[tuple[str, dict, str]]:
    """Migrates and seeds a fresh database (an SQLite file unless `database_url` names an empty one), serves
    it with `workers` uvicorn workers, yields (base_url, demo credentials, database url); stops the server
    afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="meldkamer-bench-"))
    database_url = database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    env = {**os.environ, "MELDKAMER_DATABASE_URL": database_url, "MELDKAMER_DATA_DIR": str(workdir),
           "MELDKAMER_LOG_LEVEL": "WARNING", **(extra_env or {})}
    meldkamer = str(BIN / "meldkamer")
    subprocess.run([meldkamer, "migrate"], env=env, check=True, capture_output=True, cwd=ROOT)
    credentials_file = workdir / "demo.json"
    subprocess.run([meldkamer, "seed-demo", "--out", str(credentials_file)], env=env, check=True,
                   capture_output=True, cwd=ROOT)
    port = free_port()
    server = subprocess.Popen([meldkamer, "serve", "--port", str(port), "--workers", str(workers)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=(workdir / "server.log").open("w"))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base)
        yield base, json.loads(credentials_file.read_text()), database_url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_ready(base: str) -> None:
    deadline = time.monotonic() + 120  # a start-up takes 30 s and more when other jobs load the machine
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not become ready")


ROWS_ENV = "MELDKAMER_BENCH_ROWS"  # bench/run_all.py sets it: every benchmark appends its rows to that file


def row(scenario: str, metric: str, value: float, unit: str, floor: float | None = None) -> dict[str, object]:
    """One figure for bench/results/latest.json; the ratio is value / floor when there is a floor."""
    return {"scenario": scenario, "metric": metric, "value": round(value, 3), "unit": unit,
            "floor": None if floor is None else round(floor, 3),
            "ratio": round(value / floor, 3) if floor else None}


def report_rows(rows: Sequence[dict[str, object]]) -> None:
    """Appends the rows (JSON lines) to the file named by MELDKAMER_BENCH_ROWS, if set."""
    path = os.environ.get(ROWS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            for item in rows:
                out.write(json.dumps(item) + "\n")
