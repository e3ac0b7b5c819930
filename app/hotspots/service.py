"""Hotspots and signalementen in the database: import, upsert, and reading them back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.principal import Principal
from app.hotspots.models import HotspotRecord, SignalementRecord
from app.registry.schemas import ImportResult
from app.triage.geo import parse_hot_time


async def upsert_hotspots(session: AsyncSession, actor: Principal, rows: list[dict[str, Any]]) -> ImportResult:
    return await _upsert(session, actor, HotspotRecord, rows, "import.hotspots")


async def upsert_signalementen(session: AsyncSession, actor: Principal,
                               rows: list[dict[str, Any]]) -> ImportResult:
    return await _upsert(session, actor, SignalementRecord, rows, "import.signalementen")


KnowledgeRecord = HotspotRecord | SignalementRecord


async def _upsert(session: AsyncSession, actor: Principal, model: type[KnowledgeRecord],
                  rows: list[dict[str, Any]], action: str) -> ImportResult:
    result = ImportResult(created=0, updated=0, rows=len(rows))
    records: list[KnowledgeRecord] = list((await session.scalars(select(model))).all())  # type: ignore[arg-type]
    existing = {r.code: r for r in records}
    for row in rows:
        record = existing.get(row["code"])
        if record is None:
            session.add(model(**row))
            result.created += 1
            continue
        changed = False
        for key, value in row.items():
            if getattr(record, key) != value:
                setattr(record, key, value)
                changed = True
        result.updated += changed
        result.unchanged += not changed
    audit.record(session, actor, action, created=result.created, updated=result.updated)
    await session.commit()
    return result


# ---- CRUD by wijkagenten and analysts ----------------------------------------------------------------


async def list_hotspots(session: AsyncSession, *, active_on: date | None = None) -> list[HotspotRecord]:
    query = select(HotspotRecord).order_by(HotspotRecord.code)
    if active_on is not None:
        query = query.where((HotspotRecord.valid_until.is_(None)) | (HotspotRecord.valid_until >= active_on),
                            (HotspotRecord.valid_from.is_(None)) | (HotspotRecord.valid_from <= active_on))
    return list((await session.scalars(query)).all())


async def _get_by_code(session: AsyncSession, model: type[KnowledgeRecord], code: str) -> Any:
    record = await session.scalar(select(model).where(model.code == code))
    if record is None:
        raise NotFound(f"'{code}'")
    return record


def _check_hot_times(hot_times: list[str]) -> None:
    for index, spec in enumerate(hot_times):
        try:
            parse_hot_time(spec)
        except ValueError as exc:
            raise InvalidInput(f"Tijdvak '{spec}' is ongeldig: gebruik HH:MM-HH:MM, eventueel met een dag "
                               "ervoor ('Sa 20:00-02:00').", field=f"hot_times[{index}]") from exc


def _check_validity(start: date | datetime | None, end: date | datetime | None) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidInput("De einddatum ligt voor de begindatum.", field="valid_until")


async def create_hotspot(session: AsyncSession, actor: Principal, values: dict[str, Any]) -> HotspotRecord:
    _check_hot_times(values.get("hot_times") or [])
    _check_validity(values.get("valid_from"), values.get("valid_until"))
    record: HotspotRecord = await _create(session, actor, HotspotRecord, "hotspot", values)
    return record


async def update_hotspot(session: AsyncSession, actor: Principal, code: str, changes: dict[str, Any]) -> HotspotRecord:
    _check_hot_times(changes.get("hot_times") or [])
    record: HotspotRecord = await _update(session, actor, HotspotRecord, "hotspot", code, changes,
                                          lambda r: _check_validity(r.valid_from, r.valid_until))
    return record


async def _create(session: AsyncSession, actor: Principal, model: type[KnowledgeRecord], kind: str,
                  values: dict[str, Any]) -> Any:
    if await session.scalar(select(model.id).where(model.code == values["code"])):
        raise Conflict(f"{kind.capitalize()} '{values['code']}' bestaat al.", field="code")
    record = model(**values)
    session.add(record)
    audit.record(session, actor, f"{kind}.create", target_type=kind, target_id=values["code"])
    await session.commit()
    return record


async def _update(session: AsyncSession, actor: Principal, model: type[KnowledgeRecord], kind: str, code: str,
                  changes: dict[str, Any], check: Callable[[Any], None]) -> Any:
    record = await _get_by_code(session, model, code)
    for key, value in changes.items():
        setattr(record, key, value)
    check(record)
    audit.record(session, actor, f"{kind}.update", target_type=kind, target_id=code, fields=sorted(changes))
    await session.commit()
    return record


async def delete_knowledge(session: AsyncSession, actor: Principal, model: type[KnowledgeRecord], code: str) -> None:
    record = await _get_by_code(session, model, code)
    await session.delete(record)
    audit.record(session, actor, f"{model.__tablename__}.delete", target_type=model.__tablename__, target_id=code)
    await session.commit()


async def list_signalementen(session: AsyncSession, *, active_at: datetime | None = None) -> list[SignalementRecord]:
    query = select(SignalementRecord).order_by(SignalementRecord.code)
    if active_at is not None:
        query = query.where(SignalementRecord.issued_at <= active_at, SignalementRecord.valid_until >= active_at)
    return list((await session.scalars(query)).all())


async def create_signalement(session: AsyncSession, actor: Principal, values: dict[str, Any]) -> SignalementRecord:
    _check_validity(values["issued_at"], values["valid_until"])
    record: SignalementRecord = await _create(session, actor, SignalementRecord, "signalement", values)
    return record


async def update_signalement(session: AsyncSession, actor: Principal, code: str,
                             changes: dict[str, Any]) -> SignalementRecord:
    record: SignalementRecord = await _update(session, actor, SignalementRecord, "signalement", code, changes,
                                              lambda r: _check_validity(r.issued_at, r.valid_until))
    return record
