"""The evaluation's wijk map: reports per 1,000 households per wijk, and the wijken's outlines to draw it.

The outlines are simplified and projected to RD New (EPSG:28992) in whole metres, written as SVG path data
with y pointing down, so that the page draws them as they come: the least data and no map library."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import shape
from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.registry.models import Gemeente, Wijk
from app.stats.scope import Scope

RD_NEW = "EPSG:28992"
SIMPLIFY_METRES = 15.0  # invisible at the size a wijk is drawn on the page


def per_thousand(reports: int, households: int | None) -> float | None:
    return round(reports * 1000 / households, 2) if households else None


async def households_of(session: AsyncSession, codes: Iterable[str]) -> dict[str, int | None]:
    rows = await session.execute(select(Wijk.code, Wijk.households).where(Wijk.code.in_(sorted(set(codes)))))
    return dict(rows.tuples().all())


async def with_households(session: AsyncSession, figures: dict[str, Any]) -> dict[str, Any]:
    """Adds to each row of `reports_by_category.per_wijk` its reports, households and reports per 1,000
    households (None when the wijk's households are not known)."""
    rows = figures["per_wijk"]
    households = await households_of(session, (row["wijkcode"] for row in rows))
    figures["per_wijk"] = [
        {**row, "reports": row["total"], "households": households.get(row["wijkcode"]),
         "reports_per_1000_households": per_thousand(row["total"], households.get(row["wijkcode"]))}
        for row in rows]
    return figures


@lru_cache(maxsize=1)
def _to_rd() -> Transformer:
    return Transformer.from_crs("EPSG:4326", RD_NEW, always_xy=True)


def _ring_path(coords: Any) -> str:
    points = [f"{round(x)} {-round(y)}" for x, y in coords[:-1]]  # y negated: SVG's y grows downwards
    return "M" + "L".join(points) + "Z"


Outline = tuple[str, tuple[float, float, float, float]]


def outline_path(geometry: dict[str, Any]) -> Outline:
    """SVG path data of a WGS84 GeoJSON (multi)polygon in RD metres, and its bounds (x0, y0, x1, y1) in the
    path's own coordinates."""
    drawn = shapely.transform(shape(geometry), _project).simplify(SIMPLIFY_METRES)
    polygons = getattr(drawn, "geoms", [drawn])
    path = "".join(_ring_path(ring.coords) for polygon in polygons
                   for ring in (polygon.exterior, *polygon.interiors))
    x0, y0, x1, y1 = drawn.bounds
    return path, (round(x0), -round(y1), round(x1), -round(y0))


class OutlineCache:
    """Each wijk's outline, kept per wijk code with a digest of the geometry it was drawn from: a wijk's outline
    changes only with an import, and then it is drawn again. The memory is one path per wijk (the country has
    ~3,300), never one per geometry ever seen."""

    def __init__(self, max_wijken: int = 10_000) -> None:
        self._max_wijken = max_wijken
        self._outlines: dict[str, tuple[bytes, Outline]] = {}

    def outline(self, wijkcode: str, geometry_json: str) -> Outline:
        """The outline of the geometry (GeoJSON text as the database holds it: only a change is parsed)."""
        digest = hashlib.blake2b(geometry_json.encode(), digest_size=16).digest()
        kept = self._outlines.get(wijkcode)
        if kept is not None and kept[0] == digest:
            return kept[1]
        outline = outline_path(json.loads(geometry_json))
        if kept is None and len(self._outlines) >= self._max_wijken:
            self._outlines.pop(next(iter(self._outlines)))
        self._outlines[wijkcode] = (digest, outline)
        return outline

    def __len__(self) -> int:
        return len(self._outlines)


OUTLINES = OutlineCache()


def _project(coords: np.ndarray) -> np.ndarray:
    x, y = _to_rd().transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def _wijken_in_scope(scope: Scope) -> Any:
    query = (select(Wijk.code, Wijk.name, Gemeente.code, Gemeente.name, Wijk.households, cast(Wijk.geometry, Text))
             .join(Gemeente, Gemeente.id == Wijk.gemeente_id).where(Wijk.geometry.is_not(None)).order_by(Wijk.code))
    return query if scope.wijkcodes is None else query.where(Wijk.code.in_(sorted(scope.wijkcodes)))


def _view_box(boxes: list[tuple[float, float, float, float]]) -> list[float]:
    """[x, y, width, height] around the boxes, with a margin of 2% so that no outline touches the edge."""
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    margin = round(max(x1 - x0, y1 - y0) * 0.02)
    return [x0 - margin, y0 - margin, x1 - x0 + 2 * margin, y1 - y0 + 2 * margin]


async def wijk_map(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    """Every wijk in the scope that has an outline (names, households, its SVG path), per gemeente with the
    view box around its wijken: gemeenten lie tens of kilometres apart, so each gets its own small map."""
    gemeenten: dict[str, dict[str, Any]] = {}
    boxes: dict[str, list[tuple[float, float, float, float]]] = {}
    for code, name, gemeentecode, gemeente, households, geometry in (await session.execute(_wijken_in_scope(scope))):
        if not geometry or geometry == "null":  # JSON null: no outline imported
            continue
        path, box = OUTLINES.outline(code, geometry)
        entry = gemeenten.setdefault(gemeentecode, {"gemeentecode": gemeentecode, "gemeente": gemeente, "wijken": []})
        entry["wijken"].append({"wijkcode": code, "wijk": name, "households": households, "path": path})
        boxes.setdefault(gemeentecode, []).append(box)
    ordered = sorted(gemeenten.values(), key=lambda entry: entry["gemeente"])
    return {"crs": RD_NEW, "gemeenten": [{**entry, "view_box": _view_box(boxes[entry["gemeentecode"]])}
                                         for entry in ordered]}
