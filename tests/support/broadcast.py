"""Broadcast test helpers: the worker's short test timings, driving the worker and the fake Graph API until
nothing is due, and adding many beheerders to a wijk at once."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, insert, select, text

from app.broadcast.models import Delivery
from app.broadcast.worker import DeliveryWorker
from app.core.database import utcnow
from app.registry.models import Beheerder, Group, Wijk, beheerder_groups
from tests.fakes.graph_api import FakeGraphApi

FAST = {
    "broadcast_worker_in_app": False,
    "broadcast_poll_seconds": 0.05,
    "broadcast_http_timeout_seconds": 1.0,
    "broadcast_unknown_grace_seconds": 0.3,
    "broadcast_retry_base_seconds": 0.01,
    "broadcast_retry_max_seconds": 0.05,
    "broadcast_max_attempts": 3,
    "broadcast_whatsapp_rate_per_second": 1000,
    "broadcast_whatsapp_pair_seconds": 0.6,  # the fake allows one per 0.5 s
    "broadcast_progress_seconds": 0.0,
}
WESTWIJK = "WK036204"


async def deliver(worker: DeliveryWorker, fake: FakeGraphApi, rounds: int = 3) -> None:
    """Sends what is due, lets the fake post its status callbacks, and settles what that changed; retries
    due within a couple of seconds (short test backoffs, grace periods) are waited for, as a running worker
    would, so the outcome does not depend on how fast the machine is."""
    for _ in range(rounds):
        await worker.drain()
        await fake.flush_callbacks()
    await worker.drain()
    for _ in range(40):
        await fake.flush_callbacks()
        await worker.drain()
        wait = await _seconds_until_next_due(worker)
        soon = wait is not None and wait <= 2.0
        if not soon and fake.pending_callbacks == 0:  # nothing due, and every message sent has been reported
            return
        if soon:
            await asyncio.sleep(max(0.0, wait or 0.0) + 0.01)


async def _seconds_until_next_due(worker: DeliveryWorker) -> float | None:
    async with worker.sessionmaker() as session:
        due = await session.scalar(select(func.min(Delivery.next_attempt_at))
                                   .where(Delivery.status.in_(("pending", "sending"))))
    return None if due is None else (due - utcnow()).total_seconds()


async def add_beheerders(app: FastAPI, wijkcode: str, count: int, *, prefix: str = "+3169",
                         channels: list[str] | None = None, email: str | None = None) -> list[int]:
    """`count` beheerders, each with their own new group in `wijkcode`, inserted in bulk."""
    async with app.state.sessionmaker() as session:
        wijk_id = await session.scalar(select(Wijk.id).where(Wijk.code == wijkcode))
        first_group = int(await session.scalar(select(Group.id).order_by(Group.id.desc()).limit(1)) or 0) + 1
        first_beheerder = int(await session.scalar(select(Beheerder.id).order_by(Beheerder.id.desc()).limit(1))
                              or 0) + 1
        await session.execute(insert(Group), [
            {"id": first_group + n, "name": f"Testgroep {first_group + n}", "wijk_id": wijk_id, "member_count": 40}
            for n in range(count)])
        await session.execute(insert(Beheerder), [
            {"id": first_beheerder + n, "name": f"Beheerder {first_beheerder + n}", "email": email,
             "phone": f"{prefix}{first_beheerder + n:07d}", "channels": channels or ["whatsapp", "app"]}
            for n in range(count)])
        await session.execute(insert(beheerder_groups), [
            {"beheerder_id": first_beheerder + n, "group_id": first_group + n} for n in range(count)])
        await session.commit()
    await _advance_sequences(app)
    return [first_beheerder + n for n in range(count)]


async def _advance_sequences(app: FastAPI) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the highest id."""
    engine = app.state.engine
    if engine.dialect.name != "postgresql":
        return
    async with engine.begin() as connection:
        for table in ("groups", "beheerders"):
            await connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))


def wijk_beheerders(demo: dict[str, Any], wijkcode: str) -> list[dict[str, Any]]:
    return [b for b in demo["beheerders"] if wijkcode in b["wijkcodes"]]
