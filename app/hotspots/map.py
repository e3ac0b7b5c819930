"""Map data for the wall, the console and beheerders: wijk polygons and active hotspots, from our own geodata.
Each principal gets the regions its screen covers: a wall its own, a beheerder those of its groups, staff
one region they ask for or all of them."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import utcnow
from app.core.deps import SessionDep, allow
from app.core.principal import Principal
from app.core.vocabulary import STAFF
from app.hotspots.models import HotspotRecord
from app.hotspots.schemas import WijkName
from app.registry.models import Gemeente, Group, Region, Wijk, beheerder_groups

router = APIRouter(tags=["kaart"])


def _feature(geometry_json: str, properties: dict[str, Any]) -> str:
    return (f'{{"type":"Feature","geometry":{geometry_json},'
            f'"properties":{json.dumps(properties, ensure_ascii=False, separators=(",", ":"))}}}')


async def map_features(session: AsyncSession, region_ids: Collection[int] | None) -> str:
    """The wijken of these regions (all when None) and the active hotspots inside them, as GeoJSON text.

    The outlines are passed on as the database holds them (JSON text), not parsed and written again: with
    real boundaries that was nearly all of the request's time (a few hundred points per wijk)."""
    query = (select(Wijk.code, Wijk.name, Gemeente.name, Gemeente.code, cast(Wijk.geometry, Text))
             .join(Gemeente, Gemeente.id == Wijk.gemeente_id).order_by(Wijk.code))
    if region_ids is not None:
        query = query.where(Gemeente.region_id.in_(region_ids))
    wijken = (await session.execute(query)).tuples().all()
    codes = {code for code, *_ in wijken}
    today = utcnow().date()
    hotspots = (await session.scalars(select(HotspotRecord).where(
        (HotspotRecord.valid_until.is_(None)) | (HotspotRecord.valid_until >= today)))).all()
    features = [
        _feature(geometry, {"kind": "wijk", "wijkcode": code, "name": name, "gemeente": gemeente,
                            "gemeentecode": gemeentecode})
        for code, name, gemeente, gemeentecode, geometry in wijken if geometry and geometry != "null"
    ]
    features += [
        _feature(json.dumps({"type": "Point", "coordinates": [h.lon, h.lat]}),
                 {"kind": "hotspot", "code": h.code, "name": h.name, "radius_m": h.radius_m,
                  "offences": h.offences, "hot_times": h.hot_times, "wijkcode": h.wijk_code})
        for h in hotspots if region_ids is None or h.wijk_code in codes
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"


async def wijk_names(session: AsyncSession, region_ids: Collection[int] | None) -> list[WijkName]:
    """The wijken of these regions (all when None) by gemeente and name, without their outlines. Sorted here,
    not by the database, so that both engines give one order whatever their collation."""
    query = select(Wijk.code, Wijk.name, Gemeente.name, Gemeente.code).join(Gemeente, Gemeente.id == Wijk.gemeente_id)
    if region_ids is not None:
        query = query.where(Gemeente.region_id.in_(region_ids))
    names = [WijkName(wijkcode=code, name=name, gemeente=gemeente, gemeentecode=gemeentecode)
             for code, name, gemeente, gemeentecode in (await session.execute(query)).tuples()]
    return sorted(names, key=lambda w: (w.gemeente.casefold(), w.name.casefold(), w.wijkcode))


async def regions_of_beheerder(session: AsyncSession, beheerder_id: int) -> set[int]:
    rows = await session.scalars(
        select(Gemeente.region_id).distinct()
        .join(Wijk, Wijk.gemeente_id == Gemeente.id).join(Group, Group.wijk_id == Wijk.id)
        .join(beheerder_groups, beheerder_groups.c.group_id == Group.id)
        .where(beheerder_groups.c.beheerder_id == beheerder_id, Gemeente.region_id.is_not(None)))
    return {region_id for region_id in rows if region_id is not None}


async def regions_shown(session: AsyncSession, principal: Principal, region_code: str | None) -> set[int] | None:
    """The regions a principal's map covers; None for all of them."""
    if principal.kind == "wall":
        return {principal.region_id} if principal.region_id is not None else set()
    if principal.kind == "beheerder":
        return await regions_of_beheerder(session, principal.id)
    if not region_code:
        return None
    region_id = await session.scalar(select(Region.id).where(Region.code == region_code))
    return {region_id} if region_id is not None else set()


GEOJSON_OBJECT: dict[int | str, dict[str, Any]] = {200: {
    "description": "Een GeoJSON FeatureCollection",
    "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}}}}


@router.get("/map", summary="Wijkgrenzen en actieve hotspots (GeoJSON, WGS84)", response_class=Response,
            responses=GEOJSON_OBJECT)
async def get_map(session: SessionDep, region: str | None = None,
                  principal: Principal = allow(*STAFF, "wall", "beheerder")) -> Response:
    """Staff may ask for one region by code (`region`), or get everything; a wall gets its own region and
    a beheerder the regions of its groups, whatever they ask for."""
    body = await map_features(session, await regions_shown(session, principal, region))
    return Response(body, media_type="application/json")


@router.get("/map/wijken", response_model=list[WijkName],
            summary="De wijken van de kaart, zonder grenzen (voor keuzelijsten)")
async def get_wijk_names(session: SessionDep, region: str | None = None,
                         principal: Principal = allow(*STAFF, "wall", "beheerder")) -> list[WijkName]:
    """The same wijken as `GET /map` for the same principal and `region`, as names only: the console's pickers
    and lists need a wijk's name, not its outline (a few hundred kilobytes for the whole country instead of
    every boundary)."""
    return await wijk_names(session, await regions_shown(session, principal, region))
