"""The one intake path: every channel (REST, portal, WhatsApp, partner apps) ends in submit_report()."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core.database import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound
from app.events.service import emit
from app.intake.models import QuarantinedMessage, Report, ReportPhoto
from app.intake.photos import SanitisedPhoto, delete_photo, store_photo
from app.intake.schemas import (
    AMSTERDAM,
    FeedbackOut,
    LocationOut,
    PhotoOut,
    ReportIn,
    ReportOut,
    normalise_text,
)
from app.registry.models import Beheerder, Gemeente, Group, Wijk, beheerder_groups


class TriageHook(Protocol):
    """Fills a new report's suggestion (triage, urgency, advice) before it is committed."""

    async def __call__(self, session: AsyncSession, report: Report) -> None: ...


@dataclass(frozen=True)
class IntakeRequest:
    beheerder_id: int
    channel: str
    body: ReportIn
    request_hash: str
    idempotency_key: str | None = None
    photos: Sequence[SanitisedPhoto] = ()
    pending_media_ids: Sequence[str] = ()
    location_source: str = "reporter"
    forwarded: bool = False


@dataclass
class IntakeResult:
    report: Report
    created: bool
    stored_files: list[str] = field(default_factory=list)


def request_hash(body: ReportIn, photo_digests: Sequence[str] = ()) -> str:
    """Identifies 'the same request' for idempotency: the validated body plus the photos' bytes."""
    canonical = json.dumps({"body": body.model_dump(mode="json"), "photos": list(photo_digests)},
                           sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def submit_report(session: AsyncSession, photo_dir: Path, request: IntakeRequest,
                        triage: TriageHook | None = None) -> IntakeResult:
    """Validates against the registry, stores photos, numbers, triages and commits the report with its
    event; the same idempotency key with the same body gives back the first report instead."""
    if request.idempotency_key:
        existing = await _find_by_key(session, request.beheerder_id, request.idempotency_key)
        if existing is not None:
            return IntakeResult(_same_request_or_conflict(existing, request), created=False)
    group = await _reporting_group(session, request.beheerder_id, request.body.group_id)
    stored: list[str] = []
    try:
        stored = [store_photo(p.content, photo_dir, p.extension) for p in request.photos]
        report = await _insert_report(session, request, group, stored, triage)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        _delete_files(photo_dir, stored)
        if request.idempotency_key is None:
            raise
        return await _after_duplicate_insert(session, request.idempotency_key, request)
    except BaseException:
        await session.rollback()
        _delete_files(photo_dir, stored)
        raise
    return IntakeResult(report, created=True, stored_files=stored)


async def _after_duplicate_insert(session: AsyncSession, key: str, request: IntakeRequest) -> IntakeResult:
    """Two identical requests raced; the other one won. Answer as if we had come second."""
    existing = await _find_by_key(session, request.beheerder_id, key)
    if existing is None:
        raise Conflict("De melding kon niet worden opgeslagen; probeer het opnieuw.", code="retry")
    return IntakeResult(_same_request_or_conflict(existing, request), created=False)


def _same_request_or_conflict(existing: Report, request: IntakeRequest) -> Report:
    if existing.request_hash != request.request_hash:
        raise Conflict("Deze Idempotency-Key is al gebruikt voor een andere melding.",
                       field="Idempotency-Key", code="idempotency_mismatch")
    return existing


def _delete_files(photo_dir: Path, names: list[str]) -> None:
    for name in names:
        delete_photo(photo_dir, name)


async def _find_by_key(session: AsyncSession, beheerder_id: int, key: str) -> Report | None:
    return await session.scalar(
        select(Report).where(Report.beheerder_id == beheerder_id, Report.idempotency_key == key)
        .options(selectinload(Report.photos))
    )


@dataclass(frozen=True)
class ReportingGroup:
    id: int
    name: str
    wijk_code: str
    region_id: int | None


_ACTIVE_GROUPS = (
    select(Group.id, Group.name, Wijk.code, Gemeente.region_id)
    .join(beheerder_groups, beheerder_groups.c.group_id == Group.id)
    .join(Beheerder, Beheerder.id == beheerder_groups.c.beheerder_id)
    .join(Wijk, Wijk.id == Group.wijk_id).join(Gemeente, Gemeente.id == Wijk.gemeente_id)
    .where(Beheerder.id == bindparam("beheerder_id"), Beheerder.active, Group.active).order_by(Group.id).limit(2)
)  # built once: on the hot path, building a statement costs more than running it
_ACTIVE_GROUP_NAMED = _ACTIVE_GROUPS.where(Group.id == bindparam("group_id"))


async def _reporting_group(session: AsyncSession, beheerder_id: int, group_id: int | None) -> ReportingGroup:
    """The group the report comes from: the one named, else the beheerder's only active group."""
    query, params = (_ACTIVE_GROUPS, {"beheerder_id": beheerder_id}) if group_id is None else \
        (_ACTIVE_GROUP_NAMED, {"beheerder_id": beheerder_id, "group_id": group_id})
    groups = [ReportingGroup(*row) for row in (await session.execute(query, params)).all()]
    if len(groups) == 1:
        return groups[0]
    if group_id is not None:
        raise InvalidInput(f"Groep {group_id} is niet een van uw groepen.", field="group_id", code="unknown_group")
    if not groups:
        raise InvalidInput("U beheert (nog) geen actieve groep; vraag de beheerder van de meldkamer.",
                           field="group_id", code="no_group")
    raise InvalidInput("U beheert meerdere groepen: geef group_id mee.", field="group_id",
                       code="group_required")


# Plain SQL that SQLite (3.35+) and PostgreSQL both speak: SQLAlchemy does not cache the compiled form of its
# dialect-specific ON CONFLICT constructs, and compiling costs several times the statement itself.
_NEXT_CASE_NUMBER = text(
    "INSERT INTO case_counters (year, last) VALUES (:year, 1) "
    "ON CONFLICT (year) DO UPDATE SET last = case_counters.last + 1 RETURNING last"
)


async def next_case_number(session: AsyncSession, received_at: datetime) -> str:
    """MK-<year>-<n>, counting per year in Amsterdam time; the upsert row-locks the year's counter."""
    year = received_at.astimezone(AMSTERDAM).year
    number = (await session.execute(_NEXT_CASE_NUMBER, {"year": year})).scalar_one()
    return f"MK-{year}-{number:06d}"


async def _insert_report(session: AsyncSession, request: IntakeRequest, group: ReportingGroup, stored: list[str],
                         triage: TriageHook | None) -> Report:
    body, received_at = request.body, utcnow()
    location = body.location
    report = Report(
        case_number=await next_case_number(session, received_at),
        beheerder_id=request.beheerder_id, group_id=group.id, source_wijk_code=group.wijk_code,
        region_id=group.region_id, channel=request.channel,
        idempotency_key=request.idempotency_key, request_hash=request.request_hash,
        text=normalise_text(body.text), text_original=body.text, observed_at=body.observed_at,
        received_at=received_at, called_112=body.called_112, forwarded=request.forwarded,
        street=location.street if location else None, house_number=location.house_number if location else None,
        place=location.place if location else None, lat=location.lat if location else None,
        lon=location.lon if location else None,
        location_source=request.location_source if location else None, advice=[],
    )
    report.photos = [_stored_photo_row(photo, name) for photo, name in zip(request.photos, stored, strict=True)]
    report.photos += [ReportPhoto(status="pending", media_id=media_id, next_attempt_at=received_at)
                      for media_id in request.pending_media_ids]
    session.add(report)
    if triage is not None:
        await triage(session, report)  # before the insert: the suggestion goes in with the row
    await session.flush()
    emit(session, "report.created", report_event_data(report, group), region_id=report.region_id,
         wijk_code=report.source_wijk_code)
    return report


def _stored_photo_row(photo: SanitisedPhoto, name: str) -> ReportPhoto:
    lat, lon = photo.gps if photo.gps else (None, None)
    return ReportPhoto(status="stored", stored_name=name, media_type=photo.media_type, width=photo.width,
                       height=photo.height, size_bytes=len(photo.content), gps_lat=lat, gps_lon=lon)


def report_event_data(report: Report, group: ReportingGroup) -> dict[str, Any]:
    return {
        "report_id": report.id, "case_number": report.case_number, "group_id": group.id,
        "group_name": group.name, "wijkcode": report.source_wijk_code, "channel": report.channel,
        "text": report.text[:500], "urgency": report.urgency, "called_112": report.called_112,
        "photo_count": len(report.photos), "received_at": report.received_at.isoformat(),
        "triage": report.triage,
    }


async def get_report(session: AsyncSession, report_id: int) -> Report:
    report = await session.scalar(
        select(Report).where(Report.id == report_id).options(selectinload(Report.photos))
        .execution_options(populate_existing=True)
    )
    if report is None:
        raise NotFound("De melding")
    return report


async def get_own_report(session: AsyncSession, beheerder_id: int, report_id: int) -> Report:
    report = await get_report(session, report_id)
    if report.beheerder_id != beheerder_id:
        raise NotFound("De melding")
    return report


async def list_own_reports(session: AsyncSession, beheerder_id: int, *, limit: int,
                           offset: int) -> tuple[list[Report], int]:
    query = select(Report).where(Report.beheerder_id == beheerder_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.options(selectinload(Report.photos)).order_by(Report.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def report_out(report: Report, feedback: Sequence[FeedbackOut] = ()) -> ReportOut:
    has_location = any(v is not None for v in (report.street, report.place, report.lat))
    return ReportOut(
        id=report.id, case_number=report.case_number, status=report.status, channel=report.channel,
        received_at=report.received_at, observed_at=report.observed_at, group_id=report.group_id,
        wijkcode=report.source_wijk_code, text=report.text, called_112=report.called_112,
        location=LocationOut(street=report.street, house_number=report.house_number, place=report.place,
                             lat=report.lat, lon=report.lon, source=report.location_source)
        if has_location else None,
        photos=[PhotoOut(id=p.id, status=p.status, media_type=p.media_type, width=p.width, height=p.height)
                for p in report.photos],
        advice=list(report.advice or []), feedback=list(feedback),
    )


async def photo_for_staff(session: AsyncSession, report_id: int, photo_id: int) -> ReportPhoto:
    photo = await session.scalar(
        select(ReportPhoto).where(ReportPhoto.id == photo_id, ReportPhoto.report_id == report_id)
    )
    if photo is None or photo.status != "stored" or not photo.stored_name:
        raise NotFound("De foto")
    return photo


async def quarantine(session: AsyncSession, *, channel: str, external_id: str, sender: str | None,
                     sender_name: str | None, kind: str, text: str | None, reason: str) -> bool:
    """Keeps a message we cannot accept for admins to look at; False when it was already there."""
    if await session.scalar(select(QuarantinedMessage.id).where(QuarantinedMessage.external_id == external_id)):
        return False
    session.add(QuarantinedMessage(channel=channel, external_id=external_id, sender=sender,
                                   sender_name=sender_name, kind=kind, text=text, reason=reason))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return False
    return True


async def list_quarantine(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[QuarantinedMessage], int]:
    total = await session.scalar(select(func.count(QuarantinedMessage.id))) or 0
    rows = await session.scalars(
        select(QuarantinedMessage).order_by(QuarantinedMessage.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


async def beheerder_by_phone(session: AsyncSession, phone: str) -> Beheerder | None:
    return await session.scalar(
        select(Beheerder).where(Beheerder.phone == phone, Beheerder.active)
        .options(selectinload(Beheerder.groups))
    )


async def latest_report_within(session: AsyncSession, beheerder_id: int, channel: str,
                               since: datetime) -> Report | None:
    return await session.scalar(
        select(Report)
        .where(Report.beheerder_id == beheerder_id, Report.channel == channel, Report.received_at >= since)
        .options(selectinload(Report.photos)).order_by(Report.id.desc()).limit(1)
    )


async def region_of_gemeente(session: AsyncSession, gemeente_id: int) -> int | None:
    return await session.scalar(select(Gemeente.region_id).where(Gemeente.id == gemeente_id))


async def mark_photo_stored(session: AsyncSession, photo_id: int, photo: SanitisedPhoto, name: str) -> None:
    lat, lon = photo.gps if photo.gps else (None, None)
    await session.execute(
        update(ReportPhoto).where(ReportPhoto.id == photo_id).values(
            status="stored", stored_name=name, media_type=photo.media_type, width=photo.width,
            height=photo.height, size_bytes=len(photo.content), gps_lat=lat, gps_lon=lon, last_error=None,
            next_attempt_at=None)
    )
