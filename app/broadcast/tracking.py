"""Tracking what happened to a message after it left: WhatsApp status callbacks (sent, delivered, read,
failed) and the beheerder's "doorgestuurd", from the portal or as a WhatsApp reply or reaction."""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.broadcast.channels import Outgoing, classify_whatsapp_error
from app.broadcast.config import broadcast_config
from app.broadcast.models import DELIVERED, FAILED, READ, SENDING, SENT, STATUS_RANK, Delivery, WhatsAppWindow
from app.broadcast.outbox import apply_failure
from app.broadcast.progress import emit_due_progress, mark_dirty
from app.core.database import utcnow
from app.core.settings import Settings
from app.intake.models import WhatsAppStatus
from app.intake.whatsapp import InboundMessage, StatusUpdate
from app.registry.models import Beheerder
from app.stats.models import feedback_delivered

_CALLBACK_RANK = {SENT: 1, DELIVERED: 2, READ: 3, FAILED: 4}  # a failure outranks everything before it
_FILLER = frozenset({"is", "al", "hoor", "bedankt", "dank", "je", "u", "top", "prima", "thanks"})


@dataclass(frozen=True)
class Callback:
    status: str
    message_id: str
    occurred_at: datetime
    error_code: int | None
    error_title: str | None


def alert_event(message: Outgoing) -> dict[str, Any]:
    """The payload of an "alert" event on the beheerder's own stream (the in-app channel)."""
    return {"delivery_id": message.delivery_id, "broadcast_id": message.broadcast_id, "kind": message.kind,
            "message": message.text}


async def callbacks_for(session: AsyncSession, attempt_ids: Sequence[str]) -> dict[str, Callback]:
    """The most telling stored callback per attempt id (failed > read > delivered > sent)."""
    if not attempt_ids:
        return {}
    rows = (await session.scalars(select(WhatsAppStatus).where(WhatsAppStatus.callback_data.in_(attempt_ids)))).all()
    best: dict[str, Callback] = {}
    for row in rows:
        callback = Callback(row.status, row.message_id, row.occurred_at, row.error_code, row.error_title)
        key = row.callback_data or ""
        if key not in best or _CALLBACK_RANK.get(row.status, 0) > _CALLBACK_RANK.get(best[key].status, 0):
            best[key] = callback
    return best


def apply_callback(session: AsyncSession, row: Delivery, callback: Callback, settings: Settings,
                   now: datetime) -> None:
    """A callback for the row's current attempt: advance its state, or handle WhatsApp's failure."""
    if callback.status == FAILED:
        if row.status in (SENDING, SENT, DELIVERED):  # a pending row was already written off and requeued
            result = classify_whatsapp_error(callback.error_code, callback.error_title or "mislukt volgens WhatsApp",
                                             None, None, settings.broadcast_whatsapp_pair_seconds)
            apply_failure(session, row, result, settings, now)
        return
    if row.status == FAILED or STATUS_RANK.get(callback.status, 0) <= STATUS_RANK.get(row.status, 0):
        return
    # Also from pending: a late callback proves an attempt we had written off did go out; do not send it again.
    row.status, row.next_attempt_at = callback.status, None
    row.provider_message_id = row.provider_message_id or callback.message_id
    row.sent_at = row.sent_at or callback.occurred_at
    if callback.status in (DELIVERED, READ):
        row.delivered_at = row.delivered_at or callback.occurred_at
    if callback.status == READ:
        row.read_at = row.read_at or callback.occurred_at


async def handle_statuses(session: AsyncSession, updates: Sequence[StatusUpdate], settings: Settings) -> None:
    """The webhook's status handler: newly stored callbacks update their delivery rows."""
    by_attempt: dict[str, list[StatusUpdate]] = {}
    for update in updates:
        if update.biz_opaque_callback_data:
            by_attempt.setdefault(update.biz_opaque_callback_data, []).append(update)
    if not by_attempt:
        return
    now = utcnow()
    rows = (await session.scalars(select(Delivery).where(Delivery.attempt_id.in_(by_attempt))
                                  .order_by(Delivery.id).with_for_update())).all()
    for row in rows:
        for update in sorted(by_attempt[row.attempt_id or ""], key=lambda u: _CALLBACK_RANK.get(u.status, 0)):
            callback = Callback(update.status, update.message_id, update.timestamp, update.error_code,
                                update.error_title)
            apply_callback(session, row, callback, settings, now)
    await feedback_delivered(session, [row.id for row in rows if row.purpose == "feedback" and row.delivered_at])
    await mark_dirty(session, {row.broadcast_id for row in rows})
    await emit_due_progress(session, settings.broadcast_progress_seconds, now)
    await session.commit()


def _normalise(text: str) -> list[str]:
    cleaned = "".join(ch for ch in unicodedata.normalize("NFC", text.casefold())
                      if not ("\U0001f3fb" <= ch <= "\U0001f3ff" or ch == "\ufe0f"))  # skin tones, emoji style
    return [word.strip(".,!?;:'\"()") for word in cleaned.split() if word.strip(".,!?;:'\"()")]


def means_forwarded(text: str | None) -> bool:
    """ "ok", "Doorgestuurd!", "👍", "is doorgestuurd, bedankt" - but not a new report in reply."""
    replies = broadcast_config().forwarded_replies
    words = _normalise(text or "")
    emoji = {reply for reply in replies if not reply.isalnum()}

    def known(word: str) -> bool:
        return word in replies or (bool(word) and all(ch in "".join(emoji) for ch in word))

    return any(known(w) for w in words) and all(known(w) or w in _FILLER for w in words)


async def note_inbound(session: AsyncSession, beheerder_id: int, at: datetime) -> None:
    """Remembers that the beheerder wrote to us: WhatsApp's 24-hour window is open again."""
    window = await session.get(WhatsAppWindow, beheerder_id)
    if window is None:
        session.add(WhatsAppWindow(beheerder_id=beheerder_id, last_inbound_at=at))
    elif window.last_inbound_at < at:
        window.last_inbound_at = at


async def mark_forwarded(session: AsyncSession, row: Delivery, via: str, settings: Settings) -> None:
    """The beheerder passed the alert on to their groups. Adds to the caller's transaction."""
    now = utcnow()
    if row.forwarded_at is None:
        row.forwarded_at, row.forwarded_via = now, via
        await mark_dirty(session, [row.broadcast_id])
        await emit_due_progress(session, settings.broadcast_progress_seconds, now)


async def handle_reply(session: AsyncSession, message: InboundMessage, settings: Settings) -> bool:
    """The webhook's reply handler: "ok", "doorgestuurd" or 👍 in reply (or as a reaction) to one of our
    messages from the beheerder it went to. Anything else is left to the intake (it may be a new report)."""
    if not message.reply_to_message_id or not message.from_phone_e164 or not means_forwarded(message.text):
        return False
    row = await session.scalar(
        select(Delivery).join(Beheerder, Beheerder.id == Delivery.beheerder_id)
        .where(Delivery.provider_message_id == message.reply_to_message_id,
               Beheerder.phone == message.from_phone_e164).with_for_update(of=Delivery))
    if row is None:
        return True  # an acknowledgement of a message that is not one of our alerts is no report either
    assert row.beheerder_id is not None  # joined with its beheerder
    await note_inbound(session, row.beheerder_id, message.timestamp)
    if row.purpose == "alert":
        await mark_forwarded(session, row, "whatsapp", settings)
    await session.commit()
    return True



ReplyHandler = Callable[[AsyncSession, InboundMessage], Awaitable[bool]]
StatusHandler = Callable[[AsyncSession, Sequence[StatusUpdate]], Awaitable[None]]


def webhook_handlers(settings: Settings) -> tuple[ReplyHandler, StatusHandler]:
    """The WhatsApp webhook's hooks (app.state.whatsapp_reply_handler / whatsapp_status_handler)."""
    async def on_reply(session: AsyncSession, message: InboundMessage) -> bool:
        return await handle_reply(session, message, settings)

    async def on_statuses(session: AsyncSession, updates: Sequence[StatusUpdate]) -> None:
        await handle_statuses(session, updates, settings)

    return on_reply, on_statuses
