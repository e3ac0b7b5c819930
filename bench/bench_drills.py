"""Soak drill: reports at a fixed rate for a long time with 50 walls on the event stream, against one app
process on SQLite. The reports are a night shift's: the simulator's messages (app.simulation.texts: table 3.1's
kinds, about the streets of the sender's wijken in the demo registry), and an operator who claims and closes the
oldest incidents through the API keeps the queue at a night's size (about OPEN_TARGET open).
Pass when the server's memory stays flat (RSS at the end under 10% above RSS after the
first fifth of the run, the warm-up) and latency stays stable (p99 of the last third at most 1.5x the p99 from
the end of the warm-up to half-time, the run's own floor, or within 20 ms of it: on this shared machine a few
ms are noise).
Every wall must still be connected and have received events at the end.
Also printed: the server's CPU time (user + system, from /proc) per report in the first and the last third, the
figure the other jobs on a shared machine disturb least.

The other fault drills are tests (tests/drills, tests/broadcast/test_provider_outage.py,
tests/intake/test_photo_disk_full.py; `make drills`); docs/performance.md, "Fault drills", has the verdicts.

Run: .venv/bin/python bench/bench_drills.py [--minutes 30] [--rate 10] [--walls 50]
Prints JSON: the figures, a verdict, and rows {"scenario", "metric", "value", "unit", "floor", "ratio"}.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import percentile, report_rows, served_app  # noqa: E402
from loadgen import ConnectionPool  # noqa: E402

from app.core.settings import config_dir  # noqa: E402
from app.simulation import live, texts  # noqa: E402

ENV = {"MELDKAMER_INTAKE_REPORTS_PER_MINUTE": "100000000", "MELDKAMER_INTAKE_BURST": "100000000"}
MAX_GROWTH = 0.10
MAX_P99_RATIO, P99_SLACK_MS = 1.5, 20.0
OPEN_TARGET = 25  # the operator closes the oldest incidents beyond this many open: a night's queue
OPERATOR_POLL = 1.0  # seconds between two looks at the queue


def server_pid(port: int) -> int:
    """The `meldkamer serve --port PORT` process (one worker: it runs the app itself)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in command and str(port).encode() in command:
                return int(entry.name)
    raise RuntimeError("server process not found")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process used so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@dataclass
class Wall:
    url: str
    token: str
    received: int = 0
    connected: bool = False
    drops: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with websockets.connect(self.url, open_timeout=20, max_size=None) as socket:
                    await socket.send(json.dumps({"type": "hello", "token": self.token}))
                    self.connected = True
                    while not stop.is_set():
                        try:
                            message = await asyncio.wait_for(socket.recv(), 1.0)
                        except TimeoutError:
                            continue
                        self.received += '"id"' in str(message)
            except (OSError, TimeoutError, websockets.WebSocketException):
                self.drops += 1
                await asyncio.sleep(1.0)
            finally:
                self.connected = False


@dataclass
class Samples:
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, latency s)
    rss: list[tuple[float, float]] = field(default_factory=list)
    cpu: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, server CPU seconds)
    open_incidents: list[int] = field(default_factory=list)
    closed: int = 0
    errors: int = 0
    operator_errors: int = 0


async def _post(pool: ConnectionPool, token: str, body: bytes, start: float, samples: Samples) -> None:
    sent = time.perf_counter()
    try:
        status, _ = await pool.request("POST", "/api/v1/reports", body,
                                       {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    except OSError:
        samples.errors += 1
        return
    if status != 201:
        samples.errors += 1
        return
    samples.latencies.append((sent - start, time.perf_counter() - sent))


@dataclass(frozen=True)
class Sender:
    token: str
    group_ids: tuple[int, ...]
    wijkcodes: tuple[str, ...]


def _report_body(rng: random.Random, sender: Sender, streets: dict[str, list[str]]) -> bytes:
    """A message as the simulator writes it (table 3.1's kinds) about a street of one of the sender's wijken."""
    wijkcode = rng.choice(sender.wijkcodes)
    message = texts.message(rng, streets.get(wijkcode) or ["Dorpsstraat"])
    return json.dumps({"text": message.text, "group_id": rng.choice(sender.group_ids),
                       "called_112": message.called_112}).encode()


async def _load(base: str, senders: list[Sender], rate: float, seconds: float, samples: Samples) -> None:
    pool = ConnectionPool(base, max_idle=4.0)
    rng = random.Random(16)
    streets = live.load_streets(config_dir() / "geo" / "streets.csv")
    start = time.perf_counter()
    tasks: set[asyncio.Task[None]] = set()
    for index in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
        sender = rng.choice(senders)
        token, body = sender.token, _report_body(rng, sender, streets)
        task = asyncio.create_task(_post(pool, token, body, start, samples))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    await pool.close()


async def _watch_server(pid: int, samples: Samples, stop: asyncio.Event, every: float) -> None:
    start = time.perf_counter()
    while not stop.is_set():
        samples.rss.append((time.perf_counter() - start, rss_mb(pid)))
        samples.cpu.append((time.perf_counter() - start, cpu_seconds(pid)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
    samples.rss.append((time.perf_counter() - start, rss_mb(pid)))
    samples.cpu.append((time.perf_counter() - start, cpu_seconds(pid)))


async def _login(client: httpx.AsyncClient, credentials: dict[str, str]) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login",
                                 json={"username": credentials["username"], "password": credentials["password"]})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _operator(base: str, credentials: dict[str, str], samples: Samples, stop: asyncio.Event) -> None:
    """An operator who keeps the queue at a night's size: claims and closes the oldest open incidents beyond
    OPEN_TARGET, through the API as the simulator's operators do (claim, then PATCH close with a follow-up)."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        headers = await _login(client, credentials)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), OPERATOR_POLL)
            try:
                await _close_oldest(client, headers, samples)
            except httpx.TransportError:
                samples.operator_errors += 1


async def _close_oldest(client: httpx.AsyncClient, headers: dict[str, str], samples: Samples) -> None:
    response = await client.get("/api/v1/queue", params={"limit": 200}, headers=headers)
    if response.status_code != 200:
        samples.operator_errors += 1
        return
    page = response.json()
    samples.open_incidents.append(page["total"])
    oldest = sorted(page["items"], key=lambda item: item["first_report_at"])
    for incident in oldest[:max(0, page["total"] - OPEN_TARGET)]:
        claimed = await client.post(f"/api/v1/incidents/{incident['id']}/claim", headers=headers)
        closed = await client.patch(f"/api/v1/incidents/{incident['id']}", headers=headers,
                                    json={"close": True, "follow_up": "geen_opvolging"})
        if claimed.status_code == 200 and closed.status_code == 200:
            samples.closed += 1
        else:
            samples.operator_errors += 1


def _window_p99(samples: Samples, low: float, high: float) -> float:
    return percentile([latency for at, latency in samples.latencies if low <= at < high], 0.99) * 1000


def _cpu_ms_per_report(samples: Samples, low: float, high: float) -> float:
    """Server CPU (user + system) per report sent in [low, high): the figure the other jobs' load disturbs
    least, since it counts only the server's own CPU time."""
    inside = [(at, cpu) for at, cpu in samples.cpu if low <= at <= high]
    if len(inside) < 2:
        return 0.0
    (t0, c0), (t1, c1) = inside[0], inside[-1]
    reports = sum(1 for at, _ in samples.latencies if t0 <= at < t1)
    return (c1 - c0) / reports * 1000 if reports else 0.0


def _rss_after(samples: Samples, at: float) -> float:
    return next((rss for when, rss in samples.rss if when >= at), samples.rss[-1][1])


async def soak(minutes: float, rate: float, walls: int) -> dict[str, Any]:
    seconds = minutes * 60
    samples = Samples()
    with served_app(ENV) as (base, demo, _url):
        pid = server_pid(int(base.rsplit(":", 1)[1]))
        senders = [Sender(b["token"], tuple(b["group_ids"]), tuple(b["wijkcodes"]))
                   for b in demo["beheerders"] if b["group_ids"] and b["wijkcodes"]]
        stop = asyncio.Event()
        clients = [Wall(base.replace("http", "ws") + "/ws/events", demo["wall_token"]) for _ in range(walls)]
        running = [asyncio.create_task(wall.run(stop)) for wall in clients]
        running.append(asyncio.create_task(_watch_server(pid, samples, stop, max(5.0, seconds / 60))))
        running.append(asyncio.create_task(_operator(base, demo["operator"], samples, stop)))
        await _load(base, senders, rate, seconds, samples)
        await asyncio.sleep(2)  # the last events reach the walls
        connected = sum(wall.connected for wall in clients)
        stop.set()
        await asyncio.gather(*running)
    warm, end = _rss_after(samples, seconds / 5), samples.rss[-1][1]
    # Latency after the warm-up (the second fifth to the half) is the floor for the last third.
    first, last = _window_p99(samples, seconds / 5, seconds / 2), _window_p99(samples, 2 * seconds / 3, seconds + 1)
    growth = (end - warm) / warm
    cpu_first, cpu_last = _cpu_ms_per_report(samples, 0, seconds / 3), _cpu_ms_per_report(samples, 2 * seconds / 3,
                                                                                           seconds + 1)
    stable = last <= max(first * MAX_P99_RATIO, first + P99_SLACK_MS)
    all_walls = connected == walls and all(wall.received > 0 for wall in clients)
    verdict = "pass" if growth < MAX_GROWTH and stable and all_walls and samples.errors == 0 else "fail"
    rows = [
        {"scenario": "soak", "metric": "rss_end_mb", "value": round(end, 1), "unit": "MB", "floor": round(warm, 1),
         "ratio": round(end / warm, 3)},
        {"scenario": "soak", "metric": "p99_last_third_ms", "value": round(last, 1), "unit": "ms",
         "floor": round(first, 1), "ratio": round(last / first, 3) if first else None},
        {"scenario": "soak", "metric": "server_cpu_per_report_last_third_ms", "value": round(cpu_last, 2),
         "unit": "ms", "floor": round(cpu_first, 2), "ratio": round(cpu_last / cpu_first, 3) if cpu_first else None},
    ]
    return {"minutes": minutes, "rate": rate, "walls": walls, "reports": len(samples.latencies),
            "errors": samples.errors, "rss_after_warm_up_mb": round(warm, 1), "rss_end_mb": round(end, 1),
            "rss_growth_pct": round(growth * 100, 1), "p99_after_warm_up_ms": round(first, 1),
            "p99_last_third_ms": round(last, 1), "walls_connected_at_end": connected,
            "wall_drops": sum(wall.drops for wall in clients),
            "events_per_wall_min": min(wall.received for wall in clients),
            "server_cpu_ms_per_report_first_third": round(cpu_first, 2),
            "server_cpu_ms_per_report_last_third": round(cpu_last, 2),
            "incidents_closed": samples.closed, "operator_errors": samples.operator_errors,
            "open_incidents_median": sorted(samples.open_incidents)[len(samples.open_incidents) // 2]
            if samples.open_incidents else None,
            "open_incidents_max": max(samples.open_incidents, default=None),
            "verdict": verdict, "rows": rows}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--walls", type=int, default=50)
    args = parser.parse_args()
    result = asyncio.run(soak(args.minutes, args.rate, args.walls))
    report_rows(result["rows"])
    print(json.dumps(result, indent=2))
    raise SystemExit(0 if result["verdict"] == "pass" else 1)
