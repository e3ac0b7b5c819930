"""The knowledge base triage weighs reports against: wijken, streets, hotspots, signalementen, lexicon.

`build_knowledge_base` is pure (rows in, indexes out) so the service layer can build it from database
rows; the `load_*` functions read the reference files in config/.
"""

from __future__ import annotations

import functools
import json
import threading
import weakref
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from pyproj import CRS
from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from app.core.settings import config_dir as default_config_dir
from app.registry.imports import read_streets_csv, read_wijken_geojson
from app.triage.geo import HotWindow, parse_hot_time
from app.triage.keywords import KeywordPattern, compile_keyword
from app.triage.lexicon import CompiledLexicon, Lexicon, compile_lexicon, parse_lexicon
from app.triage.lexicon.schema import LexiconSchemaError, line_of
from app.triage.location import Street, StreetIndex, build_street_index
from app.triage.reference import read_hotspots_geojson, read_signalementen_json

__all__ = [
    "Hotspot", "KnowledgeBase", "KnowledgeBaseCache", "Lexicon", "Signalement", "Street", "Wijk",
    "build_knowledge_base", "compiled_lexicon", "default_config_dir", "directory_fingerprint", "hotspots_from_geojson",
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
        lexicon=lexicon, compiled=compiled_lexicon(lexicon), street_index=index, hot_windows=windows,
        signalement_keywords=keywords, _tree=tree, _tree_codes=codes,
    )


# ----------------------------------------------------------------------------------------------------
# Reading the reference formats (pure: data in, rows out)


# One parser per reference file: the readers of the registry and hotspot imports, whose rows production
# stores and triages with, so that eval-triage scores the knowledge base production has.


def wijken_from_geojson(data: Mapping[str, Any]) -> list[Wijk]:
    """CBS wijk- en buurtkaart features as the registry import reads them (RD New or WGS84, to WGS84)."""
    return [Wijk(f.code, f.name, f.gemeentecode, f.gemeentenaam, shape(f.geometry))
            for f in read_wijken_geojson(dict(data))]


def hotspots_from_geojson(data: Mapping[str, Any]) -> list[Hotspot]:
    return [Hotspot(id=row["code"], name=row["name"], wijkcode=row["wijk_code"], lat=row["lat"], lon=row["lon"],
                    radius_m=float(row["radius_m"]), offences=tuple(str(o) for o in row["offences"]),
                    hot_times=tuple(str(t) for t in row["hot_times"]), note=row["note"],
                    valid_until=row["valid_until"], valid_from=row["valid_from"])
            for row in read_hotspots_geojson(dict(data))]


def signalementen_from_json(data: Sequence[Mapping[str, Any]]) -> list[Signalement]:
    return [Signalement(id=row["code"], issued_at=row["issued_at"], valid_until=row["valid_until"],
                        wijkcodes=tuple(str(c) for c in row["wijkcodes"]), offence=row["offence"],
                        description=row["description"], keywords=tuple(str(k) for k in row["keywords"]))
            for row in read_signalementen_json(list(data))]


# ----------------------------------------------------------------------------------------------------
# File loaders


def load_wijken_geojson(path: Path | str) -> list[Wijk]:
    return wijken_from_geojson(json.loads(Path(path).read_text(encoding="utf-8")))


def load_streets_csv(path: Path | str) -> list[Street]:
    return [Street(name, wijkcode, lat, lon)
            for name, wijkcode, lat, lon in read_streets_csv(Path(path).read_text(encoding="utf-8"))]


def load_hotspots_geojson(path: Path | str) -> list[Hotspot]:
    return hotspots_from_geojson(json.loads(Path(path).read_text(encoding="utf-8")))


def load_signalementen_json(path: Path | str) -> list[Signalement]:
    return signalementen_from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def load_lexicon(path: Path | str) -> Lexicon:
    """config/triage.yaml parsed and validated; a shape error names the file and line. The same text gives the
    same (immutable) Lexicon object, so `compiled_lexicon` compiles it once."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        return _parsed_lexicon(text)
    except LexiconSchemaError as exc:
        line = line_of(text, exc.path)
        place = f"{path}, line {line}" if line else str(path)
        raise LexiconSchemaError(exc.path, f"{exc.message} ({place})") from exc


@functools.lru_cache(maxsize=4)
def _parsed_lexicon(text: str) -> Lexicon:
    return parse_lexicon(yaml.safe_load(text) or {})


_compiled_lexicons: weakref.WeakKeyDictionary[Lexicon, CompiledLexicon] = weakref.WeakKeyDictionary()
_compiled_lock = threading.Lock()


def compiled_lexicon(lexicon: Lexicon) -> CompiledLexicon:
    """`compile_lexicon` once per Lexicon object: compiling takes seconds of CPU, and the knowledge base is
    rebuilt on every registry, hotspot or signalement change (and per app in the test suite) while the
    lexicon only changes with its file."""
    with _compiled_lock:
        compiled = _compiled_lexicons.get(lexicon)
    if compiled is None:
        compiled = compile_lexicon(lexicon)
        with _compiled_lock:
            _compiled_lexicons[lexicon] = compiled
    return compiled


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
