"""Loading and rebuilding the knowledge base: RD New wijken, rows without files, reload on change."""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime
from pathlib import Path

import pytest
from shapely.geometry import Polygon

from app.triage.engine import ReportFacts, triage
from app.triage.geo import parse_hot_time
from app.triage.knowledge import (
    Hotspot,
    KnowledgeBase,
    KnowledgeBaseCache,
    Wijk,
    build_knowledge_base,
    compiled_lexicon,
    load_knowledge_base_from_dir,
    load_lexicon,
    load_wijken_geojson,
    wijken_from_geojson,
)
from app.triage.lexicon import LexiconError, parse_lexicon
from app.triage.location import Street
from tests.triage.helpers import CONFIG


def test_rd_new_wijken_put_a_known_point_in_the_right_wijk(kb: KnowledgeBase) -> None:
    wijken = load_wijken_geojson(CONFIG / "geo" / "wijken.geojson")
    assert len(wijken) == 10
    nieuwmarkt = next(w for w in wijken if w.code == "WK036302")
    minx, miny, maxx, maxy = nieuwmarkt.polygon.bounds
    assert 4.89 < minx < maxx < 4.91 and 52.37 < miny < maxy < 52.38  # reprojected to WGS84 (lon, lat)
    assert kb.wijk_at(52.374695, 4.906093) == "WK036302"  # Nieuwmarkt
    assert kb.wijk_at(51.57653, 5.008147) == "WK085531"   # Kievitlaan, Tilburg
    assert kb.wijk_at(52.3000, 4.8000) is None             # a gap between the wijken


def test_wgs84_geojson_is_accepted_too() -> None:
    data = {"type": "FeatureCollection", "features": [{
        "type": "Feature",
        "properties": {"wijkcode": "WK1", "wijknaam": "Test", "gemeentecode": "GM1",
                       "gemeentenaam": "Testdorp"},
        "geometry": {"type": "Polygon",
                     "coordinates": [[[5.0, 52.0], [5.1, 52.0], [5.1, 52.1], [5.0, 52.0]]]},
    }]}
    (wijk,) = wijken_from_geojson(data)
    assert wijk.polygon.bounds == (5.0, 52.0, 5.1, 52.1)


def _tiny_kb(hot_times: tuple[str, ...] = ("10:00-12:00",)) -> KnowledgeBase:
    square = Polygon([(5.0, 52.0), (5.1, 52.0), (5.1, 52.1), (5.0, 52.1)])
    wijk = Wijk("WK1", "Testwijk", "GM1", "Testdorp", square)
    streets = [Street("Lindelaan", "WK1", 52.05, 5.05)]
    hotspots = [Hotspot("H1", "Lindelaan", "WK1", 52.05, 5.05, 100, ("autokraak",), hot_times)]
    return build_knowledge_base([wijk], streets, hotspots, [], load_lexicon(CONFIG / "triage.yaml"))


def test_knowledge_base_from_rows_without_files() -> None:
    kb = _tiny_kb()
    r = triage(ReportFacts("lindelaan: iemand kijkt in de geparkeerde auto's",
                           datetime.fromisoformat("2026-11-20T11:00:00+01:00"), "WK1", None, None), kb)
    assert (r.wijk, r.urgency, r.hotspot_ids) == ("WK1", "P2", ("H1",))


def test_cache_rebuilds_when_the_fingerprint_changes() -> None:
    built: list[KnowledgeBase] = []

    def build() -> KnowledgeBase:
        built.append(_tiny_kb())
        return built[-1]

    cache = KnowledgeBaseCache(build)
    first = cache.get(1)
    assert cache.get(1) is first
    assert len(built) == 1
    second = cache.get(2)
    assert second is not first
    assert len(built) == 2 and cache.builds == 2


def test_cache_keeps_serving_when_a_rebuild_fails() -> None:
    calls = {"n": 0}

    def build() -> KnowledgeBase:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ValueError("broken lexicon")
        return _tiny_kb()

    cache = KnowledgeBaseCache(build)
    first = cache.get("v1")
    assert cache.get("v2") is first
    assert isinstance(cache.last_error, ValueError)
    assert cache.get("v2") is not first  # retried and succeeded


def test_directory_cache_reloads_without_restart(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config, ignore=shutil.ignore_patterns("default.yaml"))
    for path in config.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    cache = KnowledgeBaseCache.from_directory(config)
    text = "poortwachter: iemand loopt de achterpaden af en kijkt over de schuttingen"
    report = ReportFacts(text, datetime.fromisoformat("2026-10-15T13:40:00+02:00"), "WK036204", None, None)
    assert triage(report, cache.get()).urgency == "P3"

    hotspots_file = config / "geo" / "hotspots.geojson"
    data = json.loads(hotspots_file.read_text())
    for feature in data["features"]:
        if feature["properties"]["id"] == "HS-07":
            feature["properties"]["hot_times"] = ["12:00-15:00"]
    time.sleep(0.01)
    hotspots_file.write_text(json.dumps(data))
    assert triage(report, cache.get()).urgency == "P2"
    assert cache.builds == 2


def test_load_from_dir_matches_reference(kb: KnowledgeBase) -> None:
    assert set(kb.wijken) >= {"WK036302", "WK036204", "WK003402", "WK085531"}
    assert len(kb.hotspots) == 14 and len(kb.signalementen) == 4
    assert load_knowledge_base_from_dir(CONFIG).street_index.entries.keys() == kb.street_index.entries.keys()


def test_bad_hot_time_and_bad_lexicon_are_rejected() -> None:
    with pytest.raises(ValueError):
        parse_hot_time("Xx 10:00-12:00")
    with pytest.raises(ValueError):
        parse_hot_time("10-12")
    with pytest.raises(LexiconError):
        parse_lexicon({"signals": {}})


def test_eval_and_the_imports_read_reference_files_with_one_parser() -> None:
    from datetime import timedelta

    from app.core.errors import InvalidInput
    from app.triage.knowledge import signalementen_from_json
    from app.triage.reference import read_signalementen_json

    projected = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
                 "features": []}
    with pytest.raises(InvalidInput, match="3857"):
        wijken_from_geojson(projected)
    naive = [{"id": "S1", "issued_at": "2026-11-10T08:00:00", "valid_until": "2026-11-20T08:00:00",
              "description": "man in geel hesje"}]
    (signalement,) = signalementen_from_json(naive)
    assert signalement.issued_at.utcoffset() == timedelta(hours=1)  # local time in the Netherlands
    assert read_signalementen_json(naive)[0]["issued_at"] == signalement.issued_at


def test_an_edited_lexicon_file_counts_at_once_and_an_unchanged_one_is_compiled_once(kb: KnowledgeBase,
                                                                                     tmp_path: Path) -> None:
    copy = tmp_path / "triage.yaml"
    text = (CONFIG / "triage.yaml").read_text(encoding="utf-8")
    copy.write_text(text, encoding="utf-8")
    first = load_lexicon(copy)
    assert load_lexicon(copy) is first  # the same text: parsed once
    assert compiled_lexicon(kb.lexicon) is kb.compiled  # and compiled once

    copy.write_text(text.replace("\nversion: 1\n", "\nversion: 2\n"), encoding="utf-8")
    edited = load_lexicon(copy)
    assert edited is not first and edited.version == "2" and first.version == "1"
