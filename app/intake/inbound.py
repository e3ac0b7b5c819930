"""Channel adapters: WhatsApp messages and partner-app reports become IntakeRequests for the one intake."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.core.database import utcnow
from app.core.errors import ProblemError
from app.core.principal import SYSTEM
from app.events.service import emit
from app.intake import group_choice, service
from app.intake.models import Report, ReportPhoto, WhatsAppStatus
from app.intake.schemas import LocationIn, ReportIn
from app.intake.whatsapp import BSUID, InboundMessage, RejectedMessage, StatusUpdate
from app.registry.models import Beheerder

# A photo or location that follows a text within this time belongs to that text (members send them apart).
ATTACH_WINDOW = timedelta(minutes=10)
WHATSAPP = "whatsapp"
LOCATION_LABEL_CHARS = 200
logger = logging.getLogger("app.intake.whatsapp")

# The composition root registers a handler for answers to our messages (app.flows.whatsapp_replies: "ja"/"nee"
# to an operation, "ok"/"doorgestuurd"/"👍" to an alert); True = handled, no report.
ReplyHandler = Callable[[AsyncSession, InboundMessage], Awaitable[bool]]
# And one for numbers that are no beheerder (app.flows.whatsapp_replies: an operation's keyword, the answer to
# its consent text, STOP; True = handled), which gives back the reporter when it is a public participant's report.
PublicHandler = Callable[[AsyncSession, InboundMessage], Awaitable[service.PublicReporter | bool]]


@dataclass(frozen=True)
class Outcome:
    kind: str  # created | duplicate | attached | quarantined | ignored | reply | group_chosen | group_asked | public
    report_id: int | None = None


async def accept_whatsapp_message(session: AsyncSession, writer: service.ReportWriter, message: InboundMessage,
                                  reply_handler: ReplyHandler | None = None,
                                  group_chosen: group_choice.GroupChosen | None = None,
                                  public_handler: PublicHandler | None = None) -> Outcome:
    beheerder = await _sending_beheerder(session, message)
    if beheerder is None:
        public = await public_handler(session, message) if public_handler is not None else False
        if isinstance(public, service.PublicReporter):
            return await _new_report(session, writer, None, message, public)
        if public:
            return Outcome("public")
        unknown = "onbekend nummer" if message.from_phone_e164 else "onbekende WhatsApp-gebruiker (BSUID)"
        return await _quarantine(session, message, unknown)
    if reply_handler and await reply_handler(session, message):
        return Outcome("reply")
    if message.kind == "other" or (message.kind == "text" and not (message.text or "").strip()):
        return Outcome("ignored")
    answered = await group_choice.answer(session, beheerder, message, group_chosen)
    if answered is not None:
        return Outcome("group_chosen" if answered.chosen else "group_asked", answered.report_id)
    attached = await _attach_to_recent_report(session, beheerder.id, message)
    if attached is not None:
        return attached
    return await _new_report(session, writer, beheerder, message)


async def _new_report(session: AsyncSession, writer: service.ReportWriter, beheerder: Beheerder | None,
                      message: InboundMessage, public: service.PublicReporter | None = None) -> Outcome:
    """A report of the beheerder, or (beheerder None) of a public participant of an operation."""
    try:
        body = _report_body(message)
    except ValidationError as exc:
        return await _quarantine(session, message, f"ongeldig: {exc.errors()[0]['msg']}"[:64])
    request = service.IntakeRequest(
        beheerder_id=beheerder.id if beheerder is not None else None, channel=WHATSAPP, body=body,
        idempotency_key=f"wa:{message.message_id}", request_hash=service.request_hash(body, [message.media_id or ""]),
        pending_media_ids=[message.media_id] if message.media_id else [],
        location_source=WHATSAPP, forwarded=message.forwarded, group_may_wait=True, public=public,
    )
    try:
        result = await service.submit_report(session, writer, request)
    except ProblemError as exc:
        return await _quarantine(session, message, f"{exc.code or 'ongeldig'}: {exc.detail or ''}"[:64])
    if result.created and result.report.group_pending:
        await group_choice.ask(session, result.report)
    return Outcome("created" if result.created else "duplicate", result.report.id)


async def _sending_beheerder(session: AsyncSession, message: InboundMessage) -> Beheerder | None:
    """The beheerder by phone number, else by WhatsApp's business-scoped user id (BSUID) once it is linked to
    them. A message that carries both links them, when neither is linked otherwise."""
    if message.from_phone_e164 is not None:
        beheerder = await service.beheerder_by_phone(session, message.from_phone_e164)
        if beheerder is not None:
            if message.from_user_id is not None:
                await _learn_user_id(session, beheerder, message.from_user_id)
            return beheerder
    if message.from_user_id is not None:
        return await service.beheerder_by_whatsapp_user(session, message.from_user_id)
    return None


async def _learn_user_id(session: AsyncSession, beheerder: Beheerder, user_id: str) -> None:
    if beheerder.whatsapp_user_id == user_id:
        return
    if beheerder.whatsapp_user_id is not None or not BSUID.fullmatch(user_id):
        logger.warning("WhatsApp user id not linked: the beheerder has another, or it is malformed",
                       extra={"beheerder_id": beheerder.id})
        return
    if await session.scalar(select(Beheerder.id).where(Beheerder.whatsapp_user_id == user_id)) is not None:
        logger.warning("WhatsApp user id not linked: another beheerder has it", extra={"beheerder_id": beheerder.id})
        return
    beheerder.whatsapp_user_id = user_id
    audit.record(session, SYSTEM, "beheerder.whatsapp_user_id", target_type="beheerder", target_id=beheerder.id,
                 learned_from="whatsapp")
    try:
        await session.commit()
    except IntegrityError:  # linked to another beheerder meanwhile
        await session.rollback()


def _report_body(message: InboundMessage) -> ReportIn:
    if message.kind == "location":
        assert message.lat is not None and message.lon is not None
        label = message.location_name or message.location_address or f"{message.lat:.5f}, {message.lon:.5f}"
        address = message.location_address[:LOCATION_LABEL_CHARS] if message.location_address else None
        return ReportIn(text=f"Gedeelde locatie: {label[:LOCATION_LABEL_CHARS]}",
                        location=LocationIn(lat=message.lat, lon=message.lon, place=address))
    if message.kind == "image" and not (message.text or "").strip():
        return ReportIn(text="(foto zonder tekst)")
    return ReportIn(text=message.text or "")


async def _attach_to_recent_report(session: AsyncSession, beheerder_id: int,
                                   message: InboundMessage) -> Outcome | None:
    """A caption-less photo or a location right after a text completes that report."""
    bare_photo = message.kind == "image" and not (message.text or "").strip() and message.media_id
    if not bare_photo and message.kind != "location":
        return None
    recent = await service.latest_report_within(session, beheerder_id, WHATSAPP, utcnow() - ATTACH_WINDOW)
    if recent is None:
        return None
    if bare_photo:
        return await _attach_photo(session, recent, str(message.media_id))
    if recent.lat is None and message.lat is not None and message.lon is not None:
        recent.lat, recent.lon, recent.location_source = message.lat, message.lon, WHATSAPP
        emit(session, "report.updated", {"report_id": recent.id, "case_number": recent.case_number,
                                         "location": {"lat": message.lat, "lon": message.lon}},
             region_id=recent.region_id, wijk_code=recent.source_wijk_code)
        await session.commit()
        return Outcome("attached", recent.id)
    return None


async def _attach_photo(session: AsyncSession, report: Report, media_id: str) -> Outcome:
    if any(photo.media_id == media_id for photo in report.photos):
        return Outcome("duplicate", report.id)
    session.add(ReportPhoto(report_id=report.id, status="pending", media_id=media_id, next_attempt_at=utcnow()))
    await session.commit()
    return Outcome("attached", report.id)


async def _quarantine(session: AsyncSession, message: InboundMessage, reason: str) -> Outcome:
    await session.rollback()
    await service.quarantine(
        session, channel=WHATSAPP, external_id=f"wa:{message.message_id}"[:200],
        sender=(message.from_phone_e164 or message.from_user_id or "")[:160] or None,
        sender_name=(message.profile_name or "")[:200] or None, kind=message.kind, text=message.text, reason=reason,
    )
    return Outcome("quarantined")


async def quarantine_rejected(session: AsyncSession, message: RejectedMessage) -> Outcome:
    await service.quarantine(session, channel=WHATSAPP, external_id=message.external_id, sender=message.sender,
                             sender_name=None, kind="other", text=message.text, reason=f"ongeldig: {message.reason}")
    return Outcome("quarantined")


async def store_status(session: AsyncSession, update: StatusUpdate) -> bool:
    """Keeps a delivery status callback once (Meta retries webhooks); False for a repeat."""
    exists = await session.scalar(select(WhatsAppStatus.id).where(
        WhatsAppStatus.message_id == update.message_id, WhatsAppStatus.status == update.status))
    if exists:
        return False
    session.add(WhatsAppStatus(
        message_id=update.message_id, recipient=update.recipient_phone_e164, status=update.status,
        occurred_at=update.timestamp, error_code=update.error_code,
        error_title=(update.error_title or "")[:300] or None, callback_data=update.biz_opaque_callback_data,
    ))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return False
    return True
