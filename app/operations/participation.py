"""The beheerder's side: join, decline or leave in the portal or by answering "ja"/"nee" in WhatsApp (typed, or
a quick-reply button), the operations open to them, and which operation a report of theirs belongs to."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.broadcast.models import Delivery
from app.broadcast.outbox import Recipient, route
from app.broadcast.tracking import note_inbound
from app.core.database import padded, utcnow
from app.core.errors import NotFound, ProblemError
from app.core.principal import Principal
from app.core.settings import Settings
from app.events.service import emit
from app.intake.whatsapp import InboundMessage
from app.operations import channel
from app.operations.lifecycle import event_data
from app.operations.models import Operation, OperationMessage, OperationParticipant
from app.operations.schemas import ParticipationOut
from app.operations.times import local, shown
from app.registry.models import Beheerder, Group, Wijk, beheerder_groups

Answer = Literal["join", "leave"]
JOIN_PHRASES = frozenset({"ja", "jaa", "jazeker", "ja ik doe mee", "ik doe mee", "doe mee", "aanmelden", "yes"})
LEAVE_PHRASES = frozenset({"nee", "neen", "nee ik doe niet mee", "ik doe niet mee", "stop", "afmelden", "ik stop",
                           "no"})
FILLER = frozenset({"graag", "hoor", "bedankt", "dank", "je", "u", "wel", "oke", "ok"})
BUTTON_PAYLOAD = re.compile(r"operatie:(\d{1,10}):(ja|nee)")
LATE_ANSWER = timedelta(days=1)  # a plain "ja" this long after closing still gets "afgesloten" as its answer


class OperationClosed(ProblemError):
    def __init__(self) -> None:
        super().__init__(409, "Actie afgesloten", "Deze actie is afgesloten; meedoen of afmelden kan niet meer.",
                         code="operation_closed")


class OutsideArea(ProblemError):
    def __init__(self) -> None:
        super().__init__(403, "Geen toegang", "Deze actie is niet in de wijk van een van uw groepen.",
                         code="outside_area")


@dataclass(frozen=True)
class Change:
    participant: OperationParticipant
    before: str  # the status before the answer

    @property
    def changed(self) -> bool:
        return self.before != self.participant.status


# --- who may take part --------------------------------------------------------------------------


async def beheerder_wijkcodes(session: AsyncSession, beheerder_id: int) -> set[str]:
    """The wijken of the beheerder's active groups."""
    rows = await session.scalars(
        select(Wijk.code).join(Group, Group.wijk_id == Wijk.id)
        .join(beheerder_groups, beheerder_groups.c.group_id == Group.id)
        .where(beheerder_groups.c.beheerder_id == beheerder_id, Group.active.is_(True)))
    return set(rows.all())


async def _participant(session: AsyncSession, operation_id: int, beheerder_id: int) -> OperationParticipant | None:
    return await session.scalar(
        select(OperationParticipant).where(OperationParticipant.operation_id == operation_id,
                                           OperationParticipant.beheerder_id == beheerder_id).with_for_update())


LEAVING = {"joined": "left", "no_answer": "declined"}  # declined and left stay as they are


def _next_status(current: str, answer: Answer) -> str:
    return "joined" if answer == "join" else LEAVING.get(current, current)


async def record_answer(session: AsyncSession, operation: Operation, beheerder: Beheerder, answer: Answer, *,
                        via: str, now: datetime, message_id: str | None = None) -> Change:
    """Applies a join or leave (a leave before joining is a decline) and emits its event; no commit. A late
    join needs no invitation; a closed operation or one outside the beheerder's wijken refuses."""
    if operation.status == "gesloten":
        raise OperationClosed()
    if not set(operation.wijkcodes) & await beheerder_wijkcodes(session, beheerder.id):
        raise OutsideArea()
    participant = await _participant(session, operation.id, beheerder.id)
    if participant is None:
        participant = OperationParticipant(operation_id=operation.id, beheerder_id=beheerder.id, status="no_answer")
        session.add(participant)
    before = participant.status
    participant.status = _next_status(before, answer)
    participant.answered_at, participant.answered_via, participant.last_message_id = now, via, message_id
    if participant.status == "joined" and before != "joined":
        participant.joined_at = now
    change = Change(participant, before)
    if change.changed:
        await session.flush()
        event = {"joined": "participant_joined", "left": "participant_left", "declined": "participant_declined"}
        emit(session, f"operation.{event[participant.status]}",
             event_data(operation, beheerder_id=beheerder.id, via=via, participant_status=participant.status),
             region_id=operation.region_id)
    return change


# --- the portal ---------------------------------------------------------------------------------


def participation_out(operation: Operation, status: str) -> ParticipationOut:
    return ParticipationOut(operation_id=operation.id, name=operation.name, kind=operation.kind,
                            operation_status=operation.status, starts_at=local(operation.starts_at),
                            ends_at=local(operation.ends_at), briefing=operation.briefing, status=status)


async def answer_in_portal(session: AsyncSession, principal: Principal, operation_id: int, answer: Answer,
                           now: datetime) -> ParticipationOut:
    operation = await session.scalar(select(Operation).where(Operation.id == operation_id).with_for_update())
    beheerder = await session.get(Beheerder, principal.id)
    if operation is None or beheerder is None:
        raise NotFound("Deze actie")
    change = await record_answer(session, operation, beheerder, answer, via="portal", now=now)
    out = participation_out(operation, change.participant.status)
    await session.commit()
    return out


async def my_operations(session: AsyncSession, beheerder_id: int) -> list[ParticipationOut]:
    """The operations the beheerder was invited to or answered, and the ones not yet closed in their wijken
    (joining late needs no invitation); the newest first."""
    answered = {operation_id: status for operation_id, status in (await session.execute(
        select(OperationParticipant.operation_id, OperationParticipant.status)
        .where(OperationParticipant.beheerder_id == beheerder_id))).all()}
    wijkcodes = await beheerder_wijkcodes(session, beheerder_id)
    candidates = (await session.scalars(
        select(Operation).where(or_(Operation.id.in_(answered), Operation.status != "gesloten"))
        .order_by(Operation.starts_at.desc(), Operation.id.desc()))).all()
    return [participation_out(operation, answered.get(operation.id, "no_answer")) for operation in candidates
            if operation.id in answered or set(operation.wijkcodes) & wijkcodes]


# --- WhatsApp -----------------------------------------------------------------------------------


def parse_answer(text: str | None) -> Answer | None:
    """ "Ja", "ja graag 👍", "Nee, dank je", "stop" - but not a report that starts with "ja"."""
    words = re.findall(r"\w+", unicodedata.normalize("NFC", (text or "").casefold()))
    phrase = " ".join(word for word in words if word not in FILLER)
    if phrase in JOIN_PHRASES:
        return "join"
    if phrase in LEAVE_PHRASES:
        return "leave"
    return None


def _button(message: InboundMessage) -> tuple[int | None, Answer | None]:
    """A quick-reply button whose payload names the operation ("operatie:12:ja"), else its title as text."""
    match = BUTTON_PAYLOAD.fullmatch(message.button_payload or "")
    if match:
        return int(match.group(1)), "join" if match.group(2) == "ja" else "leave"
    return None, parse_answer(message.text) or parse_answer(message.button_payload)


async def _replied_operation(session: AsyncSession, beheerder_id: int, reply_to: str) -> Operation | None:
    operation_id = await session.scalar(
        select(OperationMessage.operation_id).join(Delivery, Delivery.broadcast_id == OperationMessage.broadcast_id)
        .where(Delivery.provider_message_id == reply_to, Delivery.beheerder_id == beheerder_id).limit(1))
    return await session.get(Operation, operation_id) if operation_id is not None else None


async def _latest_operation(session: AsyncSession, beheerder_id: int, now: datetime) -> Operation | None:
    """For a plain "ja"/"nee": the operation of the beheerder's latest invitation or answer that is still
    running, or closed so recently that the answer must be about it."""
    return await session.scalar(
        select(Operation).join(OperationParticipant, OperationParticipant.operation_id == Operation.id)
        .where(OperationParticipant.beheerder_id == beheerder_id,
               or_(Operation.status != "gesloten", Operation.closed_at >= now - LATE_ANSWER))
        .order_by(OperationParticipant.id.desc()).limit(1))


async def _answered_operation(session: AsyncSession, beheerder_id: int, message: InboundMessage,
                              named: int | None, now: datetime) -> Operation | None:
    if named is not None:
        return await session.get(Operation, named)
    if message.reply_to_message_id:
        return await _replied_operation(session, beheerder_id, message.reply_to_message_id)
    return await _latest_operation(session, beheerder_id, now)


def _confirmation(operation: Operation, change: Change) -> str | None:
    if not change.changed:
        return None
    status = change.participant.status
    if status == "joined":
        return (f"U doet mee. U krijgt de berichten van deze actie tot {shown(operation.ends_at)}. "
                "Afmelden: antwoord \"stop\".")
    if status == "declined":
        return "U doet niet mee en krijgt geen berichten van deze actie. Toch meedoen? Antwoord \"ja\"."
    return "U bent afgemeld en krijgt geen berichten meer van deze actie."


async def _answer(session: AsyncSession, operation: Operation, beheerder: Beheerder, text: str,
                  settings: Settings) -> None:
    recipient = Recipient(beheerder.id, beheerder.name,
                          route(beheerder.channels or [], beheerder.phone, beheerder.email))
    await channel.send(session, operation, [channel.whatsapp_first(recipient, settings)], text=text,
                       message=channel.answer_text(operation, text), purpose="answer", sender=None, now=utcnow())


async def answer_by_whatsapp(session: AsyncSession, message: InboundMessage, settings: Settings,
                             now: datetime) -> bool:
    """The webhook's hook for "ja"/"nee": True when the message was an answer to an operation (it is then no
    report); commits. Meta sends a webhook again when unsure: the same message changes nothing twice."""
    named, answer = _button(message)
    if answer is None or not message.from_phone_e164:
        return False
    beheerder = await session.scalar(select(Beheerder).where(Beheerder.phone == message.from_phone_e164,
                                                             Beheerder.active.is_(True)))
    if beheerder is None:
        return False
    operation = await _answered_operation(session, beheerder.id, message, named, now)
    if operation is None:
        return False
    await session.refresh(operation, with_for_update=True)
    participant = await _participant(session, operation.id, beheerder.id)
    if participant is not None and participant.last_message_id == message.message_id:
        return True
    await note_inbound(session, beheerder.id, message.timestamp)
    try:
        reply = _confirmation(operation, await record_answer(session, operation, beheerder, answer, via="whatsapp",
                                                             now=now, message_id=message.message_id))
    except (OperationClosed, OutsideArea) as refused:
        if participant is not None:
            participant.last_message_id = message.message_id
        reply = refused.detail
    if reply:
        await _answer(session, operation, beheerder, reply, settings)
    await session.commit()
    return True


# --- tagging reports ----------------------------------------------------------------------------

_OPERATIONS_OF_REPORTERS = (
    select(OperationParticipant.beheerder_id, OperationParticipant.operation_id, Operation.ends_at)
    .join(Operation, Operation.id == OperationParticipant.operation_id)
    .where(OperationParticipant.beheerder_id.in_(bindparam("beheerder_ids", expanding=True)),
           OperationParticipant.status == "joined", Operation.status == "open", Operation.ends_at > bindparam("at"))
    .order_by(Operation.starts_at.desc(), Operation.id.desc())
)  # built once: it runs for every batch on the intake path


async def operations_of_reporters(connection: AsyncConnection,
                                  reporters: Sequence[tuple[int, datetime]]) -> list[int | None]:
    """For each (beheerder, time a report arrived): the open operation the beheerder takes part in then (the
    latest to start). One statement for a whole batch of the intake."""
    if not reporters:
        return []
    ids = padded(sorted({beheerder_id for beheerder_id, _ in reporters}))
    rows = (await connection.execute(_OPERATIONS_OF_REPORTERS,
                                     {"beheerder_ids": ids, "at": min(at for _, at in reporters)})).all()
    return [next((row.operation_id for row in rows if row.beheerder_id == beheerder_id and row.ends_at > at), None)
            for beheerder_id, at in reporters]
