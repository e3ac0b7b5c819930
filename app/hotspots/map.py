"""Map data for the wall, the console and beheerders: wijk polygons and active hotspots, from our own geodata.
Each principal gets the regions its screen covers: a wall its own, a beheerder those of its groups, staff
one region they ask for or all of them."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core.database import utcnow
from app.core.deps import SessionDep, allow
from app.core.principal import Principal
from app.core.vocabulary import STAFF
from app.hotspots.models import HotspotRecord
from app.hotspots.schemas import WijkName
from app.registry.models import Gemeente, Group, Region, Wijk, beheerder_groups

router = APIRouter(tags=["kaart"])


async def map_features(session: AsyncSession, region_ids: Collection[int] | None) -> dict[str, Any]:
    """The wijken of these regions (all when None) and the active hotspots inside them."""
    query = select(Wijk).join(Wijk.gemeente).options(selectinload(Wijk.gemeente)).order_by(Wijk.code)
    if region_ids is not None:
        query = query.where(Gemeente.region_id.in_(region_ids))
    wijken = list((await session.scalars(query)).all())
    codes = {w.code for w in wijken}
    today = utcnow().date()
    hotspots = (await session.scalars(select(HotspotRecord).where(
        (HotspotRecord.valid_until.is_(None)) | (HotspotRecord.valid_until >= today)))).all()
    features = [
        {"type": "Feature", "geometry": w.geometry,
         "properties": {"kind": "wijk", "wijkcode": w.code, "name": w.name, "gemeente": w.gemeente.name,
                        "gemeentecode": w.gemeente.code}}
        for w in wijken if w.geometry
    ]
    features += [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [h.lon, h.lat]},
         "properties": {"kind": "hotspot", "code": h.code, "name": h.name, "radius_m": h.radius_m,
                        "offences": h.offences, "hot_times": h.hot_times, "wijkcode": h.wijk_code}}
        for h in hotspots if region_ids is None or h.wijk_code in codes
    ]
    return {"type": "FeatureCollection", "features": features}


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


@router.get("/map", summary="Wijkgrenzen en actieve hotspots (GeoJSON, WGS84)")
async def get_map(session: SessionDep, region: str | None = None,
                  principal: Principal = allow(*STAFF, "wall", "beheerder")) -> dict[str, Any]:
    """Staff may ask for one region by code (`region`), or get everything; a wall gets its own region and
    a beheerder the regions of its groups, whatever they ask for."""
    return await map_features(session, await regions_shown(session, principal, region))


@router.get("/map/wijken", response_model=list[WijkName],
            summary="De wijken van de kaart, zonder grenzen (voor keuzelijsten)")
async def get_wijk_names(session: SessionDep, region: str | None = None,
                         principal: Principal = allow(*STAFF, "wall", "beheerder")) -> list[WijkName]:
    """The same wijken as `GET /map` for the same principal and `region`, as names only: the console's pickers
    and lists need a wijk's name, not its outline (a few hundred kilobytes for the whole country instead of
    every boundary)."""
    return await wijk_names(session, await regions_shown(session, principal, region))
