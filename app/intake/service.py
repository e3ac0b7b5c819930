"""The one intake path: every channel (REST, portal, WhatsApp, partner apps) ends in submit_report()."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Row, bindparam, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import selectinload

from app.core.database import padded, utcnow
from app.core.errors import Conflict, InvalidInput, NotFound, ProblemError
from app.events.service import NewEvent
from app.intake.models import QuarantinedMessage, Report, ReportFeedback, ReportPhoto
from app.intake.photos import SanitisedPhoto
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
from app.triage.knowledge import KnowledgeBase

Announce = Callable[[], Awaitable[list[NewEvent]]]


class IntakeSteps(Protocol):
    """What happens to a new report between validation and commit, beyond the intake itself: triage and its
    incident (app.flows.report_intake). The knowledge base is read once per batch; `triage_and_place` runs
    before a batch's reports are inserted and gives back, for each, what to announce once it and its photos
    are written."""

    async def knowledge_base(self, session: AsyncSession) -> KnowledgeBase: ...

    async def triage_and_place(self, connection: AsyncConnection, reports: Sequence[Report],
                               kb: KnowledgeBase) -> list[Announce]: ...


@dataclass(frozen=True)
class PublicReporter:
    """A member of the public who joined an open operation (evenement, vermissing) by its keyword: no beheerder
    and no group; the report is the operation's, in its wijk when it has one (app.operations.public)."""

    participant_id: int
    operation_id: int
    wijk_code: str | None
    region_id: int | None


@dataclass(frozen=True)
class IntakeRequest:
    beheerder_id: int | None  # None for a public participant (`public`)
    channel: str
    body: ReportIn
    request_hash: str
    idempotency_key: str | None = None
    photos: Sequence[SanitisedPhoto] = ()
    pending_media_ids: Sequence[str] = ()
    # The photos' files, written by the writer before its transaction; None where the disk refused one.
    stored_names: Sequence[str | None] = ()
    location_source: str = "reporter"
    forwarded: bool = False
    # WhatsApp: a beheerder with several groups cannot name one in the message; the report goes in with its
    # group to be chosen (by their numeric reply or an operator) instead of being refused.
    group_may_wait: bool = False
    received_at: datetime = field(default_factory=utcnow)
    public: PublicReporter | None = None


@dataclass
class IntakeResult:
    report: Report
    created: bool


class ReportWriter(Protocol):
    """Writes an IntakeRequest and answers once its report is committed (app.intake.writer.IntakeWriter)."""

    async def write(self, request: IntakeRequest) -> Written: ...


@dataclass(frozen=True)
class Written:
    report_id: int
    report: Report | None  # the new report as written (a detached copy); None when it already existed

    @property
    def created(self) -> bool:
        return self.report is not None


def request_hash(body: ReportIn, photo_digests: Sequence[str] = ()) -> str:
    """Identifies 'the same request' for idempotency: the validated body plus the photos' bytes."""
    canonical = json.dumps({"body": body.model_dump(mode="json"), "photos": list(photo_digests)},
                           sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def submit_report(session: AsyncSession, writer: ReportWriter, request: IntakeRequest) -> IntakeResult:
    """The one intake path. The report is written by the process's writer in a transaction of its own, shared
    with the reports that arrive at the same time (app.intake.writer), and is committed when this returns.
    The same idempotency key with the same body gives back the first report instead.

    The caller's session must hold no changes: it is closed first, because on SQLite the writer needs the one
    write connection, which a session keeps from its first statement until it ends."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("submit_report() needs a session without pending changes")
    await session.close()
    written = await writer.write(request)
    if written.report is not None:
        return IntakeResult(written.report, created=True)
    return IntakeResult(await get_report(session, written.report_id), created=False)


@dataclass(frozen=True)
class ReportingGroup:
    """The group a report comes from, or (id None) the groups it may come from, while that is still open."""

    id: int | None
    name: str
    wijk_code: str | None
    region_id: int | None
    choices: tuple[tuple[int, str], ...] = ()  # (group id, its wijk), while the group is to be chosen

    @classmethod
    def pending(cls, groups: Sequence[ReportingGroup]) -> ReportingGroup:
        """One of these groups, not yet known: wijk and region only when all of them share one."""
        wijken, regions = {g.wijk_code for g in groups}, {g.region_id for g in groups}
        return cls(None, "", wijken.pop() if len(wijken) == 1 else None, regions.pop() if len(regions) == 1 else None,
                   tuple((g.id, g.wijk_code) for g in groups if g.id is not None and g.wijk_code is not None))


_ACTIVE_GROUPS_OF = (
    select(Beheerder.id.label("beheerder_id"), Group.id, Group.name, Wijk.code, Gemeente.region_id)
    .join(beheerder_groups, beheerder_groups.c.group_id == Group.id)
    .join(Beheerder, Beheerder.id == beheerder_groups.c.beheerder_id)
    .join(Wijk, Wijk.id == Group.wijk_id).join(Gemeente, Gemeente.id == Wijk.gemeente_id)
    .where(Beheerder.id.in_(bindparam("beheerder_ids", expanding=True)), Beheerder.active, Group.active)
    .order_by(Group.name, Group.id)
)  # built once: on the hot path, building a statement costs more than running it
# The reports already written under a batch's idempotency keys, per kind of sender: every (sender, key) pair of
# the two IN-lists, read along the unique (sender, key) index; the batch's own pairs are picked out in Python.
_REPORTS_BY_KEYS = {
    owner: select(column.label("owner"), Report.idempotency_key, Report.id, Report.request_hash).where(
        column.in_(bindparam("owners", expanding=True)), Report.idempotency_key.in_(bindparam("keys", expanding=True)))
    for owner, column in (("beheerder", Report.beheerder_id), ("public", Report.public_participant_id))
}


async def check_requests(connection: AsyncConnection,
                         requests: Sequence[IntakeRequest]) -> list[ReportingGroup | Written | ProblemError]:
    """For each request, what can be decided before writing: the earlier report with its idempotency key (as
    Written), or else the group the report comes from, or else the request's problem (unknown group, a key
    reused for another body). Writes nothing; the groups of all the batch's beheerders are read at once."""
    beheerder_ids = sorted({r.beheerder_id for r in requests if r.beheerder_id is not None})
    rows = (await connection.execute(_ACTIVE_GROUPS_OF, {"beheerder_ids": beheerder_ids})).all() \
        if beheerder_ids else []
    groups_of: dict[int, list[ReportingGroup]] = {}
    for beheerder_id, *group in rows:
        groups_of.setdefault(beheerder_id, []).append(ReportingGroup(*group))
    earlier = await _earlier_reports(connection, requests)
    outcomes: list[ReportingGroup | Written | ProblemError] = []
    for request in requests:
        try:
            outcomes.append(_earlier_report(request, earlier) or _reporting_group(request, groups_of))
        except ProblemError as problem:
            outcomes.append(problem)
    return outcomes


_KeyOwner = tuple[str, int, str]  # (kind of sender, its id, idempotency key)


def _key_owner(request: IntakeRequest) -> _KeyOwner | None:
    """Whose key it is; None without a key (or without a sender, under whom nothing can have been written)."""
    if not request.idempotency_key:
        return None
    if request.public is not None:
        return "public", request.public.participant_id, request.idempotency_key
    if request.beheerder_id is None:
        return None
    return "beheerder", request.beheerder_id, request.idempotency_key


async def _earlier_reports(connection: AsyncConnection, requests: Sequence[IntakeRequest]) -> dict[_KeyOwner, Row[Any]]:
    """The reports already written under the batch's idempotency keys: one statement per kind of sender that
    sent a key (not one per keyed report: each is a round trip on PostgreSQL)."""
    wanted = [owner for owner in map(_key_owner, requests) if owner is not None]
    found: dict[_KeyOwner, Row[Any]] = {}
    for kind, statement in _REPORTS_BY_KEYS.items():
        pairs = [(sender, key) for owner_kind, sender, key in wanted if owner_kind == kind]
        if not pairs:
            continue
        params = {"owners": padded(sorted({sender for sender, _ in pairs})),
                  "keys": padded(sorted({key for _, key in pairs}))}
        for row in await connection.execute(statement, params):
            found[(kind, row.owner, row.idempotency_key)] = row
    return found


def _earlier_report(request: IntakeRequest, earlier: dict[_KeyOwner, Row[Any]]) -> Written | None:
    owner = _key_owner(request)
    existing = earlier.get(owner) if owner is not None else None
    if existing is None:
        return None
    if existing.request_hash != request.request_hash:
        raise Conflict("Deze Idempotency-Key is al gebruikt voor een andere melding.",
                       field="Idempotency-Key", code="idempotency_mismatch")
    return Written(existing.id, None)


def _reporting_group(request: IntakeRequest, groups_of: dict[int, list[ReportingGroup]]) -> ReportingGroup:
    """The group the report comes from, among the beheerder's active groups (by name): the one named, else
    their only one, else (when the channel allows it) one of them, to be chosen later. A public participant's
    report has no group: it belongs to the operation's area."""
    if request.public is not None:
        return ReportingGroup(None, "", request.public.wijk_code, request.public.region_id)
    assert request.beheerder_id is not None, "a report comes from a beheerder or a public participant"
    groups = groups_of.get(request.beheerder_id, [])
    group_id = request.body.group_id
    if group_id is not None:
        named = [group for group in groups if group.id == group_id]
        if named:
            return named[0]
        raise InvalidInput(f"Groep {group_id} is niet een van uw groepen.", field="group_id", code="unknown_group")
    if len(groups) == 1:
        return groups[0]
    if not groups:
        raise InvalidInput("U beheert (nog) geen actieve groep; vraag de beheerder van de meldkamer.",
                           field="group_id", code="no_group")
    if request.group_may_wait:
        return ReportingGroup.pending(groups)
    raise InvalidInput("U beheert meerdere groepen: geef group_id mee.", field="group_id",
                       code="group_required")


# Plain SQL that SQLite (3.35+) and PostgreSQL both speak: SQLAlchemy does not cache the compiled form of its
# dialect-specific ON CONFLICT constructs, and compiling costs several times the statement itself.
_RESERVE_CASE_NUMBERS = text(
    "INSERT INTO case_counters (year, last) VALUES (:year, :count) "
    "ON CONFLICT (year) DO UPDATE SET last = case_counters.last + :count RETURNING last"
)


async def reserve_case_numbers(connection: AsyncConnection, received: Sequence[datetime]) -> list[str]:
    """MK-<year>-<n> for each report about to be inserted, in order, counting per year in Amsterdam time.
    The upsert row-locks the year's counter until commit; a rollback gives the numbers back, so there are
    no gaps."""
    years = [at.astimezone(AMSTERDAM).year for at in received]
    next_of: dict[int, int] = {}
    for year in sorted(set(years)):
        count = years.count(year)
        last = (await connection.execute(_RESERVE_CASE_NUMBERS, {"year": year, "count": count})).scalar_one()
        next_of[year] = last - count + 1
    numbers = []
    for year in years:
        numbers.append(f"MK-{year}-{next_of[year]:06d}")
        next_of[year] += 1
    return numbers


_INSERT_REPORTS = insert(Report).returning(Report.id, sort_by_parameter_order=True)
_INSERT_PHOTOS = insert(ReportPhoto).returning(ReportPhoto.id, sort_by_parameter_order=True)
_REPORT_COLUMNS = tuple(column.key for column in Report.__table__.columns if column.key != "id")
_PHOTO_COLUMNS = tuple(column.key for column in ReportPhoto.__table__.columns if column.key != "id")


async def insert_reports(connection: AsyncConnection, accepted: Sequence[tuple[IntakeRequest, ReportingGroup]],
                         steps: IntakeSteps | None, kb: KnowledgeBase | None) -> list[tuple[Report, list[NewEvent]]]:
    """Triages, places and inserts a batch's reports (their photos' files are already written) with Core
    statements, numbered in order, and gives back each report as written with its events: its incident's,
    then report.created. The case numbers are taken just before the insert: the year's counter row stays
    locked (PostgreSQL) from there to the commit, not while the batch is placed."""
    if not accepted:
        return []
    reports = [_new_report(request, group, list(request.stored_names)) for request, group in accepted]
    announces: Sequence[Announce | None] = await steps.triage_and_place(connection, reports, kb) \
        if steps is not None and kb is not None else [None] * len(reports)
    for report, (_, group) in zip(reports, accepted, strict=True):
        if report.group_pending:
            report.group_choices = _choices_in_order(group.choices, report.wijk_code)
    for report, case_number in zip(reports, await reserve_case_numbers(connection, [r.received_at for r in reports]),
                                   strict=True):
        report.case_number = case_number
    await _insert_rows(connection, reports)
    written = []
    for report, (_, group), announce in zip(reports, accepted, announces, strict=True):
        events = await announce() if announce is not None else []
        events.append(NewEvent("report.created", report_event_data(report, group), region_id=report.region_id,
                               wijk_code=report.source_wijk_code))
        written.append((report, events))
    return written


async def _insert_rows(connection: AsyncConnection, reports: Sequence[Report]) -> None:
    """The reports in one multi-row INSERT ... RETURNING, then all their photos in another."""
    result = await connection.execute(_INSERT_REPORTS, [_values(report, _REPORT_COLUMNS) for report in reports])
    for report, report_id in zip(reports, result.scalars().all(), strict=True):
        report.id = report_id
        for photo_row in report.photos:
            photo_row.report_id = report_id
    photos = [photo_row for report in reports for photo_row in report.photos]
    if photos:
        result = await connection.execute(_INSERT_PHOTOS, [_values(photo_row, _PHOTO_COLUMNS) for photo_row in photos])
        for photo_row, photo_id in zip(photos, result.scalars().all(), strict=True):
            photo_row.id = photo_id


def _choices_in_order(choices: Sequence[tuple[int, str]], wijk_code: str | None) -> list[int]:
    """The groups to offer, those in the wijk the text names first (a superbeheerder may run ninety)."""
    return [group_id for group_id, wijk in choices if wijk == wijk_code] + \
        [group_id for group_id, wijk in choices if wijk != wijk_code]


def _values(row: Report | ReportPhoto, columns: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in columns}


def _new_report(request: IntakeRequest, group: ReportingGroup, stored: list[str | None]) -> Report:
    """The report as it will be inserted (its case number comes last); every column that has a default is set
    here, since the row is written with Core from these attributes."""
    body, location, received_at, public = request.body, request.body.location, request.received_at, request.public
    report = Report(
        case_number="", beheerder_id=request.beheerder_id,
        public_participant_id=public.participant_id if public else None,
        operation_id=public.operation_id if public else None, group_id=group.id,
        group_pending=group.id is None and public is None,
        group_choices=[group_id for group_id, _ in group.choices] or None,
        source_wijk_code=group.wijk_code, region_id=group.region_id, channel=request.channel,
        idempotency_key=request.idempotency_key, request_hash=request.request_hash,
        text=normalise_text(body.text), text_original=body.text, observed_at=body.observed_at,
        received_at=received_at, called_112=body.called_112, forwarded=request.forwarded,
        street=location.street if location else None, house_number=location.house_number if location else None,
        place=location.place if location else None, lat=location.lat if location else None,
        lon=location.lon if location else None,
        location_source=request.location_source if location else None, status="ontvangen", advice=[],
        appearance_only=False,
    )
    report.photos = [_stored_photo_row(photo, name, received_at)
                     for photo, name in zip(request.photos, stored, strict=True)]
    report.photos += [ReportPhoto(status="pending", media_id=media_id, next_attempt_at=received_at, attempts=0,
                                  created_at=received_at) for media_id in request.pending_media_ids]
    return report


PHOTO_NOT_STORED = "opslag mislukt (schijf vol of niet schrijfbaar)"


def _stored_photo_row(photo: SanitisedPhoto, name: str | None, received_at: datetime) -> ReportPhoto:
    """The photo's row; one the disk refused is kept as failed, so the operator sees a photo is missing."""
    lat, lon = photo.gps if photo.gps else (None, None)
    if name is None:
        return ReportPhoto(status="failed", media_type=photo.media_type, width=photo.width, height=photo.height,
                           attempts=1, last_error=PHOTO_NOT_STORED, created_at=received_at)
    return ReportPhoto(status="stored", stored_name=name, media_type=photo.media_type, width=photo.width,
                       height=photo.height, size_bytes=len(photo.content), gps_lat=lat, gps_lon=lon, attempts=0,
                       created_at=received_at)


def report_event_data(report: Report, group: ReportingGroup) -> dict[str, Any]:
    return {
        "report_id": report.id, "case_number": report.case_number, "group_id": group.id,
        "group_name": group.name, "group_pending": report.group_pending, "wijkcode": report.source_wijk_code,
        "channel": report.channel, "reporter": "beheerder" if report.beheerder_id is not None else "publiek",
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
        group_pending=report.group_pending, wijkcode=report.source_wijk_code, text=report.text,
        called_112=report.called_112,
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
    """Keeps a message we cannot accept for admins to look at; False when it was already there. What comes
    from outside is cut to its column, so that keeping it can never fail."""
    external_id = external_id[:200]
    if await session.scalar(select(QuarantinedMessage.id).where(QuarantinedMessage.external_id == external_id)):
        return False
    session.add(QuarantinedMessage(channel=channel, external_id=external_id, sender=sender[:64] if sender else None,
                                   sender_name=sender_name[:200] if sender_name else None, kind=kind[:16],
                                   text=text, reason=reason[:64]))
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


async def beheerder_by_whatsapp_user(session: AsyncSession, user_id: str) -> Beheerder | None:
    return await session.scalar(
        select(Beheerder).where(Beheerder.whatsapp_user_id == user_id, Beheerder.active)
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


async def feedback_for_reports(session: AsyncSession, report_ids: Sequence[int]) -> dict[int, list[FeedbackOut]]:
    """The feedback texts per report, oldest first, for the beheerder's report views."""
    out: dict[int, list[FeedbackOut]] = {report_id: [] for report_id in report_ids}
    if report_ids:
        rows = (await session.scalars(select(ReportFeedback).where(ReportFeedback.report_id.in_(report_ids))
                                      .order_by(ReportFeedback.at, ReportFeedback.id))).all()
        for row in rows:
            out[row.report_id].append(FeedbackOut(at=row.at, text=row.text))
    return out
