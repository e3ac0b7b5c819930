"""Limits hold across app processes: two `meldkamer serve` processes on one database (a PostgreSQL database,
or one SQLite file) count the same reports, the same failed logins and expire a claim once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core.database import create_engine, create_sessionmaker, utcnow
from app.core.settings import Settings
from app.events.models import Event
from app.incidents.models import Incident
from app.incidents.service import expire_claims
from tests.support import builders
from tests.support.http import bearer
from tests.support.postgres import free_port
from tests.support.settings import TEST_SECRETS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BURST = 4
MAX_FAILURES = 3


def _env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "MELDKAMER_DATABASE_URL": settings.database_url, "MELDKAMER_ENVIRONMENT": "test",
            "MELDKAMER_DATA_DIR": str(settings.data_dir), "MELDKAMER_LOG_JSON": "false",
            "MELDKAMER_LOG_LEVEL": "WARNING", "MELDKAMER_BROADCAST_WORKER_IN_APP": "false",
            "MELDKAMER_INTAKE_REPORTS_PER_MINUTE": "1", "MELDKAMER_INTAKE_BURST": str(BURST),
            "MELDKAMER_LOGIN_MAX_FAILURES": str(MAX_FAILURES), "MELDKAMER_SQLITE_BUSY_TIMEOUT_MS": "30000",
            **{f"MELDKAMER_{name.upper()}": value for name, value in TEST_SECRETS.items()}}


def _wait_listening(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(1200):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return
        except httpx.TransportError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    raise RuntimeError(log.read_text()[-2000:])


@contextmanager
def _two_processes(settings: Settings, logs: Path) -> Iterator[list[httpx.Client]]:
    meldkamer = str(Path(sys.executable).with_name("meldkamer"))
    ports = [free_port(), free_port()]
    processes = []
    for index, port in enumerate(ports):
        with (logs / f"app-{index}.log").open("ab") as out:
            processes.append(subprocess.Popen([meldkamer, "serve", "--port", str(port)], env=_env(settings),
                                              stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT))
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) for port in ports]
    try:
        for index, (port, process) in enumerate(zip(ports, processes, strict=True)):
            _wait_listening(f"http://127.0.0.1:{port}", process, logs / f"app-{index}.log")
        yield clients
    finally:
        for client in clients:
            client.close()
        for process in processes:
            process.send_signal(signal.SIGTERM)
            process.wait(15)


async def test_two_processes_share_the_report_limit_and_the_login_lockout(app, settings, tmp_path):
    beheerder = await builders.beheerder(app)
    await builders.staff(app, "operator", password="het-goede-wachtwoord")
    with _two_processes(settings, tmp_path) as (first, second):
        reports = [(first, second)[n % 2].post("/api/v1/reports", headers=bearer(beheerder.token),
                                               json={"text": f"Verdachte man bij de school, melding {n}"})
                   for n in range(2 * BURST)]
        logins = [(first, second)[n % 2].post("/api/v1/auth/login",
                                              json={"username": "operator", "password": f"fout-{n}"})
                  for n in range(MAX_FAILURES)]
        with_the_right_password = second.post("/api/v1/auth/login",
                                              json={"username": "operator", "password": "het-goede-wachtwoord"})

    assert [r.status_code for r in reports] == [201] * BURST + [429] * BURST
    refused = reports[-1]
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["title"] == "Te veel meldingen" and int(refused.headers["retry-after"]) > 1
    assert [r.status_code for r in logins] == [401] * MAX_FAILURES
    assert with_the_right_password.status_code == 429


async def test_two_sweepers_on_one_database_expire_a_claim_once(app, settings):
    """Each process runs a claim sweeper: two at the same moment end an expired claim once, with one audit
    entry and one event (PostgreSQL: rows locked SKIP LOCKED; SQLite: one writer at a time)."""
    operator = await builders.staff(app, "operator")
    engines = [create_engine(settings.database_url, sqlite_busy_timeout_ms=30_000) for _ in range(2)]
    try:
        async with create_sessionmaker(engines[0])() as session:
            ids = []
            for n in range(5):
                incident = Incident(region_id=None, status="open", urgency="P2", report_count=1, group_ids=[],
                                    summary=f"incident {n}", overridden=[], appearance_only=False,
                                    unrecognised=False, first_report_at=utcnow(), last_report_at=utcnow(),
                                    claimed_by_id=operator.id, claim_expires_at=utcnow() - timedelta(minutes=1))
                session.add(incident)
                await session.flush()
                ids.append(incident.id)
            await session.commit()
        sessions = [create_sessionmaker(engine)() for engine in engines]
        expired = await asyncio.gather(*[expire_claims(session) for session in sessions])
        for session in sessions:
            await session.close()
        async with app.state.sessionmaker() as session:
            audited = await session.scalar(select(func.count()).select_from(AuditEntry)
                                           .where(AuditEntry.action == "incident.claim_expired"))
            events = await session.scalar(select(func.count()).select_from(Event)
                                          .where(Event.type == "incident.updated"))
            still_claimed = await session.scalar(select(func.count()).select_from(Incident)
                                                 .where(Incident.claimed_by_id.is_not(None)))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(expired) == 5
    assert (audited, events, still_claimed) == (5, 5, 0)
