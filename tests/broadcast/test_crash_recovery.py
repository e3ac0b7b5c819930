"""Kill the `meldkamer worker` process in the middle of a 10,000-recipient alert, start it again, and count
on the fake WhatsApp server (a real uvicorn server) that every beheerder got exactly one message.

Four processes, as in production: the fake Graph API (it posts Meta-style signed status callbacks), the app
(`meldkamer serve`, which stores them), the worker, and this test, which only sets up and watches."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.broadcast.models import Delivery
from app.broadcast.schemas import BroadcastIn
from app.broadcast.service import create_broadcast
from app.core.principal import Principal
from app.core.settings import PROJECT_ROOT, Settings
from app.registry.models import Gemeente, Wijk
from tests.support import builders
from tests.support.broadcast import add_beheerders
from tests.support.postgres import free_port
from tests.support.settings import TEST_SECRETS

RECIPIENTS = 10_000
RATE = 1000
KILL_AFTER = 3000
# Three processes write to one database, the app ~1,000 status callbacks a second: on SQLite writers queue,
# so allow long waits, and give callbacks ample time before an unknown outcome is written off (exactly once
# rests on the callback of a message that went out being stored within this grace period). Production's 30 s:
# with 10 s, callbacks delayed on a machine at load 8+ came late and ~0.5% of messages went out twice.
GRACE = 30
BUSY_MS = 30_000
SPECIALIST = Principal(kind="system", id=0, name="crash test", role="specialist")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"sqlite_busy_timeout_ms": BUSY_MS})


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    return {**os.environ, "MELDKAMER_DATABASE_URL": settings.database_url, "MELDKAMER_ENVIRONMENT": "test",
            "MELDKAMER_LOG_JSON": "false", "MELDKAMER_LOG_LEVEL": "WARNING",
            "MELDKAMER_SQLITE_BUSY_TIMEOUT_MS": str(BUSY_MS), "MELDKAMER_BROADCAST_WORKER_IN_APP": "false",
            **{f"MELDKAMER_{name.upper()}": value for name, value in TEST_SECRETS.items()}, **extra}


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)


def _meldkamer(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("meldkamer")), *args]


def _start_worker(settings: Settings, api_base: str, log: Path) -> subprocess.Popen[bytes]:
    return _spawn(_meldkamer("worker"), _env(
        settings, MELDKAMER_WHATSAPP_API_BASE=api_base, MELDKAMER_BROADCAST_WHATSAPP_RATE_PER_SECOND=str(RATE),
        MELDKAMER_BROADCAST_HTTP_TIMEOUT_SECONDS="2", MELDKAMER_BROADCAST_UNKNOWN_GRACE_SECONDS=str(GRACE),
        MELDKAMER_BROADCAST_POLL_SECONDS="0.2"), log)


def _wait_listening(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text()[-2000:]) from None
            time.sleep(0.1)


@contextmanager
def _servers(settings: Settings, logs: Path) -> Iterator[tuple[str, httpx.Client]]:
    """Yields the fake's Graph API base URL and a client of its control API."""
    fake_port, app_port = free_port(), free_port()
    fake = _spawn([sys.executable, "-m", "tests.fakes.graph_api", "--port", str(fake_port), "--rate", str(RATE),
                   "--token", TEST_SECRETS["whatsapp_access_token"]], dict(os.environ), logs / "fake.log")
    web = _spawn(_meldkamer("serve", "--port", str(app_port)), _env(settings), logs / "app.log")
    control = httpx.Client(base_url=f"http://127.0.0.1:{fake_port}/_fake", timeout=10)
    try:
        _wait_listening(f"http://127.0.0.1:{fake_port}/_fake/counts", fake, logs / "fake.log")
        _wait_listening(f"http://127.0.0.1:{app_port}/healthz", web, logs / "app.log")
        control.post("/webhook", json={"url": f"http://127.0.0.1:{app_port}/webhooks/whatsapp", "statuses": ["sent"],
                                       "app_secret": TEST_SECRETS["whatsapp_app_secret"]})
        yield f"http://127.0.0.1:{fake_port}/v21.0", control
    finally:
        control.close()
        for process in (web, fake):
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL if a loaded machine lets the graceful shutdown run past half a minute: the test is
    about the worker, not about how fast the servers around it stop."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def _states(app: FastAPI) -> dict[str, int]:
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))).all()
    return {status: count for status, count in rows}


async def _wait_for(condition: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)


async def _prepare(app: FastAPI, settings: Settings) -> None:
    await builders.wijk(app, "WK036204")  # brings its gemeente, Amstelveen, for the test wijk
    async with app.state.sessionmaker() as session:
        gemeente_id = await session.scalar(select(Gemeente.id).where(Gemeente.code == "GM0362"))
        session.add(Wijk(code="WK036299", name="Testwijk", gemeente_id=gemeente_id))
        await session.commit()
    await add_beheerders(app, "WK036299", RECIPIENTS, prefix="+3160", channels=["whatsapp"])
    async with app.state.sessionmaker() as session:
        body = BroadcastIn(kind="waarschuwing", text="Let op: nepagenten aan de deur. Vraag altijd om een pas.",
                           target={"wijkcodes": ["WK036299"]})  # type: ignore[arg-type]
        await create_broadcast(session, SPECIALIST, body, settings)


async def test_a_killed_worker_sends_each_of_10000_messages_exactly_once(app, settings, tmp_path):
    await _prepare(app, settings)
    log = tmp_path / "worker.log"
    with _servers(settings, tmp_path) as (api_base, control):
        def counts() -> dict[str, Any]:
            result: dict[str, Any] = control.get("/counts").json()
            return result

        async def sent_enough() -> bool:
            return (await asyncio.to_thread(counts))["sent"] >= KILL_AFTER

        async def settled() -> bool:
            states = await _states(app)
            return states.get("pending", 0) == 0 and states.get("sending", 0) == 0

        worker = _start_worker(settings, api_base, log)
        try:
            await _wait_for(sent_enough, 60, f"{KILL_AFTER} messages before the kill")
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            at_kill, in_flight = counts()["sent"], (await _states(app)).get("sending", 0)
            assert at_kill < RECIPIENTS and in_flight > 0, (at_kill, in_flight)  # it died mid-batch

            worker = _start_worker(settings, api_base, log)
            await _wait_for(settled, 120, "every delivery to be settled")
            await asyncio.sleep(0.5)  # nothing more may arrive
        finally:
            _stop(worker)
        final = counts()

    assert final["sent"] == RECIPIENTS, log.read_text()[-3000:]
    assert final["recipients"] == RECIPIENTS and final["max_per_recipient"] == 1
    assert final["distinct_callback_data"] == RECIPIENTS and final["rejected"] == 0
    assert (await _states(app)).keys() == {"sent"}
