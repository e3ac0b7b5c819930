"""Event stream latency: 200 wall clients at 50 events/s, from commit to receipt, against a bare floor.

Two server processes, the clients in this process:

- floor: a minimal raw-ASGI websocket server under the same uvicorn that serialises each timestamped
  message once and fans it out to its 200 clients;
- app: one app process served by uvicorn on SQLite; inside it an emitter writes events through `emit`
  and commits, noting the time each commit returned; 200 walls receive them. Later one more wall
  connects that says hello and then never reads again ("app + stuck client").

Latency is receipt time minus commit (or floor send) time, on the same clock; clients negotiate
permessage-deflate, as browsers do. The machine has two cores and is shared with other jobs, so the
phases run in slices of a few seconds, floor and app alternating, and the CPU used by other processes
is measured per slice; each phase is reported from its quietest slices, and slices continue until
there are enough quiet ones or the budget is spent (the whole run stays under about two minutes). Writes a
`## Event stream` section into docs/performance.md.

Run: .venv/bin/python bench/bench_ws.py [--clients 200] [--rate 50] [--slice 4] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, free_port, percentile, report_rows, row  # noqa: E402

sys.path.insert(0, str(ROOT))
PERFORMANCE_MD = ROOT / "docs" / "performance.md"
SECTION = "## Event stream"
TARGET_P99_MS = 100.0
BUDGET_S = 105.0  # the whole run stays under about two minutes
DISTURBED_SHARE = 0.15  # other processes using more than this share of a core disturb a slice
NEEDED_QUIET = 3  # quiet slices per phase
SLICE_GAP_S = 0.5


def sample_data(n: int) -> dict[str, Any]:
    """Shaped like the `incident.updated` event of an open P1, the card a wall draws (about 600 bytes as JSON)."""
    return {
        "incident_id": n, "status": "open", "urgency": "P1", "category": "signalement", "offence": "autokraak",
        "wijkcode": "WK036204", "lat": 52.2894, "lon": 4.8141, "first_report_at": "2026-11-29T20:15:00+00:00",
        "last_report_at": "2026-11-29T20:15:00+00:00", "report_count": 2, "group_count": 2,
        "text": "Twee mannen kijken in auto's aan de Zonnestein, een met rode jas, lopen richting Westwijkplein. "
                "Een van hen probeert de portieren, de ander staat op de uitkijk bij de fietsenstalling.",
        "photo": {"report_id": n, "photo_id": n}, "follow_up": None, "result": None, "claimed_by": "centralist",
        "appearance_only": False, "unrecognised": False,
    }


# ---------------------------------------------------------------- servers (run in a subprocess)

def _uvicorn_config(app: Any, port: int) -> Any:
    import uvicorn

    return uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on",
                          ws_ping_interval=20, ws_ping_timeout=20, timeout_graceful_shutdown=2)


class GcWatch:
    """Counts the garbage collector's full (generation 2) collections and its longest pause."""

    def __init__(self) -> None:
        self.started = 0.0
        self.full_collections = 0
        self.longest_ms = 0.0
        gc.callbacks.append(self._callback)

    def reset(self) -> None:
        self.full_collections, self.longest_ms = 0, 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
            return
        self.longest_ms = max(self.longest_ms, (time.perf_counter() - self.started) * 1000)
        self.full_collections += info["generation"] == 2


async def _serve_with_controller(app: Any, port: int, fire: Any) -> None:
    """Serves `app`; on each "go SECONDS RATE OUTFILE" line on stdin runs `fire`, writes what it sent
    (and the server's GC figures) to OUTFILE and prints "done"."""
    import uvicorn

    server = uvicorn.Server(_uvicorn_config(app, port))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  (uvicorn offers no event for this)
        await asyncio.sleep(0.02)
    watch = GcWatch()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    while line := (await loop.run_in_executor(None, sys.stdin.readline)).split():
        _, seconds, rate, outfile = line
        watch.reset()
        stamps = await fire(float(seconds), float(rate))
        result = {"stamps": stamps, "gc_full": watch.full_collections, "gc_longest_ms": watch.longest_ms}
        await asyncio.to_thread(Path(outfile).write_text, json.dumps(result))
        print("done", flush=True)
    server.should_exit = True
    await serving


async def _paced(seconds: float, rate: float, one: Any) -> dict[int, float]:
    """Calls `one(n)` at `rate` per second on schedule (open loop); returns {id: time sent}."""
    stamps: dict[int, float] = {}
    started = time.monotonic()
    for n in range(int(seconds * rate)):
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        event_id, sent_at = await one(n)
        stamps[event_id] = sent_at
    return stamps


async def run_app_server(port: int, database_url: str, data_dir: str) -> None:
    from sqlalchemy import select

    from app.core.settings import Settings
    from app.events.service import emit
    from app.factory import create_app
    from app.registry.models import Region

    settings = Settings(database_url=database_url, data_dir=Path(data_dir), log_json=False,
                        log_level="WARNING")
    app = create_app(settings)
    async with app.state.sessionmaker() as session:
        region_id = await session.scalar(select(Region.id).where(Region.code == "AMS"))

    async def one(n: int) -> tuple[int, float]:
        async with app.state.sessionmaker() as session:
            event = emit(session, "incident.updated", sample_data(n), region_id=region_id, wijk_code="WK036204")
            await session.commit()
        return event.id, time.time()

    async def fire(seconds: float, rate: float) -> dict[int, float]:
        return await _paced(seconds, rate, one)

    await _serve_with_controller(app, port, fire)


class FloorApp:
    """The floor: accept, read the hello, answer, and receive each broadcast; nothing else."""

    def __init__(self) -> None:
        self.clients: set[Any] = set()
        self.sent = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            for step in ("startup", "shutdown"):
                await receive()
                await send({"type": f"lifespan.{step}.complete"})
            return
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        await send({"type": "websocket.send", "text": json.dumps({"type": "welcome", "last_event_id": 0})})
        self.clients.add(send)
        try:
            while (await receive())["type"] != "websocket.disconnect":
                pass
        finally:
            self.clients.discard(send)

    async def broadcast(self, n: int) -> tuple[int, float]:
        self.sent += 1
        sent_at = time.time()
        text = json.dumps({"id": self.sent, "type": "incident.updated", "at": "2026-11-29T20:15:00Z",
                           "data": sample_data(n)}, separators=(",", ":"))
        for send in list(self.clients):
            await send({"type": "websocket.send", "text": text})
        return self.sent, sent_at


async def run_floor_server(port: int) -> None:
    floor = FloorApp()

    async def fire(seconds: float, rate: float) -> dict[int, float]:
        return await _paced(seconds, rate, floor.broadcast)

    await _serve_with_controller(floor, port, fire)


# ---------------------------------------------------------------- clients (this process)

@dataclass(frozen=True)
class CpuSample:
    """CPU seconds used by the server, by this process (the clients) and by the whole machine."""

    wall: float
    server: float
    clients: float
    machine: float

    @classmethod
    def take(cls, server: ServerProcess) -> CpuSample:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        ticks = [int(f) for f in fields]
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait
        own = os.times()
        return cls(time.monotonic(), server.cpu_seconds(), own.user + own.system, busy)

    def minus(self, earlier: CpuSample) -> CpuSample:
        return CpuSample(self.wall - earlier.wall, self.server - earlier.server, self.clients - earlier.clients,
                         self.machine - earlier.machine)

    def plus(self, other: CpuSample) -> CpuSample:
        return CpuSample(self.wall + other.wall, self.server + other.server, self.clients + other.clients,
                         self.machine + other.machine)

    @property
    def others(self) -> float:
        return max(0.0, self.machine - self.server - self.clients)

    def share(self, seconds: float) -> str:
        return f"{seconds / self.wall * 100:.0f} %" if self.wall else "-"


@dataclass(frozen=True)
class Slice:
    """One stretch of events of one phase, with what the machine did meanwhile."""

    stamps: dict[int, float]
    cpu: CpuSample
    gc_full: int
    gc_longest_ms: float

    @property
    def quiet(self) -> bool:
        return self.cpu.others <= DISTURBED_SHARE * self.cpu.wall


class Wall:
    def __init__(self) -> None:
        # Arrays, not tuples: compact, and nothing for the garbage collector to traverse.
        self.ids = array("q")
        self.received_at = array("d")
        self.ws: Any = None
        self.listener: asyncio.Task[None] | None = None

    async def open(self, url: str, token: str, *, stuck: bool = False) -> None:
        from websockets.asyncio.client import connect

        kwargs: dict[str, Any] = {"sock": _tiny_buffer_socket(url), "max_queue": 1} if stuck else {}
        self.ws = await connect(f"{url}/ws/events", proxy=None, open_timeout=30, **kwargs)
        await self.ws.send(json.dumps({"type": "hello", "token": token}))
        await self.ws.recv()
        if not stuck:
            self.listener = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        async for message in self.ws:
            if message.startswith('{"id":'):  # an event, from the app or the floor alike
                self.received_at.append(time.time())
                self.ids.append(int(message[6:message.index(",", 6)]))

    def latencies(self, stamps: dict[int, float]) -> list[float]:
        return [(at - stamps[i]) * 1000 for i, at in zip(self.ids, self.received_at, strict=True) if i in stamps]

    def abort(self) -> None:
        if self.ws is not None:
            self.ws.transport.abort()
        if self.listener is not None:
            self.listener.cancel()


def _tiny_buffer_socket(url: str) -> socket.socket:
    host, port = url.removeprefix("ws://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.setblocking(False)
    return sock


async def open_walls(url: str, token: str, count: int) -> list[Wall]:
    walls = [Wall() for _ in range(count)]
    gate = asyncio.Semaphore(20)

    async def open_one(wall: Wall) -> None:
        async with gate:
            await wall.open(url, token)

    await asyncio.gather(*(open_one(wall) for wall in walls))
    return walls


@dataclass
class Phase:
    name: str
    server: ServerProcess
    walls: list[Wall]
    slices: list[Slice] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    expected: int = 0

    @property
    def quiet_count(self) -> int:
        return sum(s.quiet for s in self.slices)

    @property
    def used(self) -> list[Slice]:
        """The NEEDED_QUIET slices during which other processes used the least CPU."""
        return sorted(self.slices, key=lambda piece: piece.cpu.others / piece.cpu.wall)[:NEEDED_QUIET]

    def collect(self) -> None:
        stamps: dict[int, float] = {}
        for piece in self.used:
            stamps.update(piece.stamps)
        self.latencies_ms = [ms for wall in self.walls for ms in wall.latencies(stamps)]
        self.expected = len(stamps) * len(self.walls)

    @property
    def cpu(self) -> CpuSample:
        total = CpuSample(0, 0, 0, 0)
        for piece in self.used:
            total = total.plus(piece.cpu)
        return total

    @property
    def gc_full(self) -> int:
        return sum(piece.gc_full for piece in self.used)

    @property
    def gc_longest_ms(self) -> float:
        return max(piece.gc_longest_ms for piece in self.used)

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 0.50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 0.99)

    def row(self) -> str:
        slices = f"{len(self.used)} of {len(self.slices)}" + ("" if all(s.quiet for s in self.used) else ", busy")
        cpu = self.cpu
        return (f"| {self.name} | {slices} | {self.p50:.1f} | {self.p99:.1f} | {max(self.latencies_ms):.1f} | "
                f"{len(self.latencies_ms)}/{self.expected} | {cpu.share(cpu.server)} | {cpu.share(cpu.clients)} | "
                f"{cpu.share(cpu.others)} | {self.gc_full} / {self.gc_longest_ms:.0f} ms |")


class ServerProcess:
    def __init__(self, *args: str) -> None:
        self.args = args
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None
        self.fired = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def __aenter__(self) -> ServerProcess:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--serve", *self.args, "--port", str(self.port),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT)
        await self._expect("ready", 60)
        return self

    async def fire(self, seconds: float, rate: float, workdir: Path) -> dict[str, Any]:
        assert self.process and self.process.stdin
        self.fired += 1
        outfile = workdir / f"{self.args[0]}-{self.fired}.json"
        self.process.stdin.write(f"go {seconds} {rate} {outfile}\n".encode())
        await self.process.stdin.drain()
        await self._expect("done", seconds + 30)
        result: dict[str, Any] = json.loads(await asyncio.to_thread(outfile.read_text))
        result["stamps"] = {int(k): v for k, v in result["stamps"].items()}
        return result

    def cpu_seconds(self) -> float:
        assert self.process
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def _expect(self, word: str, within: float) -> None:
        assert self.process and self.process.stdout
        line = await asyncio.wait_for(self.process.stdout.readline(), within)
        if line.decode().strip() != word:
            raise RuntimeError(f"server said {line!r}, expected {word!r}")

    async def __aexit__(self, *_: object) -> None:
        assert self.process and self.process.stdin
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


async def run_slice(phase: Phase, args: argparse.Namespace, workdir: Path) -> None:
    gc.collect()
    gc.disable()  # the clients' own collector pauses would show up as server latency
    before = CpuSample.take(phase.server)
    fired = await phase.server.fire(args.slice, args.rate, workdir)
    await asyncio.sleep(SLICE_GAP_S)  # let the last deliveries land
    used = CpuSample.take(phase.server).minus(before)
    gc.enable()
    phase.slices.append(Slice(fired["stamps"], used, fired["gc_full"], fired["gc_longest_ms"]))
    print(f"{phase.name} slice {len(phase.slices)}: CPU others {used.share(used.others)}, server "
          f"{used.share(used.server)}", file=sys.stderr, flush=True)


async def run_rounds(phases: list[Phase], args: argparse.Namespace, workdir: Path, deadline: float) -> None:
    """Slices in turn until every phase has NEEDED_QUIET quiet ones, or the deadline (but at least
    NEEDED_QUIET slices each)."""
    while True:
        pending = [p for p in phases if len(p.slices) < NEEDED_QUIET
                   or (p.quiet_count < NEEDED_QUIET and time.monotonic() + args.slice + 2 < deadline)]
        if not pending:
            return
        for phase in pending:
            await run_slice(phase, args, workdir)


async def prepare_database(workdir: Path) -> tuple[str, str]:
    from alembic import command

    from app.cli import alembic_config
    from app.core.database import create_engine, create_sessionmaker
    from app.core.settings import Settings
    from app.demo import seed_demo

    database_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "head")
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            settings = Settings(database_url=database_url, data_dir=workdir)
            credentials = await seed_demo(session, settings, workdir / "demo.json")
    finally:
        await engine.dispose()
    return database_url, credentials["wall_token"]


async def main(args: argparse.Namespace) -> list[Phase]:
    """Floor and app slices alternate, so that a busy spell on the shared machine hits both; then the app
    with a stuck client. Only slices during which other processes left the machine quiet are counted,
    when there are enough of them within the time budget."""
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="meldkamer-bench-ws-"))
    database_url, token = await prepare_database(workdir)
    walls: list[Wall] = []
    try:
        async with asyncio.timeout(BUDGET_S + 90), ServerProcess("floor") as floor, \
                ServerProcess("app", database_url, str(workdir)) as app_server:
            floor_walls = await open_walls(floor.url, token, args.clients)
            app_walls = await open_walls(app_server.url, token, args.clients)
            walls += floor_walls + app_walls
            phases = [Phase("floor", floor, floor_walls), Phase("app", app_server, app_walls),
                      Phase("app + stuck client", app_server, app_walls)]
            await run_rounds(phases[:2], args, workdir, started + BUDGET_S * 0.6)
            stuck = Wall()
            walls.append(stuck)
            await stuck.open(app_server.url, token, stuck=True)
            await run_rounds(phases[2:], args, workdir, started + BUDGET_S)
    finally:
        for wall in walls:
            wall.abort()
    for phase in phases:
        phase.collect()
    return phases


# ---------------------------------------------------------------- report

HEADER = ("| phase | slices used | p50 ms | p99 ms | max ms | deliveries | CPU server | CPU clients | CPU others "
          "| server GC: full / longest |")


def report(phases: list[Phase], args: argparse.Namespace) -> str:
    floor, app, stuck = phases
    verdict = "met" if app.p99 < TARGET_P99_MS and stuck.p99 < TARGET_P99_MS else "NOT met"
    return f"""{SECTION}

`bench/bench_ws.py` ({time.strftime("%Y-%m-%d")}): {args.clients} wall clients on `WS /ws/events`,
{args.rate:g} events/s, one uvicorn process on SQLite; each event is written through `emit` and committed
inside the app process, and its latency is the time from the end of the commit to its receipt by a
client (same clock). Clients negotiate permessage-deflate, as browsers do. The floor is a bare raw-ASGI
websocket server under the same uvicorn that serialises one timestamped message and fans it out to its
own {args.clients} clients at the same rate. The clients run in the benchmark process (their garbage collector
paused while measuring); the floor carries the same client-side overhead.

The 2-core machine is shared with other jobs, so floor and app run alternately in slices of {args.slice:g} s,
and each slice records the CPU used meanwhile by the server, by the clients and by other processes (as
shares of one core). Slices continue until each phase has {NEEDED_QUIET} slices in which other processes
used at most {DISTURBED_SHARE * 100:.0f} % or the two-minute budget is spent; each phase is then reported from
its {NEEDED_QUIET} quietest slices ("busy" when one of those was above {DISTURBED_SHARE * 100:.0f} %).

{HEADER}
|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(phase.row() for phase in phases)}

- ratio of p99s, app / floor: {app.p99 / floor.p99:.1f}x (p50: {app.p50 / floor.p50:.1f}x)
- p99 of the other {args.clients} clients with one stuck client connected: {stuck.p99:.1f} ms
- target p99 < {TARGET_P99_MS:g} ms: {verdict}

Notes:
- Where the time goes: per delivered message the app uses about twice the floor's server CPU. Most of it
  is uvicorn's send (a syscall and permessage-deflate per connection), the same work the floor does; the
  rest is waking each client's sender task and Starlette's websocket wrappers. The database work (the
  after-commit wake-up, one read per commit, one serialisation per event) is per event, not per client.
- There are no per-message timers: one watchdog task per process pings idle clients and gives up on a
  client whose send has been stuck for `send_timeout`. Per-message `asyncio.timeout`s cost ~10 us each
  and, by promoting their timer objects, triggered extra full garbage collections.
- Figures swing with the load of the shared machine. In the eleven runs made while building this
  (2026-11-29), quiet slices gave app p99s of 13-17 ms against floor p99s of 14-16 ms, and 14-22 ms with
  a stuck client; with other jobs using most of a core or more, app p99s of 34-264 ms against floors of
  18-160 ms (and once 1.8 s with a stuck client, on a saturated machine).
- Tails on this machine come from CPU contention (column "CPU others") and from full garbage collections
  in the app process: its heap after startup (~160k objects: imports, routes, the triage knowledge base)
  takes 70-250 ms to traverse here. In a trial, `gc.freeze()` at the end of startup cut those pauses to
  12-37 ms; that is a one-line change in the app's lifespan (now app/factory.py), left to its owner.
"""


def rows_of(phases: list[Phase], args: argparse.Namespace) -> list[dict[str, Any]]:
    """For bench/results/latest.json: the app's latencies (also with a stuck client) against the bare floor's."""
    floor = phases[0]
    where = f"events: {args.clients} walls at {args.rate:g}/s"
    rows = [row(f"{where}, floor (bare websocket server)", metric, getattr(floor, metric), "ms")
            for metric in ("p50", "p99")]
    rows += [row(f"{where}, {phase.name}", metric, getattr(phase, metric), "ms", getattr(floor, metric))
             for phase in phases[1:] for metric in ("p50", "p99")]
    return rows


def write_section(text: str) -> None:
    current = PERFORMANCE_MD.read_text() if PERFORMANCE_MD.exists() else "# Performance\n"
    start = current.find(SECTION + "\n")
    if start < 0:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = current.find("\n## ", start + len(SECTION))
        updated = current[:start] + text + (current[end:] if end >= 0 else "")
    PERFORMANCE_MD.write_text(updated)


def _serve(role: str, rest: list[str]) -> None:
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    port = int(rest[rest.index("--port") + 1])
    if role == "floor":
        runner(run_floor_server(port))
    else:
        runner(run_app_server(port, rest[0], rest[1]))


def cli() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        _serve(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--slice", type=float, default=4, help="seconds per slice")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/performance.md alone")
    args = parser.parse_args()
    phases = asyncio.run(main(args))
    report_rows(rows_of(phases, args))
    text = report(phases, args)
    print(text)
    if not args.no_write:
        write_section(text)


if __name__ == "__main__":
    cli()
