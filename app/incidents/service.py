"""Incidents and the operators' queue: grouping reports, claims, overrides, follow-up and closing.

The engine suggests; the operator decides. Every change here is audited and emitted as an event."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import RowMapping, and_, bindparam, case, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.audit import service as audit
from app.auth.models import StaffUser
from app.broadcast.feedback import record_feedback
from app.core.database import padded, utcnow
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.principal import SYSTEM, Principal
from app.core.vocabulary import TIMEZONE, URGENCY
from app.events.service import NewEvent, emit
from app.incidents.grouping import GROUPING_METRES, GROUPING_MINUTES, IncidentCandidate, find_incident, is_noise
from app.incidents.lead import lead_reason_among, lead_reason_of, more_serious
from app.incidents.models import JOINABLE_INCIDENT, Incident
from app.intake.models import Report, ReportPhoto
from app.learning.service import record_decision
from app.registry.models import Group
from app.triage.engine import UNRECOGNISED

URGENCY_RANK = {code: URGENCY.rank(code) for code in URGENCY}  # for SQL CASE expressions
GROUPING_WINDOW = timedelta(minutes=GROUPING_MINUTES)
CLAIM_TTL = timedelta(minutes=10)
LOCAL_TIME = ZoneInfo(TIMEZONE)  # times in messages are the meldkamer's, not UTC


# ---- grouping new reports into incidents ----------------------------------------------------------


def _candidate_of_report(report: Report) -> IncidentCandidate:
    return IncidentCandidate(id=None, received_at=report.received_at, lat=report.point_lat,
                             lon=report.point_lon, wijk=report.wijk_code, category=report.category or "overig",
                             offence=report.offence, urgency=report.urgency or "none")


_METRES_PER_DEGREE = 111_320.0


def _box(report: Report) -> tuple[float, float, float, float] | None:
    """(lat_min, lat_max, lon_min, lon_max) around the report's point, or None without one: `find_incident`
    measures the real distance within it."""
    if report.point_lat is None or report.point_lon is None:
        return None
    dlat = GROUPING_METRES / _METRES_PER_DEGREE
    dlon = dlat / max(0.1, math.cos(math.radians(report.point_lat)))
    return report.point_lat - dlat, report.point_lat + dlat, report.point_lon - dlon, report.point_lon + dlon


def _near(suffix: str, region_known: bool) -> Any:
    """One report's part of the search: its region, recent, and in its wijk or within the grouping distance of
    its point (a box). A parameter left NULL matches nothing, so one condition serves reports with and without
    a wijk or a point."""
    in_box = and_(Incident.lat.between(bindparam(f"lat_min{suffix}"), bindparam(f"lat_max{suffix}")),
                  Incident.lon.between(bindparam(f"lon_min{suffix}"), bindparam(f"lon_max{suffix}")))
    region = Incident.region_id == bindparam(f"region_id{suffix}") if region_known else Incident.region_id.is_(None)
    return and_(region, Incident.last_report_at >= bindparam(f"since{suffix}"),
                or_(Incident.wijk_code == bindparam(f"wijk_code{suffix}"), in_box))


def _joinable_near(*near: Any) -> Any:
    """Open incidents that could take a report meeting one of `near`: whole rows, locked in id order
    (PostgreSQL; SQLite has one writer), since those the batch's reports join are updated next."""
    return (
        select(Incident.__table__)
        .where(text(JOINABLE_INCIDENT), Incident.last_report_at >= bindparam("since"),
               Incident.appearance_only.is_(False), func.coalesce(Incident.category, "overig") != "overig",
               or_(*near))
        .order_by(Incident.id).with_for_update()
    )


def _open_incidents_near(count: int) -> Any:
    """The search for `count` reports with a region, in one statement."""
    return _joinable_near(*(_near(f"_{n}", True) for n in range(count)))


_NO_REGION_NEAR = _joinable_near(_near("_0", False))
_OPEN_INCIDENTS_NEAR: dict[int, Any] = {}  # by padded count: statements are built once, not per batch


def _near_params(report: Report, suffix: str) -> dict[str, Any]:
    box = _box(report) or (None, None, None, None)
    return {f"since{suffix}": report.received_at - GROUPING_WINDOW, f"wijk_code{suffix}": report.wijk_code,
            **{f"{name}{suffix}": value for name, value in zip(("lat_min", "lat_max", "lon_min", "lon_max"), box,
                                                                   strict=True)}}


async def _nearby_open_incidents(connection: AsyncConnection, reports: Sequence[Report]) -> list[Incident]:
    """The open incidents that any of these reports could join, in id order, locked (one statement for the
    reports with a region, one per report without: those are rare)."""
    searching = [r for r in reports if r.wijk_code is not None or _box(r) is not None]
    rows: dict[int, RowMapping] = {}
    with_region = [r for r in searching if r.region_id is not None]
    if with_region:
        batch = padded(with_region)  # a handful of statement sizes, each built and prepared once
        statement = _OPEN_INCIDENTS_NEAR.get(len(batch))
        if statement is None:
            statement = _OPEN_INCIDENTS_NEAR[len(batch)] = _open_incidents_near(len(batch))
        params: dict[str, Any] = {"since": min(r.received_at for r in with_region) - GROUPING_WINDOW}
        for n, report in enumerate(batch):
            params |= _near_params(report, f"_{n}") | {f"region_id_{n}": report.region_id}
        rows |= {row["id"]: row for row in (await connection.execute(statement, params)).mappings()}
    for report in (r for r in searching if r.region_id is None):
        rows |= {row["id"]: row for row in (await connection.execute(
            _NO_REGION_NEAR, {"since": report.received_at - GROUPING_WINDOW} | _near_params(report, "_0"))).mappings()}
    return [Incident(**rows[incident_id]) for incident_id in sorted(rows)]


def _may_join(incident: Incident, report: Report) -> bool:
    """The query's condition for one report, on the incident as the batch has changed it so far."""
    if not (incident.status == "open" and incident.urgency != "none" and not incident.appearance_only
            and (incident.category or "overig") != "overig" and incident.region_id == report.region_id
            and incident.last_report_at >= report.received_at - GROUPING_WINDOW):
        return False
    if report.wijk_code is not None and incident.wijk_code == report.wijk_code:
        return True
    box = _box(report)
    return box is not None and incident.lat is not None and incident.lon is not None \
        and box[0] <= incident.lat <= box[1] and box[2] <= incident.lon <= box[3]


def _candidate_of_incident(incident: Incident) -> IncidentCandidate:
    return IncidentCandidate(id=id(incident), received_at=incident.last_report_at, lat=incident.lat,
                             lon=incident.lon, wijk=incident.wijk_code, category=incident.category or "overig",
                             offence=incident.offence, urgency=incident.urgency)


# The intake writes new reports with Core statements (see app.intake.writer); these are built once.
_INSERT_INCIDENTS = insert(Incident).returning(Incident.id, sort_by_parameter_order=True)
_SUMMARY_FIELDS = ("report_count", "group_ids", "appearance_only", "first_report_at", "last_report_at", "urgency",
                   "category", "offence", "wijk_code", "lat", "lon", "unrecognised", "lead_reason")
_NEW_FIELDS = (*_SUMMARY_FIELDS, "region_id", "status", "summary", "overridden")
_UPDATE_SUMMARY = (update(Incident).where(Incident.id == bindparam("incident_id"))
                   .values({name: bindparam(f"new_{name}") for name in _SUMMARY_FIELDS}))
_INCIDENT_COLUMNS = tuple(column.key for column in Incident.__table__.columns)


def _new_incident(report: Report) -> Incident:
    return Incident(region_id=report.region_id, status="open", first_report_at=report.received_at,
                    last_report_at=report.received_at, urgency=report.urgency or "none", category=report.category,
                    offence=report.offence, wijk_code=report.wijk_code, lat=report.point_lat, lon=report.point_lon,
                    report_count=0, group_ids=[], summary=report.text[:300], overridden=[], appearance_only=False,
                    unrecognised=False)


@dataclass
class Placement:
    """Where one report of a batch went: its incident as it was just after the report joined (a detached
    copy, for the report's event) and whether the report opened it."""

    incident: Incident
    created: bool


def _choose(report: Report, open_incidents: list[Incident]) -> Incident | None:
    candidate = _candidate_of_report(report)
    # A report about looks or origin only never joins (and so colours) an incident about real behaviour.
    if report.appearance_only or is_noise(candidate):
        return None
    nearby = [incident for incident in open_incidents if _may_join(incident, report)]
    match = find_incident(candidate, [_candidate_of_incident(incident) for incident in nearby]) if nearby else None
    return next((incident for incident in nearby if id(incident) == match), None)


async def place_in_incidents(connection: AsyncConnection, reports: Sequence[Report]) -> list[Placement]:
    """Joins each new (triaged, not yet inserted) report, in order, to an open incident close in space, time and
    content, or opens a new one, and sets `report.incident_id`: as if they came one by one (a report may join
    the incident an earlier one of the batch opened), with one statement to find the incidents, one to insert
    the new ones and one to update the others. Runs in the intake's transaction with Core statements."""
    open_incidents = await _nearby_open_incidents(connection, reports)
    existing = len(open_incidents)
    joined: list[Incident] = []
    placements: list[Placement] = []
    for report in reports:
        incident = _choose(report, open_incidents)
        created = incident is None
        if incident is None:
            incident = _new_incident(report)
            open_incidents.append(incident)
        _absorb(incident, report)
        joined.append(incident)
        placements.append(Placement(_copy(incident), created))
    touched = {id(incident) for incident in joined}
    await _write_incidents(connection, [i for i in open_incidents[:existing] if id(i) in touched],
                           open_incidents[existing:])
    for report, incident, placement in zip(reports, joined, placements, strict=True):
        report.incident_id = placement.incident.id = incident.id
    return placements


def _copy(incident: Incident) -> Incident:
    return Incident(**{name: getattr(incident, name) for name in _INCIDENT_COLUMNS})


async def _write_incidents(connection: AsyncConnection, updated: list[Incident], new: list[Incident]) -> None:
    if new:
        result = await connection.execute(_INSERT_INCIDENTS, [{name: getattr(incident, name) for name in _NEW_FIELDS}
                                                              for incident in new])
        for incident, incident_id in zip(new, result.scalars().all(), strict=True):
            incident.id = incident_id
    if updated:
        await connection.execute(_UPDATE_SUMMARY, [{"incident_id": incident.id, **{
            f"new_{name}": getattr(incident, name) for name in _SUMMARY_FIELDS}} for incident in updated])


async def placement_event(connection: AsyncConnection, placement: Placement, report: Report,
                          first_photos: dict[int, int]) -> NewEvent:
    """incident.created or incident.updated for a report just placed (call after its photos are inserted, in the
    batch's order). `first_photos` carries the card photo an earlier report of the batch gave an incident."""
    incident = placement.incident
    earlier = first_photos.get(incident.id)
    if earlier is not None and (incident.first_photo_id is None or incident.first_photo_id > earlier):
        incident.first_photo_id = earlier
    stored = [photo.id for photo in report.photos if photo.status == "stored"]
    if stored:
        await note_photo_stored(connection, incident, min(stored))
        first_photos[incident.id] = incident.first_photo_id or min(stored)
    data = await incident_event(connection, incident)
    return NewEvent("incident.created" if placement.created else "incident.updated", data,
                    region_id=incident.region_id, wijk_code=incident.wijk_code)


def _absorb(incident: Incident, report: Report) -> None:
    """Adds one report to the incident's summary without reading its other reports."""
    manual = set(incident.overridden or [])
    incident.report_count += 1
    if report.group_id is not None:  # None: still to be chosen
        incident.group_ids = sorted({*incident.group_ids, report.group_id})
    incident.appearance_only = incident.appearance_only or report.appearance_only
    incident.unrecognised = bool(incident.unrecognised) or is_unrecognised(report.triage)
    incident.lead_reason = more_serious(incident.lead_reason, lead_reason_of(report.triage))
    incident.first_report_at = min(incident.first_report_at, report.received_at)
    incident.last_report_at = max(incident.last_report_at, report.received_at)
    more_urgent = URGENCY.rank(report.urgency or "none") < URGENCY.rank(incident.urgency)
    updates: dict[str, Any] = {"urgency": report.urgency, "category": report.category,
               "offence": report.offence or incident.offence} if more_urgent else {}
    if incident.lat is None and report.point_lat is not None:
        updates |= {"lat": report.point_lat, "lon": report.point_lon, "wijk_code": report.wijk_code}
    for name, value in updates.items():
        if name not in manual:
            setattr(incident, name, value)


async def _reports_of(session: AsyncSession, incident_id: int) -> list[Report]:
    return list((await session.scalars(
        select(Report).where(Report.incident_id == incident_id).options(selectinload(Report.photos))
        .order_by(Report.received_at, Report.id).execution_options(populate_existing=True)
    )).all())


def _rank_of(column: Any) -> Any:
    return case(URGENCY_RANK, value=column, else_=URGENCY.rank("none"))


async def _first_report(session: AsyncSession, incident_id: int, *conditions: Any, by_rank: bool = False
                        ) -> Report | None:
    order = (_rank_of(Report.urgency), Report.received_at, Report.id) if by_rank else (Report.received_at, Report.id)
    return await session.scalar(select(Report).where(Report.incident_id == incident_id, *conditions)
                                .order_by(*order).limit(1))


async def _recompute(session: AsyncSession, incident: Incident) -> None:
    """The incident's urgency is the highest of its reports, unless an operator set it; category, offence and
    place follow its most urgent (then earliest) report. Aggregates, so a big incident stays cheap."""
    await session.flush()
    first_at, last_at, best_rank, appearance_only = (await session.execute(
        select(func.min(Report.received_at), func.max(Report.received_at), func.min(_rank_of(Report.urgency)),
               func.max(case((Report.appearance_only, 1), else_=0)))
        .where(Report.incident_id == incident.id))).one()
    group_ids = [group_id for group_id in (await session.scalars(
        select(Report.group_id).where(Report.incident_id == incident.id).distinct())).all() if group_id is not None]
    incident.report_count = int(await session.scalar(
        select(func.count(Report.id)).where(Report.incident_id == incident.id)) or 0)
    leading = await _first_report(session, incident.id, by_rank=True)
    if leading is None:
        return
    located = await _first_report(session, incident.id, Report.point_lat.is_not(None)) or leading
    offence = leading.offence or await session.scalar(
        select(Report.offence).where(Report.incident_id == incident.id, Report.offence.is_not(None)).limit(1))
    manual = set(incident.overridden or [])
    derived = {"urgency": URGENCY.codes[int(best_rank)], "category": leading.category, "offence": offence,
               "wijk_code": located.wijk_code or leading.wijk_code, "lat": located.point_lat, "lon": located.point_lon}
    for name, value in derived.items():
        if name not in manual:
            setattr(incident, name, value)
    incident.first_report_at, incident.last_report_at = first_at, last_at
    incident.group_ids, incident.appearance_only = sorted(group_ids), bool(appearance_only)
    first = await _first_report(session, incident.id)
    incident.summary = first.text[:300] if first else ""
    incident.first_photo_id = await session.scalar(_FIRST_STORED_PHOTO, {"incident_id": incident.id})
    suggestions = (await session.scalars(select(Report.triage).where(Report.incident_id == incident.id)
                                         .order_by(Report.received_at, Report.id))).all()
    incident.unrecognised = any(is_unrecognised(suggestion) for suggestion in suggestions)
    incident.lead_reason = lead_reason_among(suggestions)


# ---- read models ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    reports: list[Report]
    group_names: dict[int, str]  # also of the groups offered for a report whose group is still to be chosen
    claimed_by: str | None

    @property
    def group_count(self) -> int:
        """The groups the reports come from (not those still on offer)."""
        return len({report.group_id for report in self.reports if report.group_id is not None})


async def incident_view(session: AsyncSession, incident: Incident) -> IncidentView:
    return (await incident_views(session, [incident]))[0]


async def incident_views(session: AsyncSession, incidents: Sequence[Incident]) -> list[IncidentView]:
    """The views of a page of incidents in four statements, however long the page."""
    reports = await _reports_of_many(session, [incident.id for incident in incidents])
    # the reports' groups, and the groups offered for a report whose group is still to be chosen
    group_ids = {g for rs in reports.values() for r in rs
                 for g in ([r.group_id] if r.group_id is not None else r.group_choices or [])}
    rows = (await session.execute(select(Group.id, Group.name).where(Group.id.in_(group_ids)))).all() \
        if group_ids else []
    names: dict[int, str] = {group_id: name for group_id, name in rows}
    holders = await _claim_holders(session, incidents)
    return [IncidentView(i, reports.get(i.id, []), names, holders.get(i.id)) for i in incidents]


async def _reports_of_many(session: AsyncSession, incident_ids: list[int]) -> dict[int, list[Report]]:
    found: dict[int, list[Report]] = {}
    if not incident_ids:
        return found
    rows = await session.scalars(
        select(Report).where(Report.incident_id.in_(incident_ids)).options(selectinload(Report.photos))
        .order_by(Report.received_at, Report.id).execution_options(populate_existing=True))
    for report in rows:
        found.setdefault(report.incident_id or 0, []).append(report)
    return found


async def _claim_holders(session: AsyncSession, incidents: Sequence[Incident]) -> dict[int, str]:
    now = utcnow()
    claimed = {i.id: i.claimed_by_id for i in incidents
               if i.claimed_by_id and i.claim_expires_at and i.claim_expires_at > now}
    if not claimed:
        return {}
    rows = (await session.execute(select(StaffUser.id, StaffUser.display_name)
                                  .where(StaffUser.id.in_(set(claimed.values()))))).all()
    names: dict[int, str] = {staff_id: name for staff_id, name in rows}
    return {incident_id: names[staff_id] for incident_id, staff_id in claimed.items() if staff_id in names}


_FIRST_STORED_PHOTO = (select(func.min(ReportPhoto.id)).join(Report)
                       .where(Report.incident_id == bindparam("incident_id"), ReportPhoto.status == "stored"))
_NOTE_PHOTO = (update(Incident).where(Incident.id == bindparam("incident_id"),
                                      or_(Incident.first_photo_id.is_(None),
                                          Incident.first_photo_id > bindparam("photo_id")))
               .values(first_photo_id=bindparam("photo_id")))
_PHOTO_REPORT = select(ReportPhoto.report_id, ReportPhoto.id).where(ReportPhoto.id == bindparam("photo_id"))


async def note_photo_stored(session: AsyncSession | AsyncConnection, incident: Incident, photo_id: int) -> None:
    """A photo of one of the incident's reports is stored: it becomes the card's photo if it is the first."""
    await session.execute(_NOTE_PHOTO, {"incident_id": incident.id, "photo_id": photo_id})
    if incident.first_photo_id is None or incident.first_photo_id > photo_id:
        set_committed_value(incident, "first_photo_id", photo_id)  # written above; not again by a flush


async def show_photo(session: AsyncSession, incident_id: int, photo_id: int) -> None:
    """A photo arrived after its report was written: it may become the card's photo; walls are told."""
    incident = await get_incident(session, incident_id)
    await note_photo_stored(session, incident, photo_id)
    emit(session, "incident.updated", await incident_event(session, incident), region_id=incident.region_id,
         wijk_code=incident.wijk_code)


async def report_group_chosen(session: AsyncSession, report: Report) -> None:
    """A report's group was chosen after the report joined its incident: the incident lists that group, and one
    without a wijk or region yet takes the report's (a wijk an operator set stays). Walls are told; adds to the
    caller's transaction."""
    if report.incident_id is None:
        return
    await session.flush()
    incident = await get_incident(session, report.incident_id)
    group_ids = (await session.scalars(select(Report.group_id).where(
        Report.incident_id == incident.id, Report.group_id.is_not(None)).distinct())).all()
    incident.group_ids = sorted(group_id for group_id in group_ids if group_id is not None)
    if incident.wijk_code is None and "wijk_code" not in (incident.overridden or []):
        incident.wijk_code = report.wijk_code
    if incident.region_id is None:
        incident.region_id = report.region_id
    emit(session, "incident.updated", await incident_event(session, incident), region_id=incident.region_id,
         wijk_code=incident.wijk_code)


async def incident_event(session: AsyncSession | AsyncConnection, incident: Incident) -> dict[str, Any]:
    """What the wall and the console need to draw the incident card without another request."""
    photo: Any = None
    if incident.first_photo_id is not None:
        photo = (await session.execute(_PHOTO_REPORT, {"photo_id": incident.first_photo_id})).first()
    return {
        "incident_id": incident.id, "status": incident.status, "urgency": incident.urgency,
        "category": incident.category, "offence": incident.offence, "wijkcode": incident.wijk_code,
        "lat": incident.lat, "lon": incident.lon, "first_report_at": incident.first_report_at.isoformat(),
        "last_report_at": incident.last_report_at.isoformat(), "report_count": incident.report_count,
        "group_count": len(incident.group_ids or []), "text": incident.summary,
        "photo": {"report_id": photo[0], "photo_id": photo[1]} if photo else None,
        "follow_up": incident.follow_up, "result": incident.result,
        "claimed_by": await _claim_holder(session, incident), "appearance_only": incident.appearance_only,
        "unrecognised": bool(incident.unrecognised), "lead_reason": incident.lead_reason,
    }


def is_unrecognised(suggestion: dict[str, Any] | None) -> bool:
    """Does a report's stored triage carry the "niet herkend" reason?"""
    return any(reason.get("code") == UNRECOGNISED for reason in (suggestion or {}).get("reasons") or ())


async def _claim_holder(session: AsyncSession | AsyncConnection, incident: Incident) -> str | None:
    if incident.claimed_by_id and incident.claim_expires_at and incident.claim_expires_at > utcnow():
        return await session.scalar(select(StaffUser.display_name).where(StaffUser.id == incident.claimed_by_id))
    return None


async def get_incident(session: AsyncSession, incident_id: int, *, for_update: bool = False) -> Incident:
    incident = await session.get(Incident, incident_id, populate_existing=True, with_for_update=for_update)
    if incident is None:
        raise NotFound("Het incident")
    return incident


# ---- operator actions ----------------------------------------------------------------------------


async def claim(session: AsyncSession, actor: Principal, incident_id: int, ttl: timedelta = CLAIM_TTL) -> Incident:
    """Claims the incident for `ttl`; the holder claiming again extends the claim by that much from now."""
    incident = await get_incident(session, incident_id)
    await _ensure_not_claimed_by_other(session, incident, actor)
    extended = incident.claimed_by_id == actor.id and await _claim_holder(session, incident) is not None
    incident.claimed_by_id, incident.claim_expires_at = actor.id, utcnow() + ttl
    await _changed(session, actor, incident, "incident.claim", extended=extended)
    return incident


async def release(session: AsyncSession, actor: Principal, incident_id: int) -> Incident:
    incident = await get_incident(session, incident_id)
    await _ensure_not_claimed_by_other(session, incident, actor)
    incident.claimed_by_id, incident.claim_expires_at = None, None
    await _changed(session, actor, incident, "incident.release")
    return incident


async def expire_claims(session: AsyncSession, *, batch: int = 200) -> int:
    """Ends claims whose time ran out, so that walls and consoles stop showing a holder: one audited
    `incident.updated` each. (An expired claim already let others act; this makes it visible.)"""
    expired = list((await session.scalars(
        select(Incident).where(Incident.claimed_by_id.is_not(None), Incident.claim_expires_at <= utcnow())
        .order_by(Incident.id).limit(batch).with_for_update(skip_locked=True))).all())
    for incident in expired:
        holder = incident.claimed_by_id
        incident.claimed_by_id = incident.claim_expires_at = None
        audit.record(session, SYSTEM, "incident.claim_expired", target_type="incident", target_id=incident.id,
                     claimed_by_id=holder)
    for incident in expired:  # events last, after the row locks (see app.events.notify)
        emit(session, "incident.updated", await incident_event(session, incident), region_id=incident.region_id,
             wijk_code=incident.wijk_code)
    await session.commit()
    return len(expired)


async def _ensure_not_claimed_by_other(session: AsyncSession, incident: Incident, actor: Principal) -> None:
    held = incident.claimed_by_id and incident.claim_expires_at and incident.claim_expires_at > utcnow()
    if held and incident.claimed_by_id != actor.id:
        holder = await session.scalar(select(StaffUser.display_name).where(StaffUser.id == incident.claimed_by_id))
        until = incident.claim_expires_at.astimezone(LOCAL_TIME) if incident.claim_expires_at else None
        raise Conflict(f"Dit incident is geclaimd door {holder} (tot {until:%H:%M}).", code="claimed")


async def _changed(session: AsyncSession, actor: Principal, incident: Incident, action: str, **detail: Any) -> None:
    audit.record(session, actor, action, target_type="incident", target_id=incident.id, **detail)
    # The rows first, then the event: an event's flush takes the event-order lock (app.events.notify), and
    # taking it before the incident's row lock deadlocks with the intake, which locks the row, then writes events.
    await session.flush()
    emit(session, "incident.updated", await incident_event(session, incident), region_id=incident.region_id,
         wijk_code=incident.wijk_code)
    await session.commit()


@dataclass(frozen=True)
class IncidentChange:
    urgency: str | None = None
    reason: str | None = None
    category: str | None = None
    offence: str | None = None
    wijk_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    follow_up: str | None = None
    result: str | None = None
    note_for_reporter: str | None = None
    close: bool = False
    fields: frozenset[str] = frozenset()


async def update_incident(session: AsyncSession, actor: Principal, incident_id: int,
                          change: IncidentChange) -> Incident:
    # The row lock first: the feedback below emits events, which take the event-order lock (app.events.notify),
    # and the intake holds this row while it waits for that lock. The other order deadlocked on PostgreSQL.
    incident = await get_incident(session, incident_id, for_update=True)
    await _ensure_not_claimed_by_other(session, incident, actor)
    reports = await _reports_of(session, incident.id)
    _apply_overrides(incident, change)
    await record_decision(session, incident, reports, change.fields, actor.id if actor.kind == "staff" else None)
    await _apply_outcome(session, actor, incident, reports, change)
    if change.close:
        _close(incident, reports)
    decided = sorted(change.fields - {"note_for_reporter"})  # the note itself is kept, cleaned, as feedback
    await _changed(session, actor, incident, "incident.update", fields=sorted(change.fields),
                   reason=change.reason, values={name: getattr(change, name, None) for name in decided})
    return incident


def _apply_overrides(incident: Incident, change: IncidentChange) -> None:
    if "urgency" in change.fields and change.urgency != incident.urgency:
        lowering = URGENCY.rank(change.urgency or "none") > URGENCY.rank(incident.urgency)
        if incident.urgency == "P1" and lowering and not (change.reason or "").strip():
            raise InvalidInput("Een P1 verlagen kan alleen met een reden.", field="reason", code="reason_required")
        incident.urgency = incident.urgency_override = change.urgency or "none"
        incident.override_reason = change.reason
    manual = set(incident.overridden or []) | (change.fields & {"urgency"})
    for name in ("category", "offence", "wijk_code", "lat", "lon"):
        if name in change.fields:
            setattr(incident, name, getattr(change, name))
            manual.add(name)
    incident.overridden = sorted(manual)


async def _apply_outcome(session: AsyncSession, actor: Principal, incident: Incident, reports: Sequence[Report],
                         change: IncidentChange) -> None:
    outcome = [("follow_up", change.follow_up), ("result", change.result)]
    if not change.fields & {"follow_up", "result", "note_for_reporter"}:
        return
    for kind, value in outcome:
        if kind in change.fields and value != getattr(incident, kind):
            setattr(incident, kind, value)
            for report in reports:
                setattr(report, kind, value)
                report.status = "in_behandeling" if report.status == "ontvangen" else report.status
                await record_feedback(session, report, kind=kind, value=value, note=None, staff_user_id=actor.id)
    if "note_for_reporter" in change.fields and (change.note_for_reporter or "").strip():
        for report in reports:
            await record_feedback(session, report, kind="note", value=None, note=change.note_for_reporter,
                                  staff_user_id=actor.id)


def _close(incident: Incident, reports: Sequence[Report]) -> None:
    now = utcnow()
    incident.status, incident.closed_at = "closed", now
    incident.claimed_by_id = incident.claim_expires_at = None
    for report in reports:
        report.status, report.closed_at = "afgehandeld", now


async def merge(session: AsyncSession, actor: Principal, target_id: int, other_ids: Sequence[int],
                **detail: Any) -> Incident:
    """Moves the others' reports into the target; `detail` is added to the audit entry (the undo's snapshot)."""
    target = await get_incident(session, target_id)
    await _ensure_not_claimed_by_other(session, target, actor)
    others = [await get_incident(session, i) for i in other_ids if i != target_id]
    if not others:
        raise InvalidInput("Kies minstens één ander incident om samen te voegen.", field="incident_ids")
    for other in others:
        await _ensure_not_claimed_by_other(session, other, actor)
        for report in await _reports_of(session, other.id):
            report.incident_id = target.id
        other.status, other.closed_at = "merged", utcnow()
        audit.record(session, actor, "incident.merged_into", target_type="incident", target_id=other.id, into=target.id)
    await _recompute(session, target)
    await session.flush()  # the rows before the events (see _changed)
    for other in others:
        emit(session, "incident.merged", {"incident_id": other.id, "into": target.id}, region_id=other.region_id)
    await _changed(session, actor, target, "incident.merge", merged=[o.id for o in others], **detail)
    return target


async def split(session: AsyncSession, actor: Principal, incident_id: int, report_ids: Sequence[int]) -> Incident:
    source = await get_incident(session, incident_id)
    await _ensure_not_claimed_by_other(session, source, actor)
    reports = await _reports_of(session, source.id)
    moving = [r for r in reports if r.id in set(report_ids)]
    if not moving or len(moving) == len(reports) or len(moving) != len(set(report_ids)):
        raise InvalidInput("Kies meldingen uit dit incident, maar niet alle.", field="report_ids")
    first = moving[0]
    new = Incident(region_id=source.region_id, urgency=first.urgency or "none", category=first.category,
                   offence=first.offence, wijk_code=first.wijk_code, lat=first.point_lat, lon=first.point_lon,
                   first_report_at=first.received_at, last_report_at=first.received_at)
    session.add(new)
    await session.flush()
    for report in moving:
        report.incident_id = new.id
    await _recompute(session, new)
    await _recompute(session, source)
    audit.record(session, actor, "incident.split_from", target_type="incident", target_id=new.id, source=source.id,
                 reports=[r.id for r in moving])
    await session.flush()  # the rows before the event (see _changed)
    emit(session, "incident.created", await incident_event(session, new), region_id=new.region_id,
         wijk_code=new.wijk_code)
    await _changed(session, actor, source, "incident.split", new_incident=new.id, reports=[r.id for r in moving])
    return new
