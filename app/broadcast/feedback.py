"""Terugkoppeling: telling the beheerder who forwarded a report what the police did with it.

`record_feedback` is called by the queue when an operator sets a follow-up, a result or a note. It adds to
the caller's transaction (no commit): a ReportFeedback row with a Dutch text ("Uw melding MK-2026-000123: er
is een eenheid ter plaatse gegaan"), an event on the beheerder's own stream, and an outbox delivery. The
delivery waits `feedback.combine_seconds`; changes within that time are merged into it, so a quick
follow-up and result reach the beheerder as one message. Which transitions notify, and the wording, are
set in config/broadcast.yaml. Notes go through the privacy check: personal data is removed, and a note that
describes people by looks or origin only is refused."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.broadcast.config import FeedbackConfig, FeedbackText, broadcast_config
from app.broadcast.models import PENDING, Delivery
from app.broadcast.outbox import route
from app.broadcast.privacy import appearance_without_behaviour, redact
from app.core.database import utcnow
from app.core.errors import InvalidInput
from app.events.service import beheerder_audience, emit
from app.intake.models import Report, ReportFeedback
from app.intake.schemas import normalise_text
from app.registry.models import Beheerder

FEEDBACK_KINDS = ("follow_up", "result", "note")


def clean_note(note: str) -> str:
    """A note for the reporter without personal data; refused when it singles people out by looks."""
    text = normalise_text(note)
    if not text:
        raise InvalidInput("De toelichting is leeg.", field="note", code="empty_note")
    if appearance_without_behaviour(text):
        raise InvalidInput("De toelichting beschrijft uiterlijk of afkomst zonder gedrag en gaat niet naar de melder.",
                           field="note", code="privacy_refused")
    return redact(text)[0]


def _entry(options: Mapping[str, FeedbackText], kind: str, value: str) -> FeedbackText:
    if value not in options:
        raise InvalidInput(f"Onbekende waarde voor {kind}: {value!r}; kies uit {', '.join(options)}.", field=kind,
                           code="unknown_value")
    return options[value]


def feedback_text(config: FeedbackConfig, kind: str, value: str | None, note: str | None) -> str | None:
    """The text after "Uw melding <nummer>: ", or None when this transition does not notify (also when a
    follow-up or result is cleared: there is nothing to tell)."""
    if kind in ("follow_up", "result") and value is None:
        return None
    if kind == "note":
        if not note:
            raise InvalidInput("Een toelichting zonder tekst.", field="note", code="empty_note")
        cleaned = clean_note(note)
        return config.note.text.replace("{note}", cleaned) if config.note.notify else None
    if kind == "follow_up" and value is not None:
        entry = _entry(config.follow_up, kind, value)
    elif kind == "result" and value is not None:
        entry = _entry(config.result, kind, value)
    else:
        raise InvalidInput(f"Onbekende soort terugkoppeling: {kind!r}.", field="kind", code="unknown_kind")
    if not entry.notify:
        return None
    return f"{entry.text}. {clean_note(note)}" if note and note.strip() else entry.text


def _message(config: FeedbackConfig, case_number: str, parts: Sequence[str]) -> str:
    return config.message.replace("{case_number}", case_number).replace("{text}", "; ".join(parts))


async def _queue(session: AsyncSession, report: Report, part: str, config: FeedbackConfig, now: datetime) -> None:
    """Merges into this report's feedback message that has not gone out yet, or queues a new one."""
    pending = await session.scalar(
        select(Delivery).where(Delivery.purpose == "feedback", Delivery.report_id == report.id,
                               Delivery.status == PENDING, Delivery.superseded.is_(False))
        .order_by(Delivery.id.desc()).limit(1).with_for_update())
    if pending is not None:
        pending.parts = [*pending.parts, part]
        pending.body = _message(config, report.case_number, pending.parts)
        return
    beheerder = await session.get(Beheerder, report.beheerder_id) if report.beheerder_id is not None else None
    if beheerder is None or not beheerder.active:
        return
    channels = route(beheerder.channels or [], beheerder.phone, beheerder.email)
    session.add(Delivery(
        purpose="feedback", report_id=report.id, beheerder_id=beheerder.id, channel=channels[0],
        fallbacks=list(channels[1:]), status=PENDING, parts=[part], body=_message(config, report.case_number, [part]),
        next_attempt_at=now + timedelta(seconds=config.combine_seconds), created_at=now))


async def record_feedback(session: AsyncSession, report: Report, *, kind: str, value: str | None, note: str | None,
                          staff_user_id: int | None) -> ReportFeedback | None:
    """Adds the feedback row, the beheerder's event and the (combined) outbox delivery to the caller's
    transaction. Returns None when config/broadcast.yaml says this transition is not told to the reporter."""
    config = broadcast_config().feedback
    text = feedback_text(config, kind, value, note)
    if text is None:
        return None
    now = utcnow()
    row = ReportFeedback(report_id=report.id, at=now, kind=kind, text=_message(config, report.case_number, [text]),
                         staff_user_id=staff_user_id)
    session.add(row)
    await _queue(session, report, text, config, now)
    if report.beheerder_id is not None:  # a public participant of an operation is not told (only its messages)
        emit(session, "feedback", {"report_id": report.id, "case_number": report.case_number, "kind": kind,
                                   "text": row.text}, audience=beheerder_audience(report.beheerder_id))
    return row
