"""Operations for the police side: create (checked area, times and roles; a warning on overlap), read, invite
the beheerders of the area, message the participants, close. Each is one unit of work that commits itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.broadcast.channels import available_channels
from app.broadcast.outbox import recipients_in
from app.broadcast.schemas import TargetIn
from app.broadcast.targets import Circle, TargetWijk, resolve_wijken
from app.core.database import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound, ProblemError
from app.core.principal import Principal
from app.core.settings import Settings
from app.incidents.models import Incident
from app.operations import channel, lifecycle
from app.operations.models import Operation, OperationParticipant, operation_incidents
from app.operations.permissions import OPERATOR_KINDS, PUBLIC_KINDS, check_may_run
from app.operations.schemas import (
    CloseIn,
    InvitedOut,
    OperationCreated,
    OperationIn,
    OperationPatch,
    OverlapOut,
    PreviewIn,
    PreviewOut,
    SentOut,
    TextIn,
    WarningOut,
)
from app.operations.times import local, shown, to_utc
from app.registry.models import Beheerder, Group, Wijk, beheerder_groups

LONGEST = timedelta(days=92)  # a campaign may last weeks, not a year


def _times(body: OperationIn, now: datetime) -> tuple[datetime, datetime]:
    starts, ends = to_utc(body.starts_at, "starts_at"), to_utc(body.ends_at, "ends_at")
    return _checked_times(starts, ends, now)


def _checked_times(starts: datetime, ends: datetime, now: datetime) -> tuple[datetime, datetime]:
    if ends <= starts:
        raise InvalidInput("Het einde ligt niet na het begin.", field="ends_at", code="end_before_start")
    if ends <= now:
        raise InvalidInput("Het einde ligt in het verleden.", field="ends_at", code="end_in_past")
    if ends - starts > LONGEST:
        raise InvalidInput(f"Een actie duurt hoogstens {LONGEST.days} dagen.", field="ends_at", code="too_long")
    return starts, ends


async def _area(session: AsyncSession, area: TargetIn) -> list[TargetWijk]:
    wijken = await _wijken_in(session, area)
    if not wijken:
        raise InvalidInput("Het gebied raakt geen enkele wijk.", field="area", code="empty_area")
    return wijken


async def _wijken_in(session: AsyncSession, area: TargetIn) -> list[TargetWijk]:
    circle = area.circle
    return await resolve_wijken(session, wijkcodes=area.wijkcodes, gemeentecodes=area.gemeentecodes,
                                circle=Circle(circle.lat, circle.lon, circle.radius_m) if circle else None)


async def _check_incidents(session: AsyncSession, actor: Principal, body: OperationIn) -> None:
    if actor.role == "operator" and body.kind in OPERATOR_KINDS and not body.incident_ids:
        raise InvalidInput("Een centralist opent een heterdaad of vermissing vanuit een incident: geef "
                           "incident_ids mee.", field="incident_ids", code="incident_required")
    found = set((await session.scalars(select(Incident.id).where(Incident.id.in_(body.incident_ids)))).all())
    missing = [incident_id for incident_id in body.incident_ids if incident_id not in found]
    if missing:
        raise InvalidInput(f"Incident {missing[0]} bestaat niet.", field="incident_ids", code="unknown_incident")


async def _check_keyword(session: AsyncSession, body: OperationIn, starts: datetime, ends: datetime) -> None:
    """Only an evenement or vermissing has a keyword, and no other open or planned operation in the same time
    may have it: a message with it must name one operation."""
    if body.keyword is None:
        return
    if body.kind not in PUBLIC_KINDS:
        raise InvalidInput("Alleen een evenement of vermissing heeft een trefwoord voor het publiek.",
                           field="keyword", code="keyword_not_allowed")
    taken = await session.scalar(
        select(Operation).where(Operation.keyword == body.keyword, Operation.status != "gesloten",
                                Operation.starts_at < ends, Operation.ends_at > starts).limit(1))
    if taken is not None:
        raise ProblemError(409, "Trefwoord al in gebruik",
                           f"Het trefwoord {body.keyword} hoort al bij de actie {taken.name} "
                           f"({shown(taken.starts_at)} - {shown(taken.ends_at)}); kies een ander.",
                           field="keyword", code="keyword_taken")


async def _overlapping(session: AsyncSession, kind: str, wijkcodes: Sequence[str], starts: datetime,
                       ends: datetime, *, besides: int | None = None) -> list[Operation]:
    candidates = (await session.scalars(
        select(Operation).where(Operation.kind == kind, Operation.status != "gesloten", Operation.starts_at < ends,
                                Operation.ends_at > starts, Operation.id != (besides or 0))
        .order_by(Operation.id))).all()
    return [operation for operation in candidates if set(operation.wijkcodes) & set(wijkcodes)]


def _overlap_warning(others: Sequence[Operation]) -> WarningOut:
    first = others[0]
    return WarningOut(code="overlap", operation_ids=[o.id for o in others],
                      message=f"In dit gebied loopt in dezelfde tijd al een actie van deze soort: {first.name} "
                              f"({shown(first.starts_at)} - {shown(first.ends_at)}).")


async def create_operation(session: AsyncSession, actor: Principal, body: OperationIn, now: datetime,
                           settings: Settings) -> OperationCreated:
    starts, ends = _times(body, now)
    wijken = await _area(session, body.area)
    wijkcodes = [w.code for w in wijken]
    check_may_run(actor, body.kind, wijkcodes)
    await _check_incidents(session, actor, body)
    # With a keyword the public can take part (a beach has no neighbourhood groups); without, someone must.
    if body.keyword is None and not await recipients_in(session, wijkcodes, available_channels(settings)):
        raise InvalidInput("Er zijn geen actieve beheerders in dit gebied.", field="area", code="no_beheerders")
    confirmed = channel.check_privacy(body.briefing, body.confirm_warnings)
    await _check_keyword(session, body, starts, ends)
    others = await _overlapping(session, body.kind, wijkcodes, starts, ends)
    regions = {w.region_id for w in wijken}
    operation = Operation(
        name=body.name, kind=body.kind, status="gepland", area=body.area.model_dump(exclude_none=True),
        wijkcodes=wijkcodes, gemeentecodes=sorted({w.gemeentecode for w in wijken}),
        region_id=regions.pop() if len(regions) == 1 else None, starts_at=starts, ends_at=ends,
        briefing=body.briefing, keyword=body.keyword, created_by_id=actor.id if actor.is_staff else None,
        created_by_name=actor.name,
        created_at=now)
    session.add(operation)
    await session.flush()
    if body.incident_ids:
        await session.execute(insert(operation_incidents), [{"operation_id": operation.id, "incident_id": incident}
                                                            for incident in dict.fromkeys(body.incident_ids)])
    audit.record(session, actor, "operation.create", target_type="operation", target_id=operation.id,
                 kind=body.kind, wijkcodes=wijkcodes, confirmed_warnings=confirmed)
    lifecycle.emit_operation(session, "created", operation, created_by=actor.name)
    if starts <= now:
        lifecycle.open_operation(session, operation, now)
    await session.commit()
    warnings = [_overlap_warning(others)] if others else []
    return OperationCreated(id=operation.id, status=operation.status, warnings=warnings)


async def preview(session: AsyncSession, body: PreviewIn, settings: Settings) -> PreviewOut:
    """What the form shows while the area is edited; reads only. Times that are not (yet) valid give no
    overlap rather than an error: the form is half filled in."""
    wijkcodes = [w.code for w in await _wijken_in(session, body.area)]
    beheerders = await recipients_in(session, wijkcodes, available_channels(settings)) if wijkcodes else []
    window = _window(body)
    others = await _overlapping(session, body.kind, wijkcodes, *window, besides=body.operation_id) \
        if body.kind and window and wijkcodes else []
    return PreviewOut(wijkcodes=wijkcodes, beheerders=len(beheerders), overlapping=[
        OverlapOut(id=o.id, name=o.name, kind=o.kind, status=o.status, starts_at=local(o.starts_at),
                   ends_at=local(o.ends_at)) for o in others])


def _window(body: PreviewIn) -> tuple[datetime, datetime] | None:
    if body.starts_at is None or body.ends_at is None:
        return None
    try:
        starts, ends = to_utc(body.starts_at, "starts_at"), to_utc(body.ends_at, "ends_at")
    except InvalidInput:
        return None
    return (starts, ends) if starts < ends else None


def _patched(operation: Operation, body: OperationPatch) -> OperationIn:
    """The operation as it would be after the change, as a new operation's body (checked the same way)."""
    return OperationIn(
        name=body.name or operation.name, kind=body.kind or operation.kind,
        area=body.area or TargetIn.model_validate(operation.area),
        starts_at=body.starts_at or operation.starts_at, ends_at=body.ends_at or operation.ends_at,
        briefing=body.briefing or operation.briefing, confirm_warnings=body.confirm_warnings)


async def update_operation(session: AsyncSession, actor: Principal, operation_id: int, body: OperationPatch,
                           now: datetime, settings: Settings) -> OperationCreated:
    """Changes a planned operation (an open or closed one is 409: its invitations went out with its terms)."""
    operation = await get_operation(session, operation_id, lock=True)
    check_may_run(actor, operation.kind, operation.wijkcodes)
    if operation.status != "gepland":
        raise Conflict("Alleen een geplande actie kan worden gewijzigd; deze is "
                       f"{'al open' if operation.status == 'open' else 'gesloten'}.", code="operation_not_planned")
    merged = _patched(operation, body)
    starts, ends = _times(merged, now)
    wijken = await _area(session, merged.area)
    wijkcodes = [w.code for w in wijken]
    check_may_run(actor, merged.kind, wijkcodes)
    if not await recipients_in(session, wijkcodes, available_channels(settings)):
        raise InvalidInput("Er zijn geen actieve beheerders in dit gebied.", field="area", code="no_beheerders")
    confirmed = channel.check_privacy(merged.briefing, merged.confirm_warnings)
    changed = sorted(body.model_fields_set - {"confirm_warnings"})
    _apply(operation, merged, wijken, starts, ends)
    audit.record(session, actor, "operation.update", target_type="operation", target_id=operation.id,
                 fields=changed, wijkcodes=wijkcodes, confirmed_warnings=confirmed)
    lifecycle.emit_operation(session, "updated", operation, updated_by=actor.name, fields=changed)
    if starts <= now:
        lifecycle.open_operation(session, operation, now)
    others = await _overlapping(session, merged.kind, wijkcodes, starts, ends, besides=operation.id)
    await session.commit()
    return OperationCreated(id=operation.id, status=operation.status,
                            warnings=[_overlap_warning(others)] if others else [])


def _apply(operation: Operation, body: OperationIn, wijken: Sequence[TargetWijk], starts: datetime,
           ends: datetime) -> None:
    regions = {w.region_id for w in wijken}
    operation.name, operation.kind, operation.briefing = body.name, body.kind, body.briefing
    operation.area, operation.wijkcodes = body.area.model_dump(exclude_none=True), [w.code for w in wijken]
    operation.gemeentecodes = sorted({w.gemeentecode for w in wijken})
    operation.region_id = regions.pop() if len(regions) == 1 else None
    operation.starts_at, operation.ends_at = starts, ends


async def get_operation(session: AsyncSession, operation_id: int, *, lock: bool = False) -> Operation:
    query = select(Operation).where(Operation.id == operation_id)
    operation = await session.scalar(query.with_for_update() if lock else query)
    if operation is None:
        raise NotFound("Deze actie")
    return operation


async def _runnable(session: AsyncSession, actor: Principal, operation_id: int) -> Operation:
    """The operation, locked for the change, when the actor may run it and it is not closed."""
    operation = await get_operation(session, operation_id, lock=True)
    check_may_run(actor, operation.kind, operation.wijkcodes)
    if operation.status == "gesloten":
        raise Conflict("Deze actie is gesloten.", code="operation_closed")
    return operation


async def close(session: AsyncSession, actor: Principal, operation_id: int, body: CloseIn, now: datetime,
                settings: Settings) -> Operation:
    operation = await _runnable(session, actor, operation_id)
    confirmed = channel.check_privacy(body.text, body.confirm_warnings) if body.text else []
    await lifecycle.close_operation(session, operation, now, settings, by=actor, text=body.text,
                                    confirmed_warnings=tuple(confirmed))
    audit.record(session, actor, "operation.close", target_type="operation", target_id=operation.id)
    await session.commit()
    return operation


async def invite(session: AsyncSession, actor: Principal, operation_id: int, settings: Settings) -> InvitedOut:
    """One invitation to each active beheerder of the area who has none yet (a second call invites only
    those who were added to the area since)."""
    operation = await _runnable(session, actor, operation_id)
    recipients = await recipients_in(session, operation.wijkcodes, available_channels(settings))
    if not recipients:
        raise InvalidInput("Er zijn geen actieve beheerders in dit gebied.", field="area", code="no_beheerders")
    known = set((await session.scalars(select(OperationParticipant.beheerder_id)
                                       .where(OperationParticipant.operation_id == operation.id))).all())
    new = [r for r in recipients if r.beheerder_id not in known]
    if not new:
        return InvitedOut(invited=0, already_invited=len(recipients), broadcast_id=None)
    now = utcnow()
    session.add_all(OperationParticipant(operation_id=operation.id, beheerder_id=r.beheerder_id, status="no_answer",
                                         invited_at=now) for r in new)
    broadcast = await channel.send(session, operation, new, text=operation.briefing,
                                   message=channel.invitation_text(operation), purpose="invitation", sender=actor,
                                   now=now)
    audit.record(session, actor, "operation.invite", target_type="operation", target_id=operation.id,
                 invited=len(new), broadcast_id=broadcast.id)
    await session.commit()
    return InvitedOut(invited=len(new), already_invited=len(recipients) - len(new), broadcast_id=broadcast.id)


async def send_message(session: AsyncSession, actor: Principal, operation_id: int, body: TextIn,
                       settings: Settings) -> SentOut:
    """A message to the beheerders and public participants who take part now; nobody else gets it."""
    operation = await _runnable(session, actor, operation_id)
    recipients = await channel.joined_recipients(session, operation.id, settings)
    public = await channel.joined_public(session, operation.id)
    if not recipients and not public:
        raise Conflict("Er doet nog niemand mee aan deze actie.", code="no_participants")
    confirmed = channel.check_privacy(body.text, body.confirm_warnings)
    now = utcnow()
    broadcast = await channel.send(session, operation, recipients, text=body.text,
                                   message=channel.message_text(operation, body.text, now), purpose="message",
                                   sender=actor, now=now, confirmed_warnings=confirmed, public_ids=public)
    audit.record(session, actor, "operation.message", target_type="operation", target_id=operation.id,
                 recipients=len(recipients), public_participants=len(public), broadcast_id=broadcast.id)
    await session.commit()
    return SentOut(broadcast_id=broadcast.id, recipients=len(recipients) + len(public))


async def count_participants(session: AsyncSession, operation_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    rows = (await session.execute(
        select(OperationParticipant.operation_id, OperationParticipant.status, func.count())
        .where(OperationParticipant.operation_id.in_(operation_ids))
        .group_by(OperationParticipant.operation_id, OperationParticipant.status))).all()
    counts: dict[int, dict[str, int]] = {operation_id: {} for operation_id in operation_ids}
    for operation_id, status, count in rows:
        counts[operation_id][status] = count
    return counts


async def incident_ids(session: AsyncSession, operation_ids: Sequence[int]) -> dict[int, list[int]]:
    rows = (await session.execute(
        select(operation_incidents.c.operation_id, operation_incidents.c.incident_id)
        .where(operation_incidents.c.operation_id.in_(operation_ids))
        .order_by(operation_incidents.c.incident_id))).all()
    out: dict[int, list[int]] = {operation_id: [] for operation_id in operation_ids}
    for operation_id, incident_id in rows:
        out[operation_id].append(incident_id)
    return out


async def list_operations(session: AsyncSession, *, status: str | None, kind: str | None, limit: int,
                          offset: int) -> tuple[list[Operation], int]:
    query = select(Operation)
    if status is not None:
        query = query.where(Operation.status == status)
    if kind is not None:
        query = query.where(Operation.kind == kind)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (await session.scalars(query.order_by(Operation.starts_at.desc(), Operation.id.desc())
                                  .limit(limit).offset(offset))).all()
    return list(rows), int(total or 0)


async def running_in_region(session: AsyncSession, region_id: int | None) -> list[Operation]:
    """The open operations of the region, and those that span regions; the soonest to end first."""
    return list((await session.scalars(
        select(Operation).where(Operation.status == "open",
                                (Operation.region_id == region_id) | Operation.region_id.is_(None))
        .order_by(Operation.ends_at, Operation.id))).all())


async def participant_rows(session: AsyncSession, operation_id: int) -> list[dict[str, object]]:
    """Everyone invited or answering, with the wijken of their groups, by name."""
    rows = (await session.execute(
        select(OperationParticipant, Beheerder.name).join(Beheerder, Beheerder.id == OperationParticipant.beheerder_id)
        .where(OperationParticipant.operation_id == operation_id).order_by(Beheerder.name, Beheerder.id))).all()
    wijken = await _wijken_of([participant.beheerder_id for participant, _ in rows], session)
    return [{"beheerder_id": p.beheerder_id, "name": name, "wijkcodes": sorted(wijken.get(p.beheerder_id, ())),
             "status": p.status, "invited_at": p.invited_at, "answered_at": p.answered_at,
             "answered_via": p.answered_via} for p, name in rows]


async def _wijken_of(beheerder_ids: Sequence[int], session: AsyncSession) -> dict[int, set[str]]:
    rows = (await session.execute(
        select(beheerder_groups.c.beheerder_id, Wijk.code).join(Group, Group.id == beheerder_groups.c.group_id)
        .join(Wijk, Wijk.id == Group.wijk_id).where(beheerder_groups.c.beheerder_id.in_(beheerder_ids)))).all()
    out: dict[int, set[str]] = {}
    for beheerder_id, code in rows:
        out.setdefault(beheerder_id, set()).add(code)
    return out
