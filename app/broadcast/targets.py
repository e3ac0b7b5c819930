"""Which wijken an alert goes to: named wijken, whole gemeenten, and every wijk a circle touches.

The circle test is done in metres: the centre and the wijk polygons (GeoJSON, WGS84) are projected to
RD New (EPSG:28992), the centre is buffered by the radius and intersected with each polygon."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from pyproj import Transformer
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import InvalidInput
from app.registry.models import Gemeente, Wijk

_TO_RD = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class TargetWijk:
    code: str
    gemeentecode: str
    region_id: int | None


class _ProjectedCache:
    """Wijk polygons in RD New, keyed by wijkcode and the geometry itself (so an import refreshes it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[str, BaseGeometry]] = {}

    def get(self, code: str, geometry: Mapping[str, Any]) -> BaseGeometry:
        key = json.dumps(geometry, sort_keys=True)
        with self._lock:
            cached = self._items.get(code)
            if cached is not None and cached[0] == key:
                return cached[1]
        projected = shapely.transform(shape(geometry), _TO_RD.transform, interleaved=False)
        with self._lock:
            self._items[code] = (key, projected)
        return projected


_projected = _ProjectedCache()


def circle_in_rd(circle: Circle) -> BaseGeometry:
    x, y = _TO_RD.transform(circle.lon, circle.lat)
    return Point(x, y).buffer(circle.radius_m, quad_segs=32)


def wijken_touched(circle: Circle, wijken: Iterable[Wijk]) -> list[str]:
    area = circle_in_rd(circle)
    return [w.code for w in wijken if w.geometry and _projected.get(w.code, w.geometry).intersects(area)]


async def resolve_wijken(session: AsyncSession, *, wijkcodes: Sequence[str], gemeentecodes: Sequence[str],
                         circle: Circle | None) -> list[TargetWijk]:
    """The union of the three target kinds, sorted by wijkcode. Unknown codes are 422 with their field."""
    rows = (await session.execute(select(Wijk, Gemeente).join(Gemeente, Wijk.gemeente_id == Gemeente.id))).all()
    by_code = {wijk.code: (wijk, gemeente) for wijk, gemeente in rows}
    known_gemeenten = {gemeente.code for _, gemeente in rows} | set(
        (await session.scalars(select(Gemeente.code))).all())
    chosen: set[str] = set()
    for index, code in enumerate(wijkcodes):
        if code not in by_code:
            raise InvalidInput(f"Wijk {code} bestaat niet.", field=f"target.wijkcodes[{index}]", code="unknown_wijk")
        chosen.add(code)
    for index, code in enumerate(gemeentecodes):
        if code not in known_gemeenten:
            raise InvalidInput(f"Gemeente {code} bestaat niet.", field=f"target.gemeentecodes[{index}]",
                               code="unknown_gemeente")
        chosen.update(w.code for w, g in by_code.values() if g.code == code)
    if circle is not None:
        chosen.update(wijken_touched(circle, (wijk for wijk, _ in by_code.values())))
    return [TargetWijk(code, by_code[code][1].code, by_code[code][1].region_id) for code in sorted(chosen)]
