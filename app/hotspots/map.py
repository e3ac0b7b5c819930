"""Map data for the wall and the console: wijk polygons and active hotspots, from our own geodata."""

from __future__ import annotations

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
from app.registry.models import Gemeente, Region, Wijk

router = APIRouter(tags=["kaart"])


async def map_features(session: AsyncSession, region_id: int | None) -> dict[str, Any]:
    query = select(Wijk).join(Wijk.gemeente).options(selectinload(Wijk.gemeente)).order_by(Wijk.code)
    if region_id is not None:
        query = query.where(Gemeente.region_id == region_id)
    wijken = list((await session.scalars(query)).all())
    codes = {w.code for w in wijken}
    today = utcnow().date()
    hotspots = (await session.scalars(select(HotspotRecord).where(
        (HotspotRecord.valid_until.is_(None)) | (HotspotRecord.valid_until >= today)))).all()
    features = [
        {"type": "Feature", "geometry": w.geometry,
         "properties": {"kind": "wijk", "wijkcode": w.code, "name": w.name, "gemeente": w.gemeente.name}}
        for w in wijken if w.geometry
    ]
    features += [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [h.lon, h.lat]},
         "properties": {"kind": "hotspot", "code": h.code, "name": h.name, "radius_m": h.radius_m,
                        "offences": h.offences, "hot_times": h.hot_times, "wijkcode": h.wijk_code}}
        for h in hotspots if region_id is None or h.wijk_code in codes
    ]
    return {"type": "FeatureCollection", "features": features}


@router.get("/map", summary="Wijkgrenzen en actieve hotspots (GeoJSON, WGS84)")
async def get_map(session: SessionDep, region: str | None = None,
                  principal: Principal = allow(*STAFF, "wall", "beheerder")) -> dict[str, Any]:
    """A wall gets its own region; staff may ask for one region by code, or get everything."""
    region_id = principal.region_id if principal.kind == "wall" else None
    if region and principal.kind != "wall":
        region_id = await session.scalar(select(Region.id).where(Region.code == region))
    return await map_features(session, region_id)
