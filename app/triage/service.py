"""Hotspots and signalementen in the database: import, upsert, and reading them back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.core.errors import InvalidInput
from app.core.principal import Principal
from app.registry.schemas import ImportResult
from app.triage.models import HotspotRecord, SignalementRecord


def read_hotspots_geojson(data: dict[str, Any]) -> list[dict[str, Any]]:
    """WGS84 points with radius_m, offences, hot_times, note and valid_until."""
    if data.get("type") != "FeatureCollection":
        raise InvalidInput("Dit is geen GeoJSON FeatureCollection.", field="type")
    rows = []
    for index, feature in enumerate(data.get("features") or []):
        props = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        if geometry.get("type") != "Point" or not props.get("id") or not props.get("radius_m"):
            raise InvalidInput(f"Hotspot {index + 1} mist id, radius_m of een puntgeometrie.",
                               field=f"features[{index}]")
        lon, lat = geometry["coordinates"][:2]
        rows.append({
            "code": str(props["id"]), "name": str(props.get("name") or props["id"]),
            "wijk_code": props.get("wijkcode"), "lat": float(lat), "lon": float(lon),
            "radius_m": int(props["radius_m"]), "offences": list(props.get("offences") or []),
            "hot_times": list(props.get("hot_times") or []), "note": props.get("note"),
            "valid_from": _date(props.get("valid_from")), "valid_until": _date(props.get("valid_until")),
        })
    return rows


def read_signalementen_json(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        raise InvalidInput("Het signalementenbestand moet een lijst zijn.")
    rows = []
    for index, item in enumerate(data):
        try:
            rows.append({
                "code": str(item["id"]), "issued_at": datetime.fromisoformat(item["issued_at"]),
                "valid_until": datetime.fromisoformat(item["valid_until"]),
                "wijkcodes": list(item.get("wijkcodes") or []), "offence": item.get("offence"),
                "description": str(item["description"]), "keywords": list(item.get("keywords") or []),
            })
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"Signalement {index + 1} is onvolledig of ongeldig.",
                               field=f"[{index}]") from exc
    return rows


def _date(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


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
