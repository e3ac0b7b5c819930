"""Delivery workers: claim due outbox rows, send them through their channel, record what happened.

Exactly once per person, also across crashes:

1. Claim (one committed transaction): due rows, `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite serialises
   writers with BEGIN IMMEDIATE), become `sending` with a fresh attempt id and a lease until
   `now + http timeout + grace`. The attempt id travels as WhatsApp's `biz_opaque_callback_data`.
2. Send, only while the lease leaves time for the call to finish; else release the row unsent.
3. Record the outcome. A row is only updated while it is still `sending` with the same attempt id.

A worker that dies between 2 and 3 leaves `sending` rows behind. Once their lease has run out,
`reconcile` looks for the status callbacks WhatsApp sent for that attempt id (stored by the webhook in
`whatsapp_statuses`): a sent/delivered/read callback means it went out and is recorded as such; no callback
after the grace period means it never reached WhatsApp and the row is sent again under a new attempt id.
Outcomes that are unknown in a live worker (a timeout after the request was written, a 5xx) take the same
route after `broadcast_unknown_grace_seconds`.

Pacing: a per-channel rate limiter shared by all workers (`app.broadcast.ratelimit`), and in the claim
query a per-person queue: a row waits while an earlier row for the same beheerder and channel is open, and
a WhatsApp row waits until `broadcast_whatsapp_pair_seconds` after the previous message to that person."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Integer, Row, Select, String, Table, and_, bindparam, exists, func, literal, or_, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from app.broadcast import tracking
from app.broadcast.channels import CONNECTIONS, ChannelAdapter, EmailSender, Outgoing, SendResult, build_channels
from app.broadcast.config import broadcast_config
from app.broadcast.models import DELIVERED, PENDING, SENDING, SENT, Broadcast, Delivery, WhatsAppWindow
from app.broadcast.outbox import apply_failure
from app.broadcast.progress import emit_due_progress, mark_dirty
from app.broadcast.ratelimit import RateLimiter, build_rate_limiter
from app.core.database import utcnow
from app.core.settings import Settings
from app.events.service import beheerder_audience, emit
from app.intake.models import Report
from app.operations.models import PublicParticipant
from app.registry.models import Beheerder
from app.stats.models import feedback_delivered

logger = logging.getLogger("app.broadcast.worker")
DELIVERIES = cast(Table, Delivery.__table__)  # Core statements for the hot path: one statement per batch
PUBLIC_NAME = "deelnemer"  # a public participant of an operation has no name with us
CLAIM_COLUMNS = (Delivery.id, Delivery.purpose, Delivery.channel, Delivery.beheerder_id, Delivery.broadcast_id,
                 Delivery.report_id, Delivery.body, Delivery.use_template, Delivery.attempts,
                 func.coalesce(Beheerder.name, PUBLIC_NAME).label("name"),
                 func.coalesce(Beheerder.phone, PublicParticipant.phone).label("phone"), Beheerder.email)
CLAIM_HORIZON_SECONDS = 1.0  # claim about this much sending at a time, so leases stay short
RECONCILE_BATCH = 500


def _due_statement() -> Select[Any]:
    """Pending rows that are due, whose person has nothing sending or due before them on that channel, and (on
    WhatsApp) no message sent within the pair interval: the claim's query. Built once with parameters: the
    idle poll runs it every second, and building it cost more than running it."""
    other, sent = aliased(Delivery), aliased(Delivery)
    earlier = or_(other.next_attempt_at < Delivery.next_attempt_at,
                  and_(other.next_attempt_at == Delivery.next_attempt_at, other.id < Delivery.id))
    # Two lookups, each an index range over the person's rows (never their whole history, which grows all year):
    # something of theirs sending or due before this row, and (WhatsApp) a message sent within the pair interval.
    ahead = exists().where(other.beheerder_id == Delivery.beheerder_id, other.channel == Delivery.channel,
                           other.status.in_([SENDING, PENDING]), other.id != Delivery.id,
                           or_(other.status == SENDING, earlier))
    # The row's own last attempt counts too: a retry to the same person also waits for the pair rate.
    too_soon = and_(Delivery.channel == "whatsapp",
                    exists().where(sent.beheerder_id == Delivery.beheerder_id, sent.channel == Delivery.channel,
                                   sent.sending_since > bindparam("pair_cutoff")))
    waits = or_(ahead, too_soon)
    return (select(*CLAIM_COLUMNS).outerjoin(Beheerder, Beheerder.id == Delivery.beheerder_id)
            .outerjoin(PublicParticipant, PublicParticipant.id == Delivery.public_participant_id)
            .where(Delivery.status == PENDING, Delivery.next_attempt_at <= bindparam("now"), ~waits)
            .order_by(Delivery.next_attempt_at, Delivery.id).limit(bindparam("limit", type_=Integer))
            .with_for_update(skip_locked=True, of=Delivery))


_DUE = _due_statement()


@dataclass(frozen=True)
class Claimed:
    message: Outgoing
    deadline: float  # monotonic: do not start sending after this


class DeliveryWorker:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 channels: dict[str, ChannelAdapter], limiter: RateLimiter) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.channels = channels
        self.limiter = limiter
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._alerts: dict[int, tuple[str, str]] = {}  # broadcast id -> (kind, message); both never change
        self._in_flight: dict[str, asyncio.Semaphore] = {}
        self._rates = {"whatsapp": settings.broadcast_whatsapp_rate_per_second,
                       "webhook": settings.broadcast_webhook_rate_per_second,
                       "email": settings.broadcast_email_rate_per_second}

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        pipelines = max(1, self.settings.broadcast_worker_pipelines)
        self._tasks = [asyncio.create_task(self._pipeline(), name=f"delivery-pipeline-{n}") for n in range(pipelines)]
        self._tasks.append(asyncio.create_task(self._maintenance(), name="delivery-maintenance"))

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for channel in self.channels.values():
            await channel.aclose()

    async def _pipeline(self) -> None:
        while True:
            try:
                handled = await self.run_once()
            except Exception:  # keep going; leases bring claimed rows back
                logger.exception("delivery pipeline failed")
                handled = 0
            if handled == 0:
                await self._idle()

    async def _maintenance(self) -> None:
        while True:
            try:
                await self.maintain()
            except Exception:
                logger.exception("delivery maintenance failed")
            await asyncio.sleep(self.settings.broadcast_poll_seconds)

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.settings.broadcast_poll_seconds)
        self._wake.clear()

    async def drain(self, within: float = 30.0) -> None:
        """Works until nothing is due (tests and tools); rows due later stay queued."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            handled = await self.run_once()
            handled += await self.maintain()
            if handled == 0:
                return
        raise TimeoutError("deliveries still due after the drain timeout")

    async def run_once(self) -> int:
        batch = await self.claim()
        if not batch:
            return 0
        if len(batch) >= self._claim_size():
            self._wake.set()  # probably more: let the idle pipelines claim too
        results = await asyncio.gather(*(self._send(item) for item in batch))
        await self.record(list(zip(batch, results, strict=True)))
        return len(batch)

    async def maintain(self) -> int:
        reconciled = await self.reconcile()
        async with self.sessionmaker() as session:
            await emit_due_progress(session, self.settings.broadcast_progress_seconds, utcnow())
            await session.commit()
        return reconciled

    # --- claim ---------------------------------------------------------------------------------

    def _claim_size(self) -> int:
        per_horizon = int(self.settings.broadcast_whatsapp_rate_per_second * CLAIM_HORIZON_SECONDS)
        return max(1, min(self.settings.broadcast_worker_batch, per_horizon))

    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.broadcast_http_timeout_seconds
                         + self.settings.broadcast_unknown_grace_seconds)

    def _due_query(self, now: datetime, limit: int) -> tuple[Select[Any], dict[str, Any]]:
        pair_cutoff = now - timedelta(seconds=self.settings.broadcast_whatsapp_pair_seconds)
        return _DUE, {"now": now, "limit": limit, "pair_cutoff": pair_cutoff}

    async def claim(self) -> list[Claimed]:
        """Marks due rows `sending` under a new attempt id and a lease, and commits that before any send."""
        now = utcnow()
        nonce = secrets.token_hex(4)
        async with self.sessionmaker() as session:
            rows = list((await session.execute(*self._due_query(now, self._claim_size()))).all())
            if not rows:
                await session.rollback()
                return []
            table = DELIVERIES
            next_attempt = sql_cast(table.c.attempts + 1, String)
            await session.execute(
                update(table).where(table.c.id.in_([row.id for row in rows]))
                .values(attempts=table.c.attempts + 1, status=SENDING, sending_since=now,
                        next_attempt_at=now + self._lease(),
                        attempt_id=literal("mk-") + sql_cast(table.c.id, String) + "-" + next_attempt + f"-{nonce}"))
            await self._load_alerts(session, {row.broadcast_id for row in rows if row.broadcast_id is not None})
            open_window = await self._open_windows(
                session, {row.beheerder_id for row in rows if row.channel == "whatsapp" and not row.use_template}, now)
            await session.commit()
        deadline = time.monotonic() + self.settings.broadcast_unknown_grace_seconds
        return [Claimed(self._outgoing(row, f"mk-{row.id}-{row.attempts + 1}-{nonce}", open_window), deadline)
                for row in rows]

    def _outgoing(self, row: Row[Any], attempt_id: str, open_window: set[int]) -> Outgoing:
        kind, text = self._alerts[row.broadcast_id] if row.broadcast_id is not None else (None, row.body or "")
        return Outgoing(
            delivery_id=row.id, attempt_id=attempt_id, purpose=row.purpose, channel=row.channel,
            beheerder_id=row.beheerder_id, name=row.name, phone=row.phone, email=row.email, text=text, kind=kind,
            broadcast_id=row.broadcast_id, report_id=row.report_id,
            # A public participant wrote to us when joining; when WhatsApp says their window has closed since,
            # the failure handling switches to the template (apply_failure, "reengage").
            template=row.channel == "whatsapp" and (row.use_template or (row.beheerder_id is not None
                                                                         and row.beheerder_id not in open_window)))

    async def _load_alerts(self, session: AsyncSession, broadcast_ids: set[int]) -> None:
        missing = broadcast_ids - self._alerts.keys()
        if missing:
            for id_, kind, message in (await session.execute(
                    select(Broadcast.id, Broadcast.kind, Broadcast.message).where(Broadcast.id.in_(missing)))).all():
                self._alerts[id_] = (kind, message)

    async def _open_windows(self, session: AsyncSession, beheerder_ids: set[int], now: datetime) -> set[int]:
        """Beheerders who wrote to us on WhatsApp within the service window (a report or a reply)."""
        if not beheerder_ids:
            return set()
        since = now - timedelta(hours=broadcast_config().window_hours) + timedelta(minutes=5)
        reported = (await session.scalars(
            select(Report.beheerder_id).where(Report.beheerder_id.in_(beheerder_ids), Report.channel == "whatsapp",
                                             Report.received_at >= since).distinct())).all()
        replied = (await session.scalars(
            select(WhatsAppWindow.beheerder_id).where(WhatsAppWindow.beheerder_id.in_(beheerder_ids),
                                                      WhatsAppWindow.last_inbound_at >= since))).all()
        return {beheerder_id for beheerder_id in (*reported, *replied) if beheerder_id is not None}

    # --- send ----------------------------------------------------------------------------------

    def _limit_key(self, channel: str) -> str:
        return f"whatsapp:{self.settings.whatsapp_phone_number_id}" if channel == "whatsapp" else channel

    async def _send(self, item: Claimed) -> SendResult:
        channel = item.message.channel
        adapter = self.channels.get(channel)
        if adapter is None:
            return SendResult("failed", error=f"Kanaal {channel} is niet ingesteld.")
        # Pace only callers that can write at once, so no queue sits between the paced slot and the wire.
        async with self._in_flight.setdefault(channel, asyncio.Semaphore(CONNECTIONS)):
            rate = self._rates.get(channel)
            if rate:
                await self.limiter.wait_turn(self._limit_key(channel), rate)
            if time.monotonic() > item.deadline:
                return SendResult("released", error="lease verlopen voor verzending")
            try:
                return await adapter.send(item.message)
            except Exception as exc:  # an adapter bug must not lose the row: treat it as an unknown outcome
                logger.exception("channel %s failed", channel)
                return SendResult("unknown", error=f"{type(exc).__name__}"[:300])

    # --- record --------------------------------------------------------------------------------

    async def record(self, done: list[tuple[Claimed, SendResult]]) -> None:
        now = utcnow()
        done.sort(key=lambda pair: pair[0].message.delivery_id)  # one lock order for every writer
        async with self.sessionmaker() as session:
            await self._record_sent(session, [(c.message, r) for c, r in done if r.outcome in ("sent", "delivered")
                                              and c.message.channel != "app"], now)
            await self._record_unknown(session, [c.message for c, r in done if r.outcome == "unknown"], now)
            await self._record_failures(session, [(c.message, r) for c, r in done
                                                  if r.outcome not in ("sent", "delivered", "unknown")], now)
            in_app = await self._record_app(session, [c.message for c, r in done if r.outcome == "delivered"
                                                      and c.message.channel == "app"], now)
            await feedback_delivered(session, [c.message.delivery_id for c, r in done
                                               if r.outcome == "delivered" and c.message.purpose == "feedback"])
            await mark_dirty(session, {c.message.broadcast_id for c, _ in done})  # emitted by `maintain`
            for message in in_app:  # events last, after the row locks (see app.events.notify)
                assert message.beheerder_id is not None  # in-app is a beheerder's channel
                emit(session, "alert", tracking.alert_event(message), audience=beheerder_audience(message.beheerder_id))
            await session.commit()

    async def _record_sent(self, session: AsyncSession, done: list[tuple[Outgoing, SendResult]],
                           now: datetime) -> None:
        if not done:
            return
        table = DELIVERIES
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.attempt_id == bindparam("b_attempt"),
                   table.c.status == SENDING)
            .values(status=bindparam("b_status"), sent_at=bindparam("b_now"), delivered_at=bindparam("b_delivered"),
                    provider_message_id=func.coalesce(table.c.provider_message_id, bindparam("b_provider")),
                    next_attempt_at=None, error_code=None, last_error=None))
        await session.execute(statement, [
            {"b_id": m.delivery_id, "b_attempt": m.attempt_id, "b_status": SENT if r.outcome == "sent" else DELIVERED,
             "b_now": now, "b_delivered": None if r.outcome == "sent" else now, "b_provider": r.provider_message_id}
            for m, r in done])

    async def _record_unknown(self, session: AsyncSession, messages: list[Outgoing], now: datetime) -> None:
        """The request may have reached the provider: keep the row `sending` until its callbacks had time."""
        if not messages:
            return
        table = DELIVERIES
        until = now + timedelta(seconds=self.settings.broadcast_unknown_grace_seconds)
        statement = (update(table)
                     .where(table.c.id == bindparam("b_id"), table.c.attempt_id == bindparam("b_attempt"),
                            table.c.status == SENDING)
                     .values(next_attempt_at=bindparam("b_until"), last_error="onbekende afloop"))
        await session.execute(statement, [{"b_id": m.delivery_id, "b_attempt": m.attempt_id, "b_until": until}
                                          for m in messages])

    async def _record_app(self, session: AsyncSession, messages: list[Outgoing], now: datetime) -> list[Outgoing]:
        """In-app: the "alert" event on the beheerder's stream commits with the row's state, so it is there
        exactly once. Returns the alerts whose event the caller writes. (Feedback put its event on the stream
        when it was recorded.)"""
        alerts = []
        for message in messages:
            result = await session.execute(
                update(Delivery).where(Delivery.id == message.delivery_id, Delivery.attempt_id == message.attempt_id,
                                       Delivery.status == SENDING)
                .values(status=DELIVERED, sent_at=now, delivered_at=now, next_attempt_at=None,
                        provider_message_id=f"app:{message.delivery_id}"))
            if getattr(result, "rowcount", 0) == 1 and message.purpose == "alert":
                alerts.append(message)
        return alerts

    async def _record_failures(self, session: AsyncSession, done: list[tuple[Outgoing, SendResult]],
                               now: datetime) -> None:
        if not done:
            return
        rows = {row.id: row for row in (await session.scalars(
            select(Delivery).where(Delivery.id.in_([m.delivery_id for m, _ in done])).order_by(Delivery.id)
            .with_for_update())).all()}
        for message, result in done:
            row = rows.get(message.delivery_id)
            if row is not None and row.status == SENDING and row.attempt_id == message.attempt_id:
                apply_failure(session, row, result, self.settings, now)

    # --- reconcile -----------------------------------------------------------------------------

    async def reconcile(self) -> int:
        """Settles `sending` rows whose lease or grace period ran out, from the stored status callbacks."""
        now = utcnow()
        async with self.sessionmaker() as session:
            rows = list((await session.scalars(
                select(Delivery).where(Delivery.status == SENDING, Delivery.next_attempt_at <= now)
                .order_by(Delivery.id).limit(RECONCILE_BATCH).with_for_update(skip_locked=True))).all())
            if not rows:
                await session.rollback()
                return 0
            callbacks = await tracking.callbacks_for(session, [r.attempt_id for r in rows if r.attempt_id])
            for row in rows:
                callback = callbacks.get(row.attempt_id or "")
                if callback is None:
                    apply_failure(session, row, SendResult("unknown", error="geen bevestiging van de provider"),
                                  self.settings, now)
                else:
                    tracking.apply_callback(session, row, callback, self.settings, now)
            await mark_dirty(session, {row.broadcast_id for row in rows})
            await session.commit()
        logger.info("reconciled %d deliveries with an unknown outcome", len(rows))
        return len(rows)


def build_worker(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, *,
                 email_sender: EmailSender | None = None, channels: dict[str, ChannelAdapter] | None = None,
                 limiter: RateLimiter | None = None) -> DeliveryWorker:
    templates = dict(broadcast_config().templates)
    return DeliveryWorker(sessionmaker, settings, channels or build_channels(settings, templates, email_sender),
                          limiter or build_rate_limiter(sessionmaker, not settings.is_sqlite))


def start_delivery_worker(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> DeliveryWorker:
    # httpx logs every request at INFO: at up to the WhatsApp rate per second that drowns the log.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
    worker = build_worker(sessionmaker, settings)
    worker.start()
    return worker
