"""Soak drill: reports at a fixed rate for a long time with 50 walls on the event stream, against one app
process on SQLite. Pass when the server's memory stays flat (RSS at the end under 10% above RSS after the
first fifth of the run, the warm-up) and latency stays stable (p99 of the last third at most 1.5x the p99 from
the end of the warm-up to half-time, the run's own floor, or within 20 ms of it: on this shared machine a few
ms are noise).
Every wall must still be connected and have received events at the end.

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
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import percentile, report_rows, served_app  # noqa: E402
from loadgen import ConnectionPool  # noqa: E402

ENV = {"MELDKAMER_INTAKE_REPORTS_PER_MINUTE": "100000000", "MELDKAMER_INTAKE_BURST": "100000000"}
MAX_GROWTH = 0.10
MAX_P99_RATIO, P99_SLACK_MS = 1.5, 20.0
TEXTS = ["er wordt nu ingebroken op de zonnestein, 2 mannen met breekijzer",
         "verdacht busje op de populierenlaan, kijken in auto's",
         "gisteren fiets gestolen bij het westwijkplein",
         "man met rode capuchon loopt langs de achterpaden"]


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
    errors: int = 0


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


async def _load(base: str, senders: list[tuple[str, int]], rate: float, seconds: float, samples: Samples) -> None:
    pool = ConnectionPool(base, max_idle=4.0)
    start = time.perf_counter()
    tasks: set[asyncio.Task[None]] = set()
    for index in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
        token, group = senders[index % len(senders)]
        body = json.dumps({"text": f"{TEXTS[index % len(TEXTS)]} ({index})", "group_id": group}).encode()
        task = asyncio.create_task(_post(pool, token, body, start, samples))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    await pool.close()


async def _watch_memory(pid: int, samples: Samples, stop: asyncio.Event, every: float) -> None:
    start = time.perf_counter()
    while not stop.is_set():
        samples.rss.append((time.perf_counter() - start, rss_mb(pid)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
    samples.rss.append((time.perf_counter() - start, rss_mb(pid)))


def _window_p99(samples: Samples, low: float, high: float) -> float:
    return percentile([latency for at, latency in samples.latencies if low <= at < high], 0.99) * 1000


def _rss_after(samples: Samples, at: float) -> float:
    return next((rss for when, rss in samples.rss if when >= at), samples.rss[-1][1])


async def soak(minutes: float, rate: float, walls: int) -> dict[str, Any]:
    seconds = minutes * 60
    samples = Samples()
    with served_app(ENV) as (base, demo, _url):
        pid = server_pid(int(base.rsplit(":", 1)[1]))
        senders = [(b["token"], b["group_ids"][0]) for b in demo["beheerders"]]
        stop = asyncio.Event()
        clients = [Wall(base.replace("http", "ws") + "/ws/events", demo["wall_token"]) for _ in range(walls)]
        running = [asyncio.create_task(wall.run(stop)) for wall in clients]
        running.append(asyncio.create_task(_watch_memory(pid, samples, stop, max(5.0, seconds / 60))))
        await _load(base, senders, rate, seconds, samples)
        await asyncio.sleep(2)  # the last events reach the walls
        connected = sum(wall.connected for wall in clients)
        stop.set()
        await asyncio.gather(*running)
    warm, end = _rss_after(samples, seconds / 5), samples.rss[-1][1]
    # Latency after the warm-up (the second fifth to the half) is the floor for the last third.
    first, last = _window_p99(samples, seconds / 5, seconds / 2), _window_p99(samples, 2 * seconds / 3, seconds + 1)
    growth = (end - warm) / warm
    stable = last <= max(first * MAX_P99_RATIO, first + P99_SLACK_MS)
    all_walls = connected == walls and all(wall.received > 0 for wall in clients)
    verdict = "pass" if growth < MAX_GROWTH and stable and all_walls and samples.errors == 0 else "fail"
    rows = [
        {"scenario": "soak", "metric": "rss_end_mb", "value": round(end, 1), "unit": "MB", "floor": round(warm, 1),
         "ratio": round(end / warm, 3)},
        {"scenario": "soak", "metric": "p99_last_third_ms", "value": round(last, 1), "unit": "ms",
         "floor": round(first, 1), "ratio": round(last / first, 3) if first else None},
    ]
    return {"minutes": minutes, "rate": rate, "walls": walls, "reports": len(samples.latencies),
            "errors": samples.errors, "rss_after_warm_up_mb": round(warm, 1), "rss_end_mb": round(end, 1),
            "rss_growth_pct": round(growth * 100, 1), "p99_after_warm_up_ms": round(first, 1),
            "p99_last_third_ms": round(last, 1), "walls_connected_at_end": connected,
            "wall_drops": sum(wall.drops for wall in clients),
            "events_per_wall_min": min(wall.received for wall in clients), "verdict": verdict, "rows": rows}


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
