"""Imports: CBS wijk GeoJSON (RD New or WGS84), the street gazetteer, and the gemeente's group list."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import mapping, shape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.audit import service as audit
from app.core.errors import InvalidInput
from app.core.principal import Principal
from app.registry.models import Beheerder, Gemeente, Group, Street, Wijk
from app.registry.schemas import ImportResult, normalise_phone

RD_NEW = "EPSG:28992"
WGS84 = "EPSG:4326"


@dataclass(frozen=True)
class WijkFeature:
    code: str
    name: str
    gemeentecode: str
    gemeentenaam: str
    geometry: dict[str, Any]  # GeoJSON in WGS84 (lon, lat)
    centroid_lat: float
    centroid_lon: float
    households: int | None = None  # aantal huishoudens, when the file has it


# The CBS wijk- en buurtkaart names the number of households `aantal_huishoudens` (since 2022, PDOK) and
# `AANTAL_HH` or `AANT_HH` in older shapefile exports; compared case-insensitively.
HOUSEHOLD_KEYS = ("aantal_huishoudens", "aantal_hh", "aant_hh")


def _households(props: dict[str, Any], index: int) -> int | None:
    """The wijk's number of households, or None when absent or hidden: CBS writes negative codes (such as
    -99997, "geheim") where it publishes no figure."""
    lowered = {str(key).lower(): value for key, value in props.items()}
    value = next((lowered[key] for key in HOUSEHOLD_KEYS if lowered.get(key) is not None), None)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"Feature {index + 1}: aantal huishoudens '{value}' is geen getal.",
                           field=f"features[{index}].properties") from None
    if not number.is_integer():
        raise InvalidInput(f"Feature {index + 1}: aantal huishoudens '{value}' is geen geheel getal.",
                           field=f"features[{index}].properties")
    return int(number) if number >= 0 else None


def _source_crs(collection: dict[str, Any]) -> str:
    name = str(((collection.get("crs") or {}).get("properties") or {}).get("name", ""))
    if "28992" in name:
        return RD_NEW
    if name and "4326" not in name and "CRS84" not in name:
        raise InvalidInput(f"Coördinatenstelsel '{name}' wordt niet ondersteund.", field="crs")
    return WGS84


def read_wijken_geojson(data: dict[str, Any]) -> list[WijkFeature]:
    """Reads a CBS wijk- en buurtkaart FeatureCollection; RD New coordinates are projected to WGS84."""
    if data.get("type") != "FeatureCollection":
        raise InvalidInput("Dit is geen GeoJSON FeatureCollection.", field="type")
    crs = _source_crs(data)
    transformer = Transformer.from_crs(crs, WGS84, always_xy=True) if crs != WGS84 else None
    features = []
    for index, feature in enumerate(data.get("features") or []):
        props = feature.get("properties") or {}
        missing = [k for k in ("wijkcode", "wijknaam", "gemeentecode", "gemeentenaam") if not props.get(k)]
        if missing or not feature.get("geometry"):
            raise InvalidInput(f"Feature {index + 1} mist {', '.join(missing) or 'geometry'}.",
                               field=f"features[{index}]")
        geometry = shape(feature["geometry"])
        if transformer is not None:
            geometry = _reproject(geometry, transformer)
        centroid = geometry.representative_point()
        features.append(WijkFeature(
            code=str(props["wijkcode"]), name=str(props["wijknaam"]), gemeentecode=str(props["gemeentecode"]),
            gemeentenaam=str(props["gemeentenaam"]), geometry=_rounded(mapping(geometry)),
            centroid_lat=round(centroid.y, 6), centroid_lon=round(centroid.x, 6),
            households=_households(props, index),
        ))
    return features


def _reproject(geometry: Any, transformer: Transformer) -> Any:
    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, project)


def _rounded(geometry: Any) -> Any:
    """Six decimals is about 10 cm: plenty for a wijk, and keeps the stored JSON small."""
    if isinstance(geometry, float):
        return round(geometry, 6)
    if isinstance(geometry, list | tuple):
        return [_rounded(item) for item in geometry]
    if isinstance(geometry, dict):
        return {key: _rounded(value) for key, value in geometry.items()}
    return geometry


def load_json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path.name} is geen geldige JSON: {exc.msg} (regel {exc.lineno}).") from exc


async def upsert_wijken(session: AsyncSession, actor: Principal, features: Iterable[WijkFeature]) -> ImportResult:
    result = ImportResult(created=0, updated=0, rows=0)
    gemeenten = {g.code: g for g in (await session.scalars(select(Gemeente))).all()}
    existing = {w.code: w for w in (await session.scalars(select(Wijk))).all()}
    for feature in features:
        result.rows += 1
        gemeente = gemeenten.get(feature.gemeentecode)
        if gemeente is None:
            gemeente = Gemeente(code=feature.gemeentecode, name=feature.gemeentenaam)
            session.add(gemeente)
            await session.flush()
            gemeenten[gemeente.code] = gemeente
        values = dict(name=feature.name, gemeente_id=gemeente.id, geometry=feature.geometry,
                      centroid_lat=feature.centroid_lat, centroid_lon=feature.centroid_lon)
        if feature.households is not None:  # a file without the figure keeps the one set before
            values["households"] = feature.households
        wijk = existing.get(feature.code)
        if wijk is None:
            session.add(Wijk(code=feature.code, **values))
            result.created += 1
        elif _apply(wijk, values):
            result.updated += 1
        else:
            result.unchanged += 1
    audit.record(session, actor, "import.wijken", created=result.created, updated=result.updated)
    await session.commit()
    return result


def _apply(obj: object, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def read_streets_csv(text: str) -> list[tuple[str, str, float, float]]:
    """Gazetteer rows `street,wijkcode,lat,lon` (WGS84)."""
    rows = []
    reader = csv.DictReader(io.StringIO(text))
    required = {"street", "wijkcode", "lat", "lon"}
    if not reader.fieldnames or not required <= set(reader.fieldnames):
        raise InvalidInput("Het straten-CSV moet de kolommen street, wijkcode, lat en lon hebben.")
    for line, row in enumerate(reader, start=2):
        try:
            rows.append((row["street"].strip(), row["wijkcode"].strip(), float(row["lat"]), float(row["lon"])))
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"Regel {line}: lat/lon zijn geen getallen.", field=f"regel {line}") from exc
    return rows


async def upsert_streets(session: AsyncSession, actor: Principal,
                         rows: Iterable[tuple[str, str, float, float]]) -> ImportResult:
    result = ImportResult(created=0, updated=0, rows=0)
    wijken = {w.code: w.id for w in (await session.scalars(select(Wijk))).all()}
    existing = {(s.name, s.wijk_id): s for s in (await session.scalars(select(Street))).all()}
    for name, wijkcode, lat, lon in rows:
        result.rows += 1
        wijk_id = wijken.get(wijkcode)
        if wijk_id is None:
            raise InvalidInput(f"Straat '{name}': onbekende wijkcode '{wijkcode}'. Importeer eerst de wijken.",
                               field="wijkcode")
        street = existing.get((name, wijk_id))
        if street is None:
            session.add(Street(name=name, wijk_id=wijk_id, lat=lat, lon=lon))
            result.created += 1
        elif _apply(street, {"lat": lat, "lon": lon}):
            result.updated += 1
        else:
            result.unchanged += 1
    audit.record(session, actor, "import.streets", created=result.created, updated=result.updated)
    await session.commit()
    return result


# ---- the gemeente's overview of groups (table 5.1: "bijhouden overzicht groepen") ---------------

GROUP_CSV_COLUMNS = ("groep", "wijkcode", "aantal_leden", "beheerder", "telefoon", "email", "kanalen")


@dataclass(frozen=True)
class GroupRow:
    line: int
    group: str
    wijkcode: str
    members: int
    beheerder: str
    phone: str | None
    email: str | None
    channels: list[str]


def parse_groups_csv(text: str) -> list[GroupRow]:
    """One row per (group, beheerder). ';' (Dutch spreadsheets) or ',' as separator. Every bad line is
    reported at once, so the gemeente can fix the file in one go."""
    text = text.lstrip("\ufeff")
    first_line = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("groep", "wijkcode", "beheerder") if c not in header]
    if missing:
        raise InvalidInput(f"Kolom(men) ontbreken: {', '.join(missing)}. Verwacht: {', '.join(GROUP_CSV_COLUMNS)}.",
                           field="csv")
    reader.fieldnames = header
    rows, errors = [], []
    for line, raw in enumerate(reader, start=2):
        try:
            rows.append(_group_row(line, {k: (v or "").strip() for k, v in raw.items() if k}))
        except ValueError as exc:
            errors.append(f"regel {line}: {exc}")
    if errors:
        raise InvalidInput("; ".join(errors[:20]), field="csv", code="csv_invalid")
    if not rows:
        raise InvalidInput("Het bestand bevat geen groepen.", field="csv")
    return rows


def _group_row(line: int, raw: dict[str, str]) -> GroupRow:
    if not raw.get("groep") or not raw.get("wijkcode") or not raw.get("beheerder"):
        raise ValueError("groep, wijkcode en beheerder zijn verplicht")
    members = raw.get("aantal_leden") or "0"
    if not members.isdigit():
        raise ValueError(f"aantal_leden '{members}' is geen getal")
    channels = [c.strip().lower() for c in (raw.get("kanalen") or "whatsapp").replace("|", ",").split(",")]
    unknown = [c for c in channels if c not in ("whatsapp", "app", "webhook", "email")]
    if unknown:
        raise ValueError(f"onbekend kanaal '{unknown[0]}'")
    phone = normalise_phone(raw["telefoon"]) if raw.get("telefoon") else None
    return GroupRow(line=line, group=raw["groep"], wijkcode=raw["wijkcode"], members=int(members),
                    beheerder=raw["beheerder"], phone=phone, email=raw.get("email") or None,
                    channels=[c for c in channels if c])


async def import_groups(session: AsyncSession, actor: Principal, rows: list[GroupRow]) -> ImportResult:
    """Upserts groups by (name, wijk) and beheerders by phone (else by name); all or nothing."""
    wijken = {w.code: w for w in (await session.scalars(select(Wijk))).all()}
    unknown = sorted({f"regel {r.line}: {r.wijkcode}" for r in rows if r.wijkcode not in wijken})
    if unknown:
        raise InvalidInput(f"Onbekende wijkcode(s): {', '.join(unknown[:20])}.", field="wijkcode")
    result = ImportResult(created=0, updated=0, rows=len(rows))
    for row in rows:
        group = await _upsert_group(session, row, wijken[row.wijkcode], result)
        beheerder = await _upsert_beheerder(session, row, result)
        if group not in beheerder.groups:
            beheerder.groups.append(group)
    audit.record(session, actor, "import.groups", rows=result.rows, created=result.created,
                 updated=result.updated)
    await session.commit()
    return result


async def _upsert_group(session: AsyncSession, row: GroupRow, wijk: Wijk, result: ImportResult) -> Group:
    group = await session.scalar(select(Group).where(Group.name == row.group, Group.wijk_id == wijk.id))
    if group is None:
        group = Group(name=row.group, wijk_id=wijk.id, member_count=row.members)
        session.add(group)
        await session.flush()
        result.created += 1
    elif group.member_count != row.members:
        group.member_count = row.members
        result.updated += 1
    return group


async def _upsert_beheerder(session: AsyncSession, row: GroupRow, result: ImportResult) -> Beheerder:
    query = select(Beheerder).where(
        Beheerder.phone == row.phone if row.phone else Beheerder.name == row.beheerder
    )
    beheerder = await session.scalar(query.options(selectinload(Beheerder.groups)))
    if beheerder is None:
        beheerder = Beheerder(name=row.beheerder, phone=row.phone, email=row.email, channels=row.channels,
                              groups=[])
        session.add(beheerder)
        await session.flush()
        result.created += 1
    elif _apply(beheerder, {"name": row.beheerder, "email": row.email or beheerder.email,
                            "channels": row.channels}):
        result.updated += 1
    return beheerder
