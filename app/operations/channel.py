"""The temporary channel: every message of an operation (invitation, message, closing message, an answer to a
WhatsApp reply) is a broadcast of kind "actie" with one outbox row per recipient, so the delivery workers,
rate limits, WhatsApp templates, status callbacks and "doorgestuurd" work for it as for any alert."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.broadcast.channels import available_channels
from app.broadcast.models import PENDING, Broadcast, Delivery
from app.broadcast.outbox import Recipient, enqueue_alert, route
from app.broadcast.privacy import check_text
from app.broadcast.service import PrivacyWarnings
from app.core.principal import Principal
from app.core.settings import Settings
from app.core.vocabulary import OPERATION_KIND
from app.operations.models import Operation, OperationMessage, OperationParticipant, PublicParticipant
from app.operations.times import local, shown
from app.registry.models import Beheerder

OPERATION_BROADCAST_KIND = "actie"
Purpose = Literal["invitation", "message", "closing", "answer"]


def check_privacy(text: str, confirmed: Sequence[str]) -> list[str]:
    """The broadcast's privacy check: refused until every warning is confirmed; the confirmed codes."""
    warnings = check_text(text)
    unconfirmed = [w for w in warnings if w.code not in confirmed]
    if unconfirmed:
        raise PrivacyWarnings(unconfirmed)
    return [w.code for w in warnings]


def _title(operation: Operation) -> str:
    return f"{OPERATION_KIND.label(operation.kind)} {operation.name}"


def invitation_text(operation: Operation) -> str:
    return (f"📣 POLITIE - UITNODIGING: {_title(operation)}\n"
            f"Van {shown(operation.starts_at)} tot {shown(operation.ends_at)}.\n"
            f"{operation.briefing}\n"
            "Doet u mee? Antwoord met \"ja\" of \"nee\", of meld u aan in het beheerdersportaal. U krijgt dan de "
            "berichten van deze actie tot het einde.")


def message_text(operation: Operation, text: str, at: datetime) -> str:
    return (f"📣 POLITIE - ACTIE {operation.name} ({local(at):%H:%M})\n{text}\n"
            "Ziet u iets? Bel direct 112. Ga niet zelf achter iemand aan en maak geen foto's van personen.")


def closing_text(operation: Operation, text: str | None) -> str:
    thanks = f"{text}\n" if text else ""
    return (f"✅ POLITIE - ACTIE {operation.name} AFGESLOTEN\n{thanks}"
            "Bedankt voor uw hulp. U ontvangt over deze actie geen berichten meer.")


def answer_text(operation: Operation, text: str) -> str:
    return f"POLITIE - {_title(operation)}: {text}"


async def joined_recipients(session: AsyncSession, operation_id: int, settings: Settings) -> list[Recipient]:
    """The active beheerders who take part now, each on their own channels."""
    rows = (await session.execute(
        select(Beheerder.id, Beheerder.name, Beheerder.phone, Beheerder.email, Beheerder.channels)
        .join(OperationParticipant, OperationParticipant.beheerder_id == Beheerder.id)
        .where(OperationParticipant.operation_id == operation_id, OperationParticipant.status == "joined",
               Beheerder.active.is_(True)).order_by(Beheerder.id))).all()
    available = available_channels(settings)
    return [Recipient(id_, name, route(channels or [], phone, email, available))
            for id_, name, phone, email, channels in rows]


async def joined_public(session: AsyncSession, operation_id: int) -> list[int]:
    """The public participants who take part now (app.operations.public): WhatsApp only, by their number."""
    return list((await session.scalars(
        select(PublicParticipant.id).where(PublicParticipant.operation_id == operation_id,
                                           PublicParticipant.status == "joined", PublicParticipant.phone.is_not(None))
        .order_by(PublicParticipant.id))).all())


def _public_row(broadcast_id: int, participant_id: int, now: datetime) -> dict[str, Any]:
    return {"purpose": "alert", "broadcast_id": broadcast_id, "public_participant_id": participant_id,
            "channel": "whatsapp", "fallbacks": [], "status": PENDING, "next_attempt_at": now, "created_at": now,
            "parts": [], "use_template": False, "attempts": 0, "failures": 0, "superseded": False}


def whatsapp_first(recipient: Recipient, settings: Settings) -> Recipient:
    """An answer to a WhatsApp reply goes back on WhatsApp when this configuration can send there."""
    if "whatsapp" not in available_channels(settings) or recipient.channel == "whatsapp":
        return recipient
    return Recipient(recipient.beheerder_id, recipient.name,
                     ("whatsapp", *(channel for channel in recipient.route if channel != "whatsapp")))


async def send(session: AsyncSession, operation: Operation, recipients: Sequence[Recipient], *, text: str,
               message: str, purpose: Purpose, sender: Principal | None, now: datetime,
               confirmed_warnings: Sequence[str] = (), public_ids: Sequence[int] = ()) -> Broadcast:
    """The broadcast, its outbox rows (for the beheerders, and the public participants in `public_ids`) and the
    operation's record of it, in the caller's transaction."""
    broadcast = Broadcast(
        kind=OPERATION_BROADCAST_KIND, text=text, message=message,
        target={"operation_id": operation.id, "purpose": purpose}, wijkcodes=list(operation.wijkcodes),
        gemeentecodes=list(operation.gemeentecodes), region_id=operation.region_id, incident_id=None,
        created_by_id=sender.id if sender is not None and sender.is_staff else None,
        created_by_name=sender.name if sender is not None else "meldkamer", created_at=now,
        confirmed_warnings=list(confirmed_warnings), recipient_count=len(recipients) + len(public_ids),
        progress_dirty=True)
    session.add(broadcast)
    await session.flush()
    await enqueue_alert(session, broadcast.id, recipients, now)
    if public_ids:
        await session.execute(insert(Delivery), [_public_row(broadcast.id, participant_id, now)
                                                 for participant_id in public_ids])
    session.add(OperationMessage(operation_id=operation.id, broadcast_id=broadcast.id, purpose=purpose,
                                 created_at=now))
    return broadcast
