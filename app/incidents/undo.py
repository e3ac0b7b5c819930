"""Merging with an undo: the merge's audit entry keeps a snapshot of every incident involved, and for a minute
the merge can be undone to exactly that state (the reports back where they were, the merged incidents open
again with their own summary and decisions).

An undo is refused once anything but a claim happened to the merged incident after the merge: the snapshot
would no longer be the state to return to, and splitting the reports off is the way then."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.models import AuditEntry
from app.core.database import utcnow
from app.core.errors import Conflict
from app.core.principal import Principal
from app.events.service import emit
from app.incidents import service
from app.incidents.models import Incident
from app.intake.models import Report

UNDO_WINDOW = timedelta(minutes=1)
SNAPSHOT_FIELDS = ("status", "closed_at", "urgency", "category", "offence", "wijk_code", "lat", "lon", "report_count",
                   "group_ids", "summary", "appearance_only", "first_report_at", "last_report_at", "first_photo_id",
                   "unrecognised")  # a merge changes no claim: claims are left as they are now
_TIMES = {"closed_at", "first_report_at", "last_report_at"}
# Actions that do not change what an undo restores.
_NEUTRAL = ("incident.claim", "incident.release", "incident.claim_expired")


async def _report_ids(session: AsyncSession, incident_id: int) -> list[int]:
    return list(await session.scalars(select(Report.id).where(Report.incident_id == incident_id).order_by(Report.id)))


async def _snapshot(session: AsyncSession, incident: Incident) -> dict[str, Any]:
    values = {name: getattr(incident, name) for name in SNAPSHOT_FIELDS}
    for name in _TIMES:
        values[name] = values[name].isoformat() if values[name] is not None else None
    return {**values, "reports": await _report_ids(session, incident.id)}


def _restore(incident: Incident, snapshot: dict[str, Any]) -> None:
    for name in SNAPSHOT_FIELDS:
        value = snapshot.get(name)
        setattr(incident, name, datetime.fromisoformat(value) if name in _TIMES and value else value)


async def merge(session: AsyncSession, actor: Principal, target_id: int, other_ids: Sequence[int]) -> Incident:
    """The service's merge, with the snapshot the undo needs in its audit entry."""
    target = await service.get_incident(session, target_id)
    before: dict[str, Any] = {"target": await _snapshot(session, target), "others": {}}
    for other_id in dict.fromkeys(other_ids):
        if other_id != target_id:
            before["others"][str(other_id)] = await _snapshot(session, await service.get_incident(session, other_id))
    return await service.merge(session, actor, target_id, other_ids, before=before)


async def _last_decision(session: AsyncSession, incident_id: int) -> AuditEntry | None:
    return await session.scalar(
        select(AuditEntry).where(AuditEntry.target_type == "incident", AuditEntry.target_id == str(incident_id),
                                 AuditEntry.action.not_in(_NEUTRAL))
        .order_by(AuditEntry.id.desc()).limit(1))


async def undo_merge(session: AsyncSession, actor: Principal, target_id: int) -> tuple[Incident, list[int]]:
    """Undoes the incident's latest merge; returns it and the ids of the incidents that are apart again."""
    target = await service.get_incident(session, target_id)
    await service._ensure_not_claimed_by_other(session, target, actor)
    entry = await _last_decision(session, target_id)
    detail = await audit.full_detail(session, entry) if entry is not None else {}
    if entry is None or entry.action != "incident.merge" or "before" not in detail:
        raise Conflict("Er is geen samenvoeging om ongedaan te maken: na het samenvoegen is dit incident al gewijzigd "
                       "of het is al teruggedraaid.", code="nothing_to_undo")
    if utcnow() - entry.at > UNDO_WINDOW or not isinstance(detail["before"], dict):  # not: purged long after
        raise Conflict("Samenvoegen kan tot een minuut erna ongedaan worden gemaakt. Splits de meldingen nu af.",
                       code="undo_expired")
    before: dict[str, Any] = detail["before"]
    restored = []
    for other_id, snapshot in before["others"].items():
        other = await service.get_incident(session, int(other_id))
        await session.execute(update(Report).where(Report.id.in_(snapshot["reports"]), Report.incident_id == target.id)
                              .values(incident_id=other.id))
        _restore(other, snapshot)
        restored.append(other.id)
        audit.record(session, actor, "incident.merge_undone", target_type="incident", target_id=other.id,
                     restored=[other.id], merge_entry=entry.id)
    await _restore_target(session, target, before["target"])
    for other_id in restored:  # back in the queue and on the wall (the merge's event removed them)
        other = await service.get_incident(session, other_id)
        emit(session, "incident.updated", await service.incident_event(session, other), region_id=other.region_id,
             wijk_code=other.wijk_code)
    await service._changed(session, actor, target, "incident.merge_undone", restored=restored, merge_entry=entry.id)
    return target, restored


async def _restore_target(session: AsyncSession, target: Incident, snapshot: dict[str, Any]) -> None:
    """Its own state from the snapshot; recomputed instead when a report joined it since the merge."""
    await session.flush()
    if await _report_ids(session, target.id) == snapshot["reports"]:
        _restore(target, snapshot)
    else:
        await service._recompute(session, target)
