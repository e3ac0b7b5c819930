"""Writing and reading the audit log. The personal fields of a detail are written beside the entry
(`AuditPersonal`), where the retention purge can clear them; reading puts them back while they exist."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry, AuditPersonal
from app.core.principal import Principal
from app.stats.models import FactChange

# Detail fields that can name or place a person, by the purge kind whose retention period they follow
# (docs/privacy.md). Every other field is a non-personal fact (ids, codes, counts, field names) and stays.
PERSONAL_FIELDS: dict[str, str] = {
    "reason": "notes",  # incident.update: an operator's override reason; incident.keep: why it is kept
    "values.lat": "locations",  # incident.update: where an operator moved the incident
    "values.lon": "locations",
    "before": "report_texts",  # incident.merge: the undo's snapshot (summaries quote reports; points)
    "login_name": "login_names",  # login.failed, login.locked: the account a failed login tried
}
# What a reader sees in place of a personal field the purge removed.
PURGED = "verwijderd na bewaartermijn"


def record(
    session: AsyncSession,
    actor: Principal | None,
    action: str,
    *,
    target_type: str | None = None,
    target_id: object = None,
    source_ip: str | None = None,
    **detail: Any,
) -> AuditEntry:
    """Adds an audit entry to the caller's transaction: it commits or rolls back with the change."""
    entry = AuditEntry(
        actor_type=actor.kind if actor else "anonymous",
        actor_id=actor.id if actor else None,
        actor_name=_actor_name(actor),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        source_ip=source_ip or (actor.source_ip if actor else None),
    )
    entry.detail, personal = split_personal(detail)
    session.add(entry)
    for kind, details in personal.items():
        session.add(AuditPersonal(entry=entry, kind=kind, fields=sorted(details), details=details))
    _queue_fact_change(session, target_type, target_id)
    return entry


def _actor_name(actor: Principal | None) -> str | None:
    """Staff, walls and the system are named for accountability. A beheerder is a private person: the id
    names them while the registry does, and an erasure leaves no name behind in the append-only log."""
    if actor is None or actor.kind == "beheerder":
        return None
    return actor.name


def _queue_fact_change(session: AsyncSession, target_type: str | None, target_id: object) -> None:
    """An audited action on a report or an incident can change what its reports count as in the evaluation
    (and is the first operator action): app.stats.facts computes their facts again."""
    if target_type not in ("incident", "report") or not str(target_id).isdigit():
        return
    if target_type == "incident":
        session.add(FactChange(incident_id=int(str(target_id))))
    else:
        session.add(FactChange(report_id=int(str(target_id))))


async def list_entries(
    session: AsyncSession,
    *,
    action: str | None = None,
    actor_type: str | None = None,
    actor_id: int | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> Sequence[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor_type:
        query = query.where(AuditEntry.actor_type == actor_type)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if since:
        query = query.where(AuditEntry.at >= since)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    return (await session.scalars(query)).all()


def split_personal(detail: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The detail without its personal fields, and those fields by purge kind ({kind: {path: value}}). An
    empty value (None, "") names nobody and stays in the entry."""
    public = _copied(detail)
    personal: dict[str, dict[str, Any]] = {}
    for path, kind in PERSONAL_FIELDS.items():
        parent, _, key = path.rpartition(".")
        holder = public.get(parent) if parent else public
        if isinstance(holder, dict) and holder.get(key) not in (None, ""):
            personal.setdefault(kind, {})[path] = holder.pop(key)
    return public, personal


async def full_details(session: AsyncSession, entries: Sequence[AuditEntry]) -> dict[int, dict[str, Any]]:
    """Each entry's detail with its personal fields put back, or PURGED where the purge removed them."""
    rows = (await session.scalars(select(AuditPersonal).where(
        AuditPersonal.audit_entry_id.in_([entry.id for entry in entries])))).all() if entries else []
    by_entry: dict[int, list[AuditPersonal]] = {}
    for row in rows:
        by_entry.setdefault(row.audit_entry_id, []).append(row)
    return {entry.id: _merged(entry.detail or {}, by_entry.get(entry.id, ())) for entry in entries}


async def full_detail(session: AsyncSession, entry: AuditEntry) -> dict[str, Any]:
    return (await full_details(session, [entry]))[entry.id]


def _merged(detail: dict[str, Any], personal: Iterable[AuditPersonal]) -> dict[str, Any]:
    merged = _copied(detail)
    for row in personal:
        for path in row.fields:
            value = row.details.get(path) if row.details is not None else PURGED
            parent, _, key = path.rpartition(".")
            holder = merged.setdefault(parent, {}) if parent else merged
            if isinstance(holder, dict):
                holder[key] = value
    return merged


def _copied(detail: dict[str, Any]) -> dict[str, Any]:
    """A copy deep enough to move fields in and out of (the personal paths are at most one level down)."""
    return {key: dict(value) if isinstance(value, dict) else value for key, value in detail.items()}
