"""Readers of the hotspot and signalement reference files: one parser for each, used by the import
(app.hotspots.service) and by the knowledge base that eval-triage builds from files (app.triage.knowledge)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.core.errors import InvalidInput
from app.triage.geo import AMSTERDAM


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
                "code": str(item["id"]), "issued_at": _aware(item["issued_at"]),
                "valid_until": _aware(item["valid_until"]),
                "wijkcodes": list(item.get("wijkcodes") or []), "offence": item.get("offence"),
                "description": str(item["description"]), "keywords": list(item.get("keywords") or []),
            })
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"Signalement {index + 1} is onvolledig of ongeldig.",
                               field=f"[{index}]") from exc
    return rows


def _date(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _aware(value: Any) -> datetime:
    """A time without an offset is local time in the Netherlands (the file's authors write it so)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=AMSTERDAM)
