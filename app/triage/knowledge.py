"""The knowledge base triage weighs reports against: wijken, streets, hotspots, signalementen, lexicon.

`build_knowledge_base` is pure (rows in, indexes out) so the service layer can build it from database
rows; the `load_*` functions read the reference files in config/.
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml
from pyproj import CRS, Transformer
from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from app.core.settings import config_dir as default_config_dir
from app.triage.geo import AMSTERDAM, HotWindow, parse_hot_time
from app.triage.keywords import KeywordPattern, compile_keyword
from app.triage.lexicon import CompiledLexicon, Lexicon, compile_lexicon, parse_lexicon
from app.triage.lexicon.schema import LexiconSchemaError, line_of
from app.triage.location import Street, StreetIndex, build_street_index, street_points_from_rows

__all__ = [
    "Hotspot", "KnowledgeBase", "KnowledgeBaseCache", "Lexicon", "Signalement", "Street", "Wijk",
    "build_knowledge_base", "default_config_dir", "directory_fingerprint", "hotspots_from_geojson",
    "load_hotspots_geojson", "load_knowledge_base_from_dir", "load_lexicon", "load_signalementen_json",
    "load_streets_csv", "load_wijken_geojson", "signalementen_from_json", "wijken_from_geojson",
]

WGS84 = CRS.from_epsg(4326)


@dataclass(frozen=True)
class Wijk:
    code: str
    name: str
    gemeentecode: str
    gemeentenaam: str
    polygon: BaseGeometry  # WGS84, x = lon, y = lat


@dataclass(frozen=True)
class Hotspot:
    id: str
    name: str
    wijkcode: str | None
    lat: float
    lon: float
    radius_m: float
    offences: tuple[str, ...]
    hot_times: tuple[str, ...]
    note: str | None = None
    valid_until: date | None = None
    valid_from: date | None = None

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and \
            (self.valid_until is None or day <= self.valid_until)


@dataclass(frozen=True)
class Signalement:
    id: str
    issued_at: datetime
    valid_until: datetime
    wijkcodes: tuple[str, ...]
    offence: str | None
    description: str
    keywords: tuple[str, ...]

    def active_at(self, when: datetime) -> bool:
        return _as_aware(self.issued_at) <= _as_aware(when) <= _as_aware(self.valid_until)


def _as_aware(moment: datetime) -> datetime:
    """Naive datetimes (e.g. read back from SQLite) are taken as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, eq=False)
class KnowledgeBase:
    wijken: Mapping[str, Wijk]
    streets: tuple[Street, ...]
    hotspots: tuple[Hotspot, ...]
    signalementen: tuple[Signalement, ...]
    lexicon: Lexicon
    compiled: CompiledLexicon
    street_index: StreetIndex
    hot_windows: Mapping[str, tuple[HotWindow, ...]]
    signalement_keywords: Mapping[str, tuple[KeywordPattern, ...]]
    _tree: STRtree = field(repr=False)
    _tree_codes: tuple[str, ...] = field(repr=False)

    def wijk_at(self, lat: float, lon: float) -> str | None:
        """The wijk whose polygon holds the point, or None when it lies outside every wijk."""
        point = Point(lon, lat)
        for idx in self._tree.query(point, predicate="intersects"):
            return self._tree_codes[int(idx)]
        return None

    def gemeente_of(self, wijkcode: str | None) -> str | None:
        wijk = self.wijken.get(wijkcode) if wijkcode else None
        return wijk.gemeentecode if wijk else None


def build_knowledge_base(
    wijken: Iterable[Wijk],
    streets: Iterable[Street],
    hotspots: Iterable[Hotspot],
    signalementen: Iterable[Signalement],
    lexicon: Lexicon,
) -> KnowledgeBase:
    """Build the indexes: STRtree over the wijk polygons, the street index, hot windows, keywords, regexes."""
    wijk_map = {w.code: w for w in wijken}
    codes = tuple(wijk_map)
    tree = STRtree([wijk_map[c].polygon for c in codes])
    street_rows = tuple(streets)
    index = build_street_index(
        street_rows, [(w.code, w.name, w.gemeentecode, w.gemeentenaam) for w in wijk_map.values()],
        lexicon.settings,
    )
    hotspot_rows = tuple(hotspots)
    windows = {h.id: tuple(parse_hot_time(t) for t in h.hot_times) for h in hotspot_rows}
    signalement_rows = tuple(signalementen)
    keywords = {s.id: tuple(compile_keyword(k, lexicon.keyword_synonyms) for k in s.keywords if k.strip())
                for s in signalement_rows}
    return KnowledgeBase(
        wijken=wijk_map, streets=street_rows, hotspots=hotspot_rows, signalementen=signalement_rows,
        lexicon=lexicon, compiled=compile_lexicon(lexicon), street_index=index, hot_windows=windows,
        signalement_keywords=keywords, _tree=tree, _tree_codes=codes,
    )


# ----------------------------------------------------------------------------------------------------
# Reading the reference formats (pure: data in, rows out)


def _crs_of(data: Mapping[str, Any]) -> CRS | None:
    crs = data.get("crs")
    if not isinstance(crs, Mapping):
        return None
    props = crs.get("properties") or {}
    name = props.get("name") if isinstance(props, Mapping) else None
    if not name:
        return None
    text = str(name)
    if "CRS84" in text.upper():
        return WGS84
    return CRS.from_user_input(text)


def _looks_projected(data: Mapping[str, Any]) -> bool:
    for feature in data.get("features") or []:
        coords = (feature.get("geometry") or {}).get("coordinates")
        while isinstance(coords, list) and coords and isinstance(coords[0], list):
            coords = coords[0]
        if isinstance(coords, list) and len(coords) >= 2:
            return abs(float(coords[0])) > 360 or abs(float(coords[1])) > 360
    return False


def wijken_from_geojson(data: Mapping[str, Any]) -> list[Wijk]:
    """CBS wijk- en buurtkaart features (RD New via the `crs` member, or WGS84), reprojected to WGS84."""
    crs = _crs_of(data)
    if crs is None and _looks_projected(data):
        crs = CRS.from_epsg(28992)
    transformer = None
    if crs is not None and not crs.equals(WGS84):
        transformer = Transformer.from_crs(crs, WGS84, always_xy=True)
    out = []
    for feature in data.get("features") or []:
        props = feature.get("properties") or {}
        geom = shape(feature["geometry"])
        if transformer is not None:
            geom = _reproject(geom, transformer)
        out.append(Wijk(str(props["wijkcode"]), str(props.get("wijknaam") or props["wijkcode"]),
                        str(props.get("gemeentecode") or ""), str(props.get("gemeentenaam") or ""), geom))
    return out


def _reproject(geom: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    def move(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, move)


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def hotspots_from_geojson(data: Mapping[str, Any]) -> list[Hotspot]:
    out = []
    for feature in data.get("features") or []:
        props = feature.get("properties") or {}
        lon, lat = feature["geometry"]["coordinates"][:2]
        out.append(Hotspot(
            id=str(props["id"]), name=str(props.get("name") or props["id"]), wijkcode=props.get("wijkcode"),
            lat=float(lat), lon=float(lon), radius_m=float(props["radius_m"]),
            offences=tuple(str(o) for o in props.get("offences") or ()),
            hot_times=tuple(str(t) for t in props.get("hot_times") or ()), note=props.get("note"),
            valid_until=_date(props.get("valid_until")), valid_from=_date(props.get("valid_from")),
        ))
    return out


def _aware(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=AMSTERDAM)


def signalementen_from_json(data: Sequence[Mapping[str, Any]]) -> list[Signalement]:
    return [
        Signalement(
            id=str(item["id"]), issued_at=_aware(item["issued_at"]), valid_until=_aware(item["valid_until"]),
            wijkcodes=tuple(str(c) for c in item.get("wijkcodes") or ()), offence=item.get("offence"),
            description=str(item.get("description") or ""),
            keywords=tuple(str(k) for k in item.get("keywords") or ()),
        )
        for item in data
    ]


# ----------------------------------------------------------------------------------------------------
# File loaders


def load_wijken_geojson(path: Path | str) -> list[Wijk]:
    return wijken_from_geojson(json.loads(Path(path).read_text(encoding="utf-8")))


def load_streets_csv(path: Path | str) -> list[Street]:
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return street_points_from_rows(list(csv.DictReader(handle)))


def load_hotspots_geojson(path: Path | str) -> list[Hotspot]:
    return hotspots_from_geojson(json.loads(Path(path).read_text(encoding="utf-8")))


def load_signalementen_json(path: Path | str) -> list[Signalement]:
    return signalementen_from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def load_lexicon(path: Path | str) -> Lexicon:
    """config/triage.yaml parsed and validated; a shape error names the file and line."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        return parse_lexicon(yaml.safe_load(text) or {})
    except LexiconSchemaError as exc:
        line = line_of(text, exc.path)
        place = f"{path}, line {line}" if line else str(path)
        raise LexiconSchemaError(exc.path, f"{exc.message} ({place})") from exc


GEO_FILES = ("wijken.geojson", "streets.csv", "hotspots.geojson", "signalementen.json")


def load_knowledge_base_from_dir(config_dir: Path | str) -> KnowledgeBase:
    """config_dir/triage.yaml plus geo/{wijken.geojson,streets.csv,hotspots.geojson,signalementen.json}."""
    root = Path(config_dir)
    geo = root / "geo"
    return build_knowledge_base(
        load_wijken_geojson(geo / "wijken.geojson"),
        load_streets_csv(geo / "streets.csv"),
        load_hotspots_geojson(geo / "hotspots.geojson"),
        load_signalementen_json(geo / "signalementen.json"),
        load_lexicon(root / "triage.yaml"),
    )


def directory_fingerprint(config_dir: Path | str) -> tuple[tuple[str, int, int], ...]:
    """Names, mtimes and sizes of the files the knowledge base is built from."""
    root = Path(config_dir)
    out = []
    for path in [root / "triage.yaml", *(root / "geo" / name for name in GEO_FILES)]:
        try:
            st = path.stat()
            out.append((path.name, st.st_mtime_ns, st.st_size))
        except FileNotFoundError:
            out.append((path.name, -1, -1))
    return tuple(out)


class KnowledgeBaseCache:
    """Holds a built knowledge base and rebuilds it when the fingerprint changes (no restart needed).

    The fingerprint is either passed to `get()` by the caller (e.g. a version number of the database
    rows) or computed by the `fingerprint` callable (e.g. file mtimes). When a rebuild fails the previous
    knowledge base keeps serving and the error is kept in `last_error`; the next `get()` retries.
    """

    def __init__(self, build: Callable[[], KnowledgeBase],
                 fingerprint: Callable[[], Hashable] | None = None) -> None:
        self._build = build
        self._fingerprint = fingerprint
        self._kb: KnowledgeBase | None = None
        self._current: Hashable = None
        self._lock = threading.Lock()
        self.builds = 0
        self.last_error: Exception | None = None

    @classmethod
    def from_directory(cls, config_dir: Path | str | None = None) -> KnowledgeBaseCache:
        root = Path(config_dir) if config_dir is not None else default_config_dir()
        return cls(lambda: load_knowledge_base_from_dir(root), lambda: directory_fingerprint(root))

    @property
    def fingerprint(self) -> Hashable:
        return self._current

    def invalidate(self) -> None:
        with self._lock:
            self._kb = None

    def get(self, fingerprint: Hashable = None) -> KnowledgeBase:
        wanted = fingerprint if fingerprint is not None else (
            self._fingerprint() if self._fingerprint is not None else None)
        kb = self._kb
        if kb is not None and wanted == self._current:
            return kb
        with self._lock:
            if self._kb is not None and wanted == self._current:
                return self._kb
            try:
                built = self._build()
            except Exception as exc:
                self.last_error = exc
                if self._kb is None:
                    raise
                return self._kb
            self._kb = built
            self._current = wanted
            self.builds += 1
            self.last_error = None
            return built
