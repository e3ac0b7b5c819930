"""The fault drills' common parts: a relay served by `meldkamer serve` in its own process on a given database,
a steady load of REST reports that remembers every answer, and a wall that follows the event stream over a
websocket and reconnects with its last event id, as the videowall does."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

from app.core.settings import PROJECT_ROOT
from tests.support.postgres import free_port
from tests.support.settings import TEST_SECRETS

LOAD_TEXTS = ["er wordt nu ingebroken op de zonnestein, 2 mannen met breekijzer",
              "verdacht busje op de populierenlaan, kijken in auto's",
              "gisteren fiets gestolen bij het westwijkplein"]


def meldkamer(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("meldkamer")), *args]


def drill_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "MELDKAMER_DATABASE_URL": database_url, "MELDKAMER_DATA_DIR": str(data_dir),
            "MELDKAMER_ENVIRONMENT": "test", "MELDKAMER_LOG_JSON": "false", "MELDKAMER_LOG_LEVEL": "WARNING",
            "MELDKAMER_INTAKE_REPORTS_PER_MINUTE": "100000", "MELDKAMER_INTAKE_BURST": "100000",
            **{f"MELDKAMER_{name.upper()}": value for name, value in TEST_SECRETS.items()}, **extra}


def prepare(env: dict[str, str], credentials: Path) -> dict[str, Any]:
    """Migrates the database and seeds the demo registry; the demo credentials."""
    subprocess.run(meldkamer("migrate"), env=env, check=True, capture_output=True, cwd=PROJECT_ROOT)
    subprocess.run(meldkamer("seed-demo", "--out", str(credentials)), env=env, check=True, capture_output=True,
                   cwd=PROJECT_ROOT)
    return dict(json.loads(credentials.read_text()))


@dataclass
class Served:
    base: str
    env: dict[str, str]
    log: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(meldkamer("serve", "--port", str(self.port)), env=self.env,
                                            stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)

    def kill(self, signal_number: int) -> None:
        assert self.process is not None
        self.process.send_signal(signal_number)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def served(env: dict[str, str], log: Path) -> Iterator[Served]:
    port = free_port()
    app = Served(f"http://127.0.0.1:{port}", env, log, port)
    app.start()
    try:
        wait_ready(app)
        yield app
    finally:
        app.stop()


def wait_ready(app: Served, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if app.process is not None and app.process.poll() is not None:
            raise RuntimeError(f"the app exited; see {app.log}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{app.base}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the app did not become ready; see {app.log}")


async def eventually(check: Callable[[], bool | Awaitable[bool]], what: str, seconds: float = 90) -> None:
    """Waits until `check()` holds (a drill's condition, not a timing claim); fails after a generous deadline."""
    deadline = time.monotonic() + seconds
    while not await _holds(check):
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached: {what}")
        await asyncio.sleep(0.1)


async def _holds(check: Callable[[], bool | Awaitable[bool]]) -> bool:
    result = check()
    return await result if inspect.isawaitable(result) else result


@dataclass
class ReportLoad:
    """Beheerders posting reports one after another, each with its own Idempotency-Key. A request that got no
    answer (connection refused or cut, timeout) is retried with the same key, as the portal and partner apps do."""

    base: str
    senders: list[tuple[str, int]]
    timeout: float = 15.0
    statuses: Counter[str] = field(default_factory=Counter)
    created: dict[str, int] = field(default_factory=dict)  # idempotency key -> report id of a 201
    answers: list[dict[str, Any]] = field(default_factory=list)  # every answer that was not 201 or 200
    running: bool = True

    async def run(self, concurrency: int = 4) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=self.timeout) as client:
            await asyncio.gather(*[self._sender(client, index) for index in range(concurrency)])

    async def _sender(self, client: httpx.AsyncClient, index: int) -> None:
        number = 0
        while self.running:
            token, group_id = self.senders[(index + number) % len(self.senders)]
            body = {"text": f"{LOAD_TEXTS[number % len(LOAD_TEXTS)]} ({index}-{number})", "group_id": group_id}
            await self._until_answered(client, token, body, str(uuid.uuid4()))
            number += 1
            await asyncio.sleep(0.02)

    async def _until_answered(self, client: httpx.AsyncClient, token: str, body: dict[str, Any], key: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        while True:
            try:
                response = await client.post("/api/v1/reports", json=body, headers=headers)
            except httpx.TimeoutException:
                self.statuses["timeout"] += 1
            except httpx.TransportError:
                self.statuses["no_connection"] += 1
            else:
                self.statuses[str(response.status_code)] += 1
                if response.status_code in (200, 201):
                    self.created.setdefault(key, response.json()["id"])
                    return
                self.answers.append({"status": response.status_code,
                                     "content_type": response.headers.get("content-type"),
                                     "body": response.text[:300]})
            if not self.running:
                return
            await asyncio.sleep(0.2)


@dataclass
class WallClient:
    """Follows `WS /ws/events` like the videowall: on a lost connection it reconnects with its last event id."""

    url: str
    token: str
    after: int = 0
    seen: list[int] = field(default_factory=list)
    reconnects: int = 0
    running: bool = True
    _socket: Any = None

    async def drop(self) -> None:
        """Cuts the connection, as a wall's network does; it reconnects by itself."""
        if self._socket is not None:
            await self._socket.close()

    async def run(self) -> None:
        while self.running:
            with contextlib.suppress(OSError, TimeoutError, websockets.WebSocketException):
                await self._follow()
            if self.running:
                self.reconnects += 1
                await asyncio.sleep(0.3)

    async def _follow(self) -> None:
        async with websockets.connect(self.url, open_timeout=10) as socket:
            self._socket = socket
            await socket.send(json.dumps({"type": "hello", "token": self.token, "last_event_id": self.after}))
            while self.running:
                try:
                    message = json.loads(await asyncio.wait_for(socket.recv(), 1.0))
                except TimeoutError:
                    continue
                if "id" in message:  # an event (welcome, ping and resync carry none)
                    self.seen.append(int(message["id"]))
                    self.after = max(self.after, int(message["id"]))
