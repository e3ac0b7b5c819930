"""Public participants of an evenement or vermissing: anyone who sends the operation's keyword (from the
posters) to the WhatsApp number while it is open. They first get the consent text and take part only after
answering "ja"; then their messages are reports through the one intake path, tagged with the operation, and
they get its messages and closing message. "STOP" ends it. They are never added to the registry: their number
is kept only on their participant row, and removed at closing plus the retention period, together with the
WhatsApp statuses and quarantined messages that carried it (`forget_due`, run by the operations sweeper)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.broadcast.models import OPEN_STATES, Delivery
from app.core.database import utcnow
from app.core.settings import Settings
from app.events.service import emit
from app.intake.models import QuarantinedMessage, WhatsAppStatus
from app.intake.service import PublicReporter
from app.intake.whatsapp import InboundMessage
from app.operations import channel
from app.operations.lifecycle import event_data
from app.operations.models import Operation, PublicParticipant
from app.operations.participation import parse_answer
from app.operations.times import shown

PublicStatus = Literal["consent_asked", "joined", "left", "informed"]  # informed: sent the keyword while not open
KEYWORD = re.compile(r"[A-Z0-9]{3,32}")
FORGET_BATCH = 200


def as_keyword(text: str | None) -> str | None:
    """ "BeachAlert", "beachalert!" or " BEACHALERT 👋" as the keyword; None for anything with more words."""
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", text or ""))
    candidate = words[0].upper() if len(words) == 1 else ""
    return candidate if KEYWORD.fullmatch(candidate) else None


# --- the texts ------------------------------------------------------------------------------------


def consent_text(operation: Operation, retention_days: int) -> str:
    return (f"POLITIE - {operation.name}\n"
            "U kunt bij deze actie meldingen rechtstreeks naar de meldkamer van de politie sturen. Voordat u "
            "meedoet:\n"
            "- Uw telefoonnummer en uw berichten gaan naar de meldkamer en worden alleen voor deze actie "
            "gebruikt. U komt niet in een groep of lijst.\n"
            f"- Uw nummer wordt {retention_days} dagen na het einde van de actie gewist. Uw meldingen bewaart "
            "de politie volgens de Wet politiegegevens.\n"
            "- U krijgt de berichten van de politie over deze actie tot het einde ervan.\n"
            "- Stoppen kan altijd: stuur STOP.\n"
            "Doet u mee? Antwoord \"ja\". Bij spoed: bel altijd 112.")


def _joined_text(operation: Operation) -> str:
    return (f"U doet mee aan {operation.name} tot {shown(operation.ends_at)}. Stuur wat u ziet (tekst, foto of "
            "locatie) in dit gesprek. Ga niet zelf achter iemand aan en maak geen foto's van personen. Stoppen: "
            "stuur STOP. Bij spoed: bel 112.")


def _not_open_text(operation: Operation) -> str:
    if operation.status == "gepland":
        return (f"De actie {operation.name} begint {shown(operation.starts_at)}. Stuur dan opnieuw "
                f"{operation.keyword}. Bij spoed: bel 112.")
    return (f"De actie {operation.name} is afgelopen; berichten in dit gesprek gaan niet meer naar de politie. "
            "Bij spoed: bel 112, anders 0900-8844.")


LEFT_TEXT = "U doet niet meer mee en krijgt geen berichten meer van deze actie."
ASK_AGAIN = "Doet u mee? Antwoord \"ja\", of stuur STOP."


# --- the webhook's handler ------------------------------------------------------------------------


async def handle_message(session: AsyncSession, message: InboundMessage, settings: Settings,
                         now: datetime) -> PublicReporter | bool:
    """For a message from a number that is no beheerder: True when it was a keyword or an answer (handled
    here, committed), the reporter when it is a public participant's report, False when it is none of ours."""
    phone = message.from_phone_e164
    if phone is None:
        return False
    keyword = as_keyword(message.text)
    operation = await _operation_with_keyword(session, keyword) if keyword else None
    if operation is not None:
        await _keyword_sent(session, operation, phone, message, settings, now)
        return True
    found = await _latest_participation(session, phone)
    if found is None:
        return False
    participant, operation = found
    if operation.status == "open" and participant.status == "joined" and parse_answer(message.text) is None \
            and message.kind != "other":
        return PublicReporter(participant.id, operation.id, operation.wijkcodes[0] if len(operation.wijkcodes) == 1
                              else None, operation.region_id)
    await _answer(session, operation, participant, message, settings, now)
    return True


async def _operation_with_keyword(session: AsyncSession, keyword: str) -> Operation | None:
    """The open operation with this keyword, else the next planned one, else the one that closed last."""
    for status, order in (("open", Operation.starts_at.desc()), ("gepland", Operation.starts_at.asc()),
                          ("gesloten", Operation.closed_at.desc())):
        operation = await session.scalar(select(Operation).where(Operation.keyword == keyword,
                                                                 Operation.status == status)
                                         .order_by(order, Operation.id.desc()).limit(1))
        if operation is not None:
            return operation
    return None


async def _latest_participation(session: AsyncSession, phone: str) -> tuple[PublicParticipant, Operation] | None:
    row = (await session.execute(
        select(PublicParticipant, Operation).join(Operation, Operation.id == PublicParticipant.operation_id)
        .where(PublicParticipant.phone == phone)
        .order_by((Operation.status == "open").desc(), PublicParticipant.id.desc()).limit(1))).first()
    return (row[0], row[1]) if row is not None else None


async def _participant(session: AsyncSession, operation: Operation, phone: str, now: datetime) -> PublicParticipant:
    participant = await session.scalar(select(PublicParticipant).where(
        PublicParticipant.operation_id == operation.id, PublicParticipant.phone == phone).with_for_update())
    if participant is None:
        participant = PublicParticipant(operation_id=operation.id, phone=phone, status="informed", created_at=now)
        session.add(participant)
        await session.flush()
    return participant


async def _keyword_sent(session: AsyncSession, operation: Operation, phone: str, message: InboundMessage,
                        settings: Settings, now: datetime) -> None:
    participant = await _participant(session, operation, phone, now)
    if participant.last_message_id == message.message_id:
        return  # Meta delivered the webhook again
    participant.last_message_id = message.message_id
    if operation.status != "open":
        text = _not_open_text(operation)
    elif participant.status == "joined":
        text = _joined_text(operation)
    else:
        participant.status = "consent_asked"
        text = consent_text(operation, settings.operation_public_retention_days)
    await send_to(session, operation, participant, text)
    await session.commit()


async def _answer(session: AsyncSession, operation: Operation, participant: PublicParticipant,
                  message: InboundMessage, settings: Settings, now: datetime) -> None:
    """A message that is no report: "ja" to the consent text, STOP, or anything after it ended."""
    await session.refresh(participant, with_for_update=True)
    if participant.last_message_id == message.message_id:
        return
    participant.last_message_id = message.message_id
    text = _change(session, operation, participant, parse_answer(message.text), now)
    if text is not None:
        await send_to(session, operation, participant, text)
    await session.commit()


def _change(session: AsyncSession, operation: Operation, participant: PublicParticipant, answer: str | None,
            now: datetime) -> str | None:
    """Applies the answer; the text to send back, if any."""
    if operation.status != "open":
        return _not_open_text(operation)
    if answer == "leave" and participant.status in ("joined", "consent_asked"):
        participant.status, participant.left_at = "left", now
        _emit(session, operation, participant, "participant_left")
        return LEFT_TEXT
    if answer == "join" and participant.status == "consent_asked":
        participant.status, participant.joined_at = "joined", now
        _emit(session, operation, participant, "participant_joined")
        return _joined_text(operation)
    if participant.status == "consent_asked":
        return ASK_AGAIN
    if participant.status in ("left", "informed"):
        return f"U doet niet mee aan {operation.name}. Meedoen? Stuur {operation.keyword}."
    return None  # "ja" from someone who already takes part


def _emit(session: AsyncSession, operation: Operation, participant: PublicParticipant, event: str) -> None:
    """No number in the event: the stream is kept longer than the participant's number."""
    emit(session, f"operation.{event}", event_data(operation, public=True, participant_id=participant.id,
                                                   via="whatsapp", participant_status=participant.status),
         region_id=operation.region_id)


# --- sending --------------------------------------------------------------------------------------


async def send_to(session: AsyncSession, operation: Operation, participant: PublicParticipant, text: str) -> None:
    """An answer to the participant (the outbox keeps the real time, not the operations' clock)."""
    await channel.send(session, operation, [], public_ids=[participant.id], text=text,
                       message=channel.answer_text(operation, text), purpose="answer", sender=None, now=utcnow())


async def counts(session: AsyncSession, operation_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    rows = (await session.execute(
        select(PublicParticipant.operation_id, PublicParticipant.status, func.count())
        .where(PublicParticipant.operation_id.in_(operation_ids))
        .group_by(PublicParticipant.operation_id, PublicParticipant.status))).all()
    out: dict[int, dict[str, int]] = {operation_id: {} for operation_id in operation_ids}
    for operation_id, status, count in rows:
        out[operation_id][status] = count
    return out


# --- forgetting -----------------------------------------------------------------------------------


async def forget_due(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """Removes the numbers of the public participants whose operation closed at least the retention period
    ago (once nothing is still being sent to them): from their row, from the WhatsApp statuses of the
    messages they were sent, and from the quarantine. Commits; how many were forgotten."""
    cutoff = now - timedelta(days=settings.operation_public_retention_days)
    sending = exists().where(Delivery.public_participant_id == PublicParticipant.id, Delivery.status.in_(OPEN_STATES))
    due = (await session.scalars(
        select(PublicParticipant).join(Operation, Operation.id == PublicParticipant.operation_id)
        .where(PublicParticipant.phone.is_not(None), Operation.status == "gesloten", Operation.closed_at <= cutoff,
               ~sending)
        .order_by(PublicParticipant.id).limit(FORGET_BATCH).with_for_update(skip_locked=True, of=PublicParticipant)
    )).all()
    for participant in due:
        await _forget(session, participant, now)
    await session.commit()
    return len(due)


async def _forget(session: AsyncSession, participant: PublicParticipant, now: datetime) -> None:
    phone = participant.phone
    sent_to_them = select(Delivery.provider_message_id).where(Delivery.public_participant_id == participant.id,
                                                              Delivery.provider_message_id.is_not(None))
    await session.execute(update(WhatsAppStatus).where(
        or_(WhatsAppStatus.message_id.in_(sent_to_them), WhatsAppStatus.recipient == phone)).values(recipient=None))
    await session.execute(delete(QuarantinedMessage).where(QuarantinedMessage.sender == phone,
                                                           QuarantinedMessage.received_at >= participant.created_at))
    participant.phone, participant.forgotten_at = None, now
