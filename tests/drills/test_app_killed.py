"""Fault drill: the app is killed with SIGKILL under load, three times, and started again. Beheerders' clients
retry a request that got no answer with the same Idempotency-Key. Afterwards every acknowledged report is in
the database, and no retry made a second report. (A worker killed in the middle of an alert, with every
message delivered exactly once after the restart: tests/broadcast/test_crash_recovery.py.)"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from app.intake.models import Report
from tests.support.drills import ReportLoad, drill_env, eventually, prepare, served, wait_ready

pytestmark = pytest.mark.drill
KILLS = 3


async def test_the_app_killed_three_times_under_load_loses_and_doubles_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'drill.db'}"
    env = drill_env(url, tmp_path / "var")
    demo = prepare(env, tmp_path / "demo.json")
    with served(env, tmp_path / "app.log") as app:
        load = ReportLoad(app.base, [(b["token"], b["group_ids"][0]) for b in demo["beheerders"]])
        running = asyncio.create_task(load.run(concurrency=6))
        for kill in range(KILLS):
            before = len(load.created)
            await eventually(lambda before=before: len(load.created) >= before + 20, f"reports before kill {kill}")
            app.kill(signal.SIGKILL)
            app.start()
            await asyncio.to_thread(wait_ready, app)
        answered = len(load.created)
        await eventually(lambda: len(load.created) >= answered + 20, "reports after the last restart")
        load.running = False
        await running

    engine = create_async_engine(url)
    async with engine.connect() as connection:
        stored = set((await connection.scalars(select(Report.id))).all())
        keys = await connection.scalar(select(func.count(func.distinct(Report.idempotency_key))))
    await engine.dispose()
    assert set(load.created.values()) <= stored  # every acknowledged report survived the kills
    assert len(stored) == keys == len(load.created)  # one report per key: the retries made no duplicates
    assert load.statuses["no_connection"] >= KILLS  # the kills did hit requests in flight or arriving
    assert set(load.statuses) <= {"201", "200", "no_connection"}, load.statuses
