"""Geodata import: CBS wijk GeoJSON in RD New or WGS84, upserted by wijkcode; the gazetteer likewise."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pyproj import Transformer
from shapely.geometry import Point, shape
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import cli
from app.core.database import create_engine
from app.core.settings import PROJECT_ROOT
from app.registry.imports import read_wijken_geojson
from app.registry.models import Street, Wijk

GEO = PROJECT_ROOT / "config" / "geo"
# Oude Waal, Amsterdam: in Nieuwmarkt/Lastage. Westwijk centre, Amstelveen.
KNOWN_POINTS = [((4.902188, 52.371954), "WK036302")]


def _rd_new_file() -> dict:
    return json.loads((GEO / "wijken.geojson").read_text())


def _to_wgs84(collection: dict) -> dict:
    transformer = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
    converted = json.loads(json.dumps(collection))
    converted.pop("crs")
    for feature in converted["features"]:
        ring = feature["geometry"]["coordinates"][0]
        feature["geometry"]["coordinates"][0] = [list(transformer.transform(x, y)) for x, y in ring]
    return converted


def _wijk_at(features, lon: float, lat: float) -> str | None:
    for feature in features:
        if shape(feature.geometry).contains(Point(lon, lat)):
            return feature.code
    return None


def test_rd_new_file_puts_a_known_point_in_the_right_wijk():
    features = read_wijken_geojson(_rd_new_file())
    assert len(features) == 10
    for (lon, lat), wijkcode in KNOWN_POINTS:
        assert _wijk_at(features, lon, lat) == wijkcode
    # Every gazetteer point lies inside the wijk it names.
    for line in (GEO / "streets.csv").read_text().splitlines()[1:]:
        street, wijkcode, lat, lon = line.split(",")
        assert _wijk_at(features, float(lon), float(lat)) == wijkcode, street


def test_wgs84_input_gives_the_same_wijken_as_rd_new():
    from_rd = {f.code: f for f in read_wijken_geojson(_rd_new_file())}
    from_wgs = {f.code: f for f in read_wijken_geojson(_to_wgs84(_rd_new_file()))}
    assert from_rd.keys() == from_wgs.keys()
    for code, feature in from_rd.items():
        assert shape(feature.geometry).equals_exact(shape(from_wgs[code].geometry), tolerance=1e-6)


def test_unsupported_crs_is_refused():
    collection = _rd_new_file()
    collection["crs"]["properties"]["name"] = "urn:ogc:def:crs:EPSG::3857"
    from app.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="3857"):
        read_wijken_geojson(collection)


@pytest.fixture
def cli_env(monkeypatch, database_url: str):
    from app.core.settings import get_settings

    monkeypatch.setenv("MELDKAMER_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _count(database_url: str, model) -> int:
    async def count() -> int:
        engine = create_engine(database_url)
        async with engine.connect() as connection:
            value = await connection.scalar(select(func.count()).select_from(model))
        await engine.dispose()
        return int(value or 0)

    return asyncio.run(count())


def test_cli_import_upserts_by_wijkcode(database_url, cli_env, tmp_path: Path):
    runner = cli_env
    first = runner.invoke(cli, ["import-wijken", str(GEO / "wijken.geojson")])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["created"] == 10
    again = runner.invoke(cli, ["import-wijken", str(GEO / "wijken.geojson")])
    assert json.loads(again.output) == {"created": 0, "updated": 0, "unchanged": 10, "rows": 10}

    renamed = _rd_new_file()
    renamed["features"][0]["properties"]["wijknaam"] = "Burgwallen-Oost (nieuw)"
    changed_file = tmp_path / "wijken.geojson"
    changed_file.write_text(json.dumps(renamed))
    changed = runner.invoke(cli, ["import-wijken", str(changed_file)])
    assert json.loads(changed.output)["updated"] == 1
    assert _count(database_url, Wijk) == 10

    streets = runner.invoke(cli, ["import-streets", str(GEO / "streets.csv")])
    assert streets.exit_code == 0, streets.output
    assert _count(database_url, Street) == json.loads(streets.output)["created"] > 90
    hotspots = runner.invoke(cli, ["import-hotspots", str(GEO / "hotspots.geojson")])
    assert hotspots.exit_code == 0 and json.loads(hotspots.output)["created"] > 0


def test_cli_import_of_a_broken_file_says_why_and_writes_nothing(database_url, cli_env, tmp_path: Path):
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [{"properties": {"wijkcode": "WK1"}}]}')
    result = cli_env.invoke(cli, ["import-wijken", str(broken)])
    assert result.exit_code == 2
    assert "mist" in result.output
    assert _count(database_url, Wijk) == 0
