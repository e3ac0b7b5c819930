"""Reports per 1,000 households per wijk in the evaluation, and the wijk outlines the page draws the map with,
checked against the script and the registry (never by asking the database for the figure itself)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from app.stats.wijkmap import OutlineCache, outline_path
from tests.support import builders
from tests.support.http import bearer, problem

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WESTWIJK, BOVENKERK, LASTAGE = "WK036204", "WK036206", "WK036302"  # the history fixture's wijken
PERIOD = {"from": "2026-01-01", "to": "2026-03-31"}
HOUSEHOLDS = {WESTWIJK: 8200, BOVENKERK: 3300}  # Lastage: unknown


async def _set_households(app, client) -> None:
    admin = bearer((await builders.staff(app, "admin")).token)
    for code, households in HOUSEHOLDS.items():
        response = await client.patch(f"/api/v1/admin/wijken/{code}", headers=admin, json={"households": households})
        assert response.status_code == 200, response.text


def _reports_per_wijk(world) -> Counter[str]:
    first, last = date(2026, 1, 1), date(2026, 3, 31)
    return Counter(r.wijkcode for r in world.reports if first <= r.received_at.astimezone(AMSTERDAM).date() <= last)


async def _get(client, path: str, token: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_each_wijk_has_its_reports_per_thousand_households_or_none_when_unknown(app, client, history):
    await _set_households(app, client)
    data = await _get(client, "/api/v1/stats", history.analyst.token, **PERIOD)
    per_wijk = {row["wijkcode"]: row for row in data["reports_by_category"]["per_wijk"]}
    expected = _reports_per_wijk(history)
    assert {code: row["reports"] for code, row in per_wijk.items()} == expected
    for code in (WESTWIJK, BOVENKERK):
        assert per_wijk[code]["households"] == HOUSEHOLDS[code]
        assert per_wijk[code]["reports_per_1000_households"] == round(expected[code] * 1000 / HOUSEHOLDS[code], 2)
    assert per_wijk[LASTAGE]["households"] is None and per_wijk[LASTAGE]["reports_per_1000_households"] is None
    assert all(row["total"] == row["reports"] for row in per_wijk.values())  # the existing field stays


async def test_the_csv_carries_households_and_the_rate_per_wijk_with_decimal_commas(app, client, history):
    await _set_households(app, client)
    response = await client.get("/api/v1/stats", params={**PERIOD, "format": "csv", "sep": "semicolon"},
                                headers=bearer(history.analyst.token))
    assert response.status_code == 200 and response.text.startswith("\ufeff")
    lines = {tuple(line.split(";")[2:6]): line.split(";")[6] for line in response.text.splitlines()[1:]}
    expected = _reports_per_wijk(history)
    westwijk_rate = round(expected[WESTWIJK] * 1000 / HOUSEHOLDS[WESTWIJK], 2)
    assert lines[(WESTWIJK, "GM0362", "", "huishoudens")] == "8200"
    assert lines[(WESTWIJK, "GM0362", "", "meldingen per 1.000 huishoudens")] == \
        f"{westwijk_rate:.4f}".rstrip("0").rstrip(".").replace(".", ",")
    assert lines[(LASTAGE, "GM0363", "", "meldingen per 1.000 huishoudens")] == ""  # unknown households


def _numbers(path: str) -> list[int]:
    return [int(n) for n in re.findall(r"-?\d+", path)]


async def test_the_map_has_one_outline_per_wijk_in_scope_inside_its_view_box(app, client, history):
    await _set_households(app, client)
    data = await _get(client, "/api/v1/stats/map", history.analyst.token)
    wijken = {w["wijkcode"]: (g, w) for g in data["gemeenten"] for w in g["wijken"]}
    assert set(wijken) == {WESTWIJK, BOVENKERK, LASTAGE}  # every wijk of the registry (the builders' three)
    assert {g["gemeentecode"] for g in data["gemeenten"]} == {"GM0362", "GM0363"}
    for code, (gemeente, wijk) in wijken.items():
        assert wijk["households"] == HOUSEHOLDS.get(code)
        assert re.fullmatch(r"(M-?\d+ -?\d+(L-?\d+ -?\d+)+Z)+", wijk["path"])
        x, y, width, height = gemeente["view_box"]
        xs, ys = _numbers(wijk["path"])[0::2], _numbers(wijk["path"])[1::2]
        assert x <= min(xs) and max(xs) <= x + width and y <= min(ys) and max(ys) <= y + height
    # Westwijk is about 2 km wide (RD metres): a projected, not a degree-sized, outline.
    westwijk_xs = _numbers(wijken[WESTWIJK][1]["path"])[0::2]
    assert 1000 < max(westwijk_xs) - min(westwijk_xs) < 4000


async def test_the_map_follows_the_area_filters_and_a_wijkagents_own_wijken(client, history):
    gemeente = await _get(client, "/api/v1/stats/map", history.analyst.token, gemeente="GM0363")
    assert [w["wijkcode"] for g in gemeente["gemeenten"] for w in g["wijken"]] == [LASTAGE]
    own = await _get(client, "/api/v1/stats/map", history.wijkagent.token)
    assert sorted(w["wijkcode"] for g in own["gemeenten"] for w in g["wijken"]) == [WESTWIJK, BOVENKERK]
    outside = await client.get("/api/v1/stats/map", params={"wijk": LASTAGE}, headers=bearer(history.wijkagent.token))
    assert outside.status_code == 403 and problem(outside)["title"] == "Geen toegang"
    unknown = await client.get("/api/v1/stats/map", params={"gemeente": "GM9999"},
                               headers=bearer(history.analyst.token))
    assert unknown.status_code == 422 and problem(unknown)
    operator = await client.get("/api/v1/stats/map", headers=bearer(history.operator.token))
    assert operator.status_code == 403


def _square(lon: float, lat: float, size: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_an_outline_is_drawn_again_when_its_wijks_geometry_changes_and_kept_once_per_wijk() -> None:
    outlines = OutlineCache(max_wijken=2)
    small, large = json.dumps(_square(4.80, 52.30, 0.01)), json.dumps(_square(4.80, 52.30, 0.02))
    first = outlines.outline("WK1", small)
    assert outlines.outline("WK1", small) is first  # the same geometry: not drawn again
    grown = outlines.outline("WK1", large)  # a new import
    assert grown != first and grown == outline_path(json.loads(large))
    assert _numbers(grown[0])[2] > _numbers(first[0])[2]
    outlines.outline("WK2", small)
    outlines.outline("WK3", small)
    assert len(outlines) == 2  # bounded by wijken, however often one changes
