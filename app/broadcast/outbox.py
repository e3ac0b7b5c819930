"""The delivery outbox: which channels reach a beheerder, writing delivery rows in the caller's
transaction, and what a failed attempt means for the row (retry, wait, template, fall back, give up)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import JSON, ColumnElement, Insert, Table, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.broadcast.channels import SendResult
from app.broadcast.models import FAILED, PENDING, Delivery
from app.core.database import UTCDateTime
from app.core.retry import next_attempt_delay
from app.core.settings import Settings
from app.registry.models import Beheerder, Group, Wijk, beheerder_groups
from app.stats.models import alerts_changed

CHANNELS = ("whatsapp", "app", "webhook", "email")
INSERT_CHUNK = 5000  # beheerder ids per INSERT ... SELECT (bound parameters per statement stay well below limits)
ALL_CHANNELS = frozenset(CHANNELS)


@dataclass(frozen=True)
class Recipient:
    beheerder_id: int
    name: str
    route: tuple[str, ...]  # first the channel to use, then the fallbacks in order

    @property
    def channel(self) -> str:
        return self.route[0]


def route(channels: Sequence[str], phone: str | None, email: str | None,
          available: Collection[str] = ALL_CHANNELS) -> tuple[str, ...]:
    """The beheerder's preferred channels that can reach them, then e-mail as the last fallback; in-app when
    nothing else works (the portal always shows alerts)."""
    def usable(channel: str) -> bool:
        needs = {"whatsapp": phone, "email": email}
        return channel in available and channel in ALL_CHANNELS and (channel not in needs or bool(needs[channel]))

    chosen = [channel for channel in dict.fromkeys(channels) if usable(channel)]
    if email and "email" not in chosen and usable("email"):
        chosen.append("email")
    return tuple(chosen) or ("app",)


async def recipients_in(session: AsyncSession, wijkcodes: Sequence[str],
                        available: Collection[str] = ALL_CHANNELS) -> list[Recipient]:
    """Every active beheerder of an active group in these wijken, once."""
    in_wijken = (select(beheerder_groups.c.beheerder_id)
                 .join(Group, Group.id == beheerder_groups.c.group_id)
                 .join(Wijk, Wijk.id == Group.wijk_id)
                 .where(Wijk.code.in_(wijkcodes), Group.active.is_(True)))
    rows = (await session.execute(
        select(Beheerder.id, Beheerder.name, Beheerder.phone, Beheerder.email, Beheerder.channels)
        .where(Beheerder.id.in_(in_wijken), Beheerder.active.is_(True)).order_by(Beheerder.id))).all()
    return [Recipient(id_, name, route(channels or [], phone, email, available))
            for id_, name, phone, email, channels in rows]


async def enqueue_alert(session: AsyncSession, broadcast_id: int, recipients: Sequence[Recipient],
                        now: datetime) -> None:
    """One pending row per recipient in the caller's transaction: an INSERT ... SELECT per route and chunk
    of beheerders, so that the rows are built by the database, not one by one in Python."""
    by_route: dict[tuple[str, ...], list[int]] = {}
    for recipient in recipients:
        by_route.setdefault(recipient.route, []).append(recipient.beheerder_id)
    for route_, ids in by_route.items():
        for start in range(0, len(ids), INSERT_CHUNK):
            await session.execute(_insert_rows(broadcast_id, route_, ids[start:start + INSERT_CHUNK], now))
    await alerts_changed(session, [broadcast_id])  # the evaluation counts the pending rows (app.stats.alert_facts)


def _insert_rows(broadcast_id: int, route_: tuple[str, ...], beheerder_ids: list[int], now: datetime) -> Insert:
    table = cast(Table, Delivery.__table__)
    values: dict[str, ColumnElement[Any]] = {
        "purpose": literal("alert"), "broadcast_id": literal(broadcast_id), "beheerder_id": Beheerder.__table__.c.id,
        "channel": literal(route_[0]), "fallbacks": literal(list(route_[1:]), JSON()), "status": literal(PENDING),
        "next_attempt_at": literal(now, UTCDateTime()), "created_at": literal(now, UTCDateTime()),
        "parts": literal([], JSON()), "use_template": literal(False), "attempts": literal(0), "failures": literal(0),
        "superseded": literal(False),
    }
    source = select(*(value.label(name) for name, value in values.items())).where(Beheerder.id.in_(beheerder_ids))
    return insert(table).from_select(list(values), source)


def apply_failure(session: AsyncSession, row: Delivery, result: SendResult, settings: Settings,
                  now: datetime) -> None:
    """Moves a row that did not get through to its next state. Rate limits and a closed WhatsApp window
    never count as failures; a message is only given up after the last attempt of the last channel."""
    row.error_code, row.last_error = result.error_code, result.error
    if result.outcome == "throttled":
        _due(row, now, result.retry_after or 1.0)
    elif result.outcome == "reengage" and not row.use_template:
        row.use_template = True
        _due(row, now, 0.0, reached_person=True)
    elif result.outcome in ("retry", "unknown", "released"):
        counted = result.outcome != "released"  # released: the lease ran out before anything was sent
        row.failures += int(counted)
        if row.failures >= settings.broadcast_max_attempts:
            give_up(session, row, now)
        else:
            delay = next_attempt_delay(row.failures, base=settings.broadcast_retry_base_seconds,
                                       cap=settings.broadcast_retry_max_seconds) if counted else 0.0
            _due(row, now, delay)
    else:
        give_up(session, row, now)


def _due(row: Delivery, now: datetime, seconds: float, *, reached_person: bool = False) -> None:
    """Back in the queue. An attempt that may have reached the person keeps its time, so that the resend
    also waits for WhatsApp's pair rate (see the worker's claim query)."""
    row.status, row.next_attempt_at = PENDING, now + timedelta(seconds=seconds)
    if not reached_person:
        row.sending_since = None


def give_up(session: AsyncSession, row: Delivery, now: datetime) -> Delivery | None:
    """Marks the row failed and, when the beheerder has another channel, queues the message there."""
    row.status, row.failed_at, row.next_attempt_at = FAILED, now, None
    if not row.fallbacks:
        return None
    row.superseded = True
    fallback = Delivery(purpose=row.purpose, broadcast_id=row.broadcast_id, report_id=row.report_id,
                        beheerder_id=row.beheerder_id, channel=row.fallbacks[0], fallbacks=list(row.fallbacks[1:]),
                        status=PENDING, body=row.body, parts=list(row.parts), next_attempt_at=now, created_at=now)
    session.add(fallback)
    return fallback
