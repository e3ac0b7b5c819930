"""Scale benchmark: the console's, the wall's and the registry's reads over a national registry and a year of
history (issue 16; target: p95 under 200 ms on PostgreSQL and on SQLite, app RSS under 300 MB).

Data: `meldkamer load-scale` (app.simulation.scale): 10,000 beheerders in 1,000 wijken, 1,000,000 reports with
their incidents, audit entries, follow-ups and deliveries over the last 365 days. The requests go to the app in
this process (httpx over ASGI, JSON included), each read `--runs` times after two warm-ups; the incident
pages cycle through incidents spread over the year. Next to them, in the same run, the floors: a bare
`SELECT 1` round trip, a primary-key fetch of a report, and a trivial request through the whole app
(`GET /healthz`). Every request's SQL statements are counted (an N+1 shows as a count that grows with the page).

    .venv/bin/python bench/bench_scale.py [--postgres|--sqlite] [--beheerders 10000] [--reports 1000000]
                                          [--runs 30] [--database-url URL (reuse a loaded database)] [--json]
                                          [--only TEXT (the reads whose name contains it; the floors always)]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.auth import service as auth  # noqa: E402
from app.cli import alembic_config  # noqa: E402
from app.core.database import create_engine  # noqa: E402
from app.core.principal import SYSTEM  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.factory import create_app  # noqa: E402
from app.registry import service as registry  # noqa: E402
from app.simulation.scale import Sizes, load_scale  # noqa: E402
from bench.common import percentile, report_rows, row  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402
from tests.support.settings import TEST_SECRETS  # noqa: E402

TARGET_P95_MS = 200.0
TARGET_RSS_MB = 300.0
ROLES = ("operator", "admin", "analyst")
SEARCH = "/api/v1/incidents/search"


@dataclass
class Measured:
    name: str
    times_ms: list[float]
    statements: int  # SQL statements of the last run

    @property
    def p50(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        return percentile(self.times_ms, 0.95)


class StatementCounter:
    """Counts the SQL statements the app's engines run (the write and the read engine)."""

    def __init__(self, *engines: AsyncEngine) -> None:
        self.count = 0
        for engine in {id(e): e for e in engines}.values():
            event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


async def build(url: str, sizes: Sizes) -> dict[str, float]:
    from alembic import command

    # alembic's env.py runs its own event loop: it cannot run inside this one
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    engine = create_engine(url)
    try:
        return (await load_scale(engine, sizes)).seconds
    finally:
        await engine.dispose()


async def credentials(app: Any, settings: Settings) -> dict[str, dict[str, str]]:
    """Bearer headers per role, and for a videowall of the busiest region."""
    headers = {}
    run = f"{os.getpid()}-{int(time.time())}"  # a database may be measured more than once
    async with app.state.sessionmaker() as session:
        for role in ROLES:
            username = f"bench-{role}-{run}"
            await auth.create_staff_user(session, SYSTEM, username=username, display_name=username, role=role,
                                         password=f"wachtwoord-{username}")
        _, wall_token = await registry.create_wall(session, settings, SYSTEM, "Videowall bench", "AM")
        await session.commit()
        for role in ROLES:
            username = f"bench-{role}-{run}"
            _, issued = await auth.login(session, settings, username, f"wachtwoord-{username}", None)
            headers[role] = {"Authorization": f"Bearer {issued.token}"}
        await session.commit()
    headers["wall"] = {"Authorization": f"Bearer {wall_token}"}
    return headers


async def sample_ids(app: Any) -> tuple[list[int], str, int]:
    """Incidents spread over the year, a wijk with open incidents, and the number of beheerders."""
    async with app.state.engine.connect() as connection:
        top = int(await connection.scalar(text("SELECT max(id) FROM incidents")) or 1)
        wijk = await connection.scalar(text("SELECT wijk_code FROM incidents WHERE status = 'open' "
                                            "GROUP BY wijk_code ORDER BY count(*) DESC LIMIT 1"))
        beheerders = int(await connection.scalar(text("SELECT count(*) FROM beheerders")) or 0)
    return [1 + (n * 7_919_3) % top for n in range(1, 200)], str(wijk), beheerders


def scenarios(ids: list[int], wijk: str, beheerders: int) -> list[tuple[str, str, str, Callable[[int], dict]]]:
    """(name, role, path, params per run); a path with {id} takes the run's incident."""
    deep = max(0, beheerders - 50)
    return [
        ("queue (open)", "operator", "/api/v1/queue", lambda n: {}),
        ("queue, P1 only", "operator", "/api/v1/queue", lambda n: {"urgency": "P1"}),
        ("queue, one wijk", "operator", "/api/v1/queue", lambda n: {"wijk": wijk}),
        ("queue, closed (history)", "operator", "/api/v1/queue", lambda n: {"status": "closed"}),
        ("queue, closed, page 10", "operator", "/api/v1/queue", lambda n: {"status": "closed", "offset": 450}),
        ("wall cards (snapshot)", "wall", "/api/v1/wall/cards", lambda n: {}),
        ("events poll (stream catch-up)", "wall", "/api/v1/events", lambda n: {"after": 0}),
        ("incident page", "operator", "/api/v1/incidents/{id}", lambda n: {}),
        ("incident timeline", "operator", "/api/v1/incidents/{id}/timeline", lambda n: {}),
        ("beheerders, first page", "admin", "/api/v1/admin/beheerders", lambda n: {"limit": 50}),
        ("beheerders, last page", "admin", "/api/v1/admin/beheerders", lambda n: {"limit": 50, "offset": deep}),
        ("groups page", "admin", "/api/v1/admin/groups", lambda n: {"limit": 50, "offset": (n * 350) % 7000}),
        ("beheerders, search", "admin", "/api/v1/admin/beheerders", lambda n: {"q": f"+3161{n % 10:01d}00"}),
        ("wijken page (100)", "admin", "/api/v1/admin/wijken", lambda n: {"offset": (n * 100) % 1000}),
        ("wijken search by name", "admin", "/api/v1/admin/wijken", lambda n: {"q": "molenwijk"}),
        ("wijken, all (limit=1000)", "admin", "/api/v1/admin/wijken", lambda n: {"limit": 1000}),
        ("gemeenten page", "admin", "/api/v1/admin/gemeenten", lambda n: {}),
        ("map (every wijk's outline)", "operator", "/api/v1/map", lambda n: {}),
        ("wijk names (the console's pickers)", "operator", "/api/v1/map/wijken", lambda n: {}),
        ("evaluation map (every wijk)", "analyst", "/api/v1/stats/map", lambda n: {}),
        ("evaluation map (one gemeente)", "analyst", "/api/v1/stats/map", lambda n: {"gemeente": "GM0001"}),
        ("stats overview", "operator", "/api/v1/stats/overview", lambda n: {}),
        # The console's "Zoeken" (app/incidents/search.py) through the text indexes of migration 0022. The dataset
        # has six report texts: a word is in none of them, or in 1% of the year or more.
        ("search: a word in no text, closed", "operator", SEARCH, lambda n: {"q": "fiets", "status": "closed"}),
        ("search: a case number (a substring), all", "operator", SEARCH,
         lambda n: {"q": f"MK-H-{ids[n % len(ids)]}", "status": ""}),
        ("search: open incidents, a common word", "operator", SEARCH, lambda n: {"q": "kat"}),
        ("search: 1% of the year (10,000), all", "operator", SEARCH, lambda n: {"q": "verward", "status": ""}),
        ("search: 1% of the year, closed", "operator", SEARCH, lambda n: {"q": "verward", "status": "closed"}),
    ]


async def time_request(client: httpx.AsyncClient, counter: StatementCounter, runs: int, path: str,
                       headers: dict[str, str], params: Callable[[int], dict], ids: list[int]) -> tuple[list, int]:
    times, statements = [], 0
    for n in range(runs + 2):
        url = path.format(id=ids[n % len(ids)])
        before = counter.count
        started = time.perf_counter()
        response = await client.get(url, params=params(n), headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
        statements = counter.count - before
        if n >= 2:
            times.append(elapsed)
    return times, statements


async def time_floor(runs: int, work: Callable[[int], Awaitable[Any]]) -> list[float]:
    times = []
    for n in range(runs + 2):
        started = time.perf_counter()
        await work(n)
        if n >= 2:
            times.append((time.perf_counter() - started) * 1000)
    return times


async def floors(app: Any, client: httpx.AsyncClient, runs: int, ids: list[int]) -> list[Measured]:
    engine: AsyncEngine = app.state.engine

    async def select_one(_: int) -> None:
        async with engine.connect() as connection:
            await connection.scalar(text("SELECT 1"))

    async def primary_key(n: int) -> None:
        async with engine.connect() as connection:
            (await connection.execute(text("SELECT * FROM reports WHERE id = :id"), {"id": ids[n % len(ids)]})).one()

    async def health(_: int) -> None:
        assert (await client.get("/healthz")).status_code == 200

    return [Measured("floor: SELECT 1", await time_floor(runs, select_one), 1),
            Measured("floor: report by primary key", await time_floor(runs, primary_key), 1),
            Measured("floor: GET /healthz through the app", await time_floor(runs, health), 0)]


async def measure(url: str, runs: int, only: str = "") -> tuple[list[Measured], dict[str, float]]:
    settings = Settings(database_url=url, environment="test", data_dir=Path(tempfile.mkdtemp()), log_json=False,
                        broadcast_worker_in_app=False, **TEST_SECRETS)  # type: ignore[arg-type]
    app = create_app(settings, configure_logs=False)
    counter = StatementCounter(app.state.engine, app.state.read_engine)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            headers = await credentials(app, settings)
            ids, wijk, beheerders = await sample_ids(app)
            # As the served app does at the end of its lifespan's startup (app/factory.py), which ASGITransport
            # does not run: the startup heap leaves the collector, so a full collection does not walk it.
            gc.collect()
            gc.freeze()
            results = await floors(app, client, runs, ids)
            for name, role, path, params in scenarios(ids, wijk, beheerders):
                if only not in name:
                    continue
                times, statements = await time_request(client, counter, runs, path, headers[role], params, ids)
                results.append(Measured(name, times, statements))
            gc.collect()
            memory = {"rss_mb": rss_mb(), "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    finally:
        await app.state.photo_pool.aclose()
        await app.state.engine.dispose()
    return results, memory


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def database(args: argparse.Namespace) -> Iterator[tuple[str, bool]]:
    """(url, fresh): the given database, or a new one (a throwaway PostgreSQL server or a temporary file)."""
    if args.database_url:
        yield args.database_url, False
        return
    if not args.postgres:
        yield f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='meldkamer-scale-')) / 'scale.db'}", True
        return
    server = PostgresServer()
    try:
        yield server.start(), True
    finally:
        server.stop()


def rows_of(engine: str, results: list[Measured], memory: dict[str, float]) -> list[dict[str, Any]]:
    """p95 of every read against the p50 of a trivial request through the app, and the app's memory."""
    floor = next(r for r in results if r.name.startswith("floor: GET"))
    rows = [row(f"scale {engine}: {r.name}", "p95", r.p95, "ms",
                None if r.name.startswith("floor") else floor.p50) for r in results]
    rows.append(row(f"scale {engine}: app after the run", "rss", memory["rss_mb"], "MB"))
    return rows


def print_table(engine: str, results: list[Measured], memory: dict[str, float], timings: dict[str, float]) -> None:
    if timings:
        print(f"{engine}: loaded in {sum(timings.values()):.0f} s ({timings})")
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    print(f"{'read':<40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'SQL':>5}")
    for r in results:
        print(f"{r.name:<40} {r.p50:>8.1f} {r.p95:>8.1f} {max(r.times_ms):>8.1f} {r.statements:>5}")
    print(f"app RSS after the run: {memory['rss_mb']:.0f} MB (peak {memory['max_rss_mb']:.0f} MB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    engine = parser.add_mutually_exclusive_group()
    engine.add_argument("--postgres", action="store_true")
    engine.add_argument("--sqlite", action="store_true")
    parser.add_argument("--beheerders", type=int, default=10_000)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", help="a database loaded before: measure only")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", default="", help="time only the reads whose name contains this")
    args = parser.parse_args()
    name = "postgresql" if args.postgres or (args.database_url or "").startswith("postgresql") else "sqlite"
    with database(args) as (url, fresh):
        timings = asyncio.run(build(url, Sizes(args.beheerders, args.reports))) if fresh else {}
        results, memory = asyncio.run(measure(url, args.runs, args.only))
    rows = rows_of(name, results, memory)
    report_rows(rows)
    if args.json:
        print(json.dumps({"engine": name, "load_seconds": timings, "memory": memory, "rows": rows,
                          "statements": {r.name: r.statements for r in results}}, indent=2))
    else:
        print_table(name, results, memory, timings)
    slow = [r.name for r in results if not r.name.startswith("floor") and r.p95 >= TARGET_P95_MS]
    if slow:
        print(f"over {TARGET_P95_MS:.0f} ms p95: {', '.join(slow)}", file=sys.stderr)
    return 1 if slow or memory["rss_mb"] >= TARGET_RSS_MB else 0


if __name__ == "__main__":
    os.environ.setdefault("MELDKAMER_LOG_LEVEL", "WARNING")
    raise SystemExit(main())
