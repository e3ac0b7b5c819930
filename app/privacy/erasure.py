"""Erasing a beheerder on request: the identity goes (name, number, WhatsApp user id, e-mail, tokens, the
number in status callbacks and quarantine), the rows that figures count stay (reports with their group, wijk
and labels; deliveries with their outcome), and the reports' personal text and photos are purged at once
(incidents an operator keeps under the Wet politiegegevens excepted)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import service as audit
from app.auth.models import ApiToken
from app.broadcast.models import WhatsAppWindow
from app.core.database import utcnow
from app.core.errors import NotFound
from app.core.principal import Principal
from app.core.settings import Settings
from app.events.models import Event
from app.events.service import emit_access_revoked
from app.events.visibility import beheerder_audience
from app.intake.models import QuarantinedMessage, WhatsAppStatus
from app.privacy.retention import Cutoffs, Purge, scrubbed
from app.privacy.schemas import EraseOut
from app.registry.models import Beheerder


async def erase_beheerder(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, actor: Principal, *,
                          phone: str | None = None, beheerder_id: int | None = None) -> EraseOut:
    """Erases the beheerder with this number (or id: to finish an erasure that was interrupted after its
    identity was gone); audited. Running it again changes nothing more."""
    async with sessionmaker() as session:
        beheerder = await _find(session, phone, beheerder_id)
        identity = await _remove_identity(session, beheerder)
        events = await _scrub_own_events(session, beheerder.id)
        audit.record(session, actor, "beheerder.erase", target_type="beheerder", target_id=beheerder.id,
                     **identity, events_scrubbed=events)
        await session.commit()
    now = utcnow()
    purged = await Purge(sessionmaker, settings, now, actor=actor, source="erase", beheerder_id=beheerder.id,
                         cutoffs=Cutoffs.everything_until(now)).reports_only()
    return EraseOut(beheerder_id=beheerder.id, events_scrubbed=events,
                    report_texts_purged=purged.counts["report_texts"], photos_removed=purged.counts["photos"],
                    **identity)


async def _find(session: AsyncSession, phone: str | None, beheerder_id: int | None) -> Beheerder:
    query = select(Beheerder).where(Beheerder.phone == phone) if phone else \
        select(Beheerder).where(Beheerder.id == beheerder_id)
    beheerder = await session.scalar(query)
    if beheerder is None:
        raise NotFound("De beheerder")
    return beheerder


async def _remove_identity(session: AsyncSession, beheerder: Beheerder) -> dict[str, Any]:
    phone = beheerder.phone
    if beheerder.active:
        emit_access_revoked(session, principal=("beheerder", beheerder.id))
    beheerder.name = f"Verwijderde beheerder {beheerder.id}"
    beheerder.phone = beheerder.whatsapp_user_id = beheerder.email = None
    beheerder.channels = []
    beheerder.active = False
    tokens = await _count(session, delete(ApiToken).where(ApiToken.beheerder_id == beheerder.id))
    await session.execute(delete(WhatsAppWindow).where(WhatsAppWindow.beheerder_id == beheerder.id))
    statuses = quarantined = 0
    if phone is not None:
        statuses = await _count(session, update(WhatsAppStatus).where(WhatsAppStatus.recipient == phone)
                                .values(recipient=None))
        quarantined = await _count(session, delete(QuarantinedMessage).where(QuarantinedMessage.sender == phone))
    return {"tokens_removed": tokens, "phone_numbers_removed": statuses, "quarantined_removed": quarantined}


async def _count(session: AsyncSession, statement: Any) -> int:
    outcome: Any = await session.execute(statement)
    return int(outcome.rowcount or 0)


async def _scrub_own_events(session: AsyncSession, beheerder_id: int) -> int:
    """The beheerder's own stream (feedback texts, alerts) loses its personal keys now; the staff's events
    follow the ordinary retention."""
    rows = (await session.execute(select(Event.id, Event.data)
                                  .where(Event.audience == beheerder_audience(beheerder_id)))).all()
    changed = [(row.id, scrubbed(row.data)) for row in rows if "purged" not in (row.data or {})]
    for event_id, data in changed:
        await session.execute(update(Event).where(Event.id == event_id).values(data=data))
    return len(changed)
