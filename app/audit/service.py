"""Writing and reading the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.core.principal import Principal
from app.stats.models import FactChange


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
        actor_name=actor.name if actor else None,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        source_ip=source_ip or (actor.source_ip if actor else None),
        detail=detail,
    )
    session.add(entry)
    _queue_fact_change(session, target_type, target_id)
    return entry


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
