"""Households per wijk (aantal huishoudens): read from the CBS wijk- en buurtkaart when the file has them,
corrected by an admin, kept when a later file lacks them; the demo's figures are filled in."""

from __future__ import annotations

import json

import pytest

from app.core.errors import InvalidInput
from app.core.principal import SYSTEM
from app.core.settings import PROJECT_ROOT
from app.demo import DEMO_HOUSEHOLDS
from app.registry import imports
from tests.support import builders
from tests.support.http import bearer, login, problem

GEO = PROJECT_ROOT / "config" / "geo"


def _collection(**households: object) -> dict:
    """The reference file with a household property per wijkcode (the key and value as given)."""
    collection = json.loads((GEO / "wijken.geojson").read_text())
    for feature in collection["features"]:
        extra = households.get(feature["properties"]["wijkcode"])
        if isinstance(extra, dict):
            feature["properties"].update(extra)
    return collection


def _households(collection: dict) -> dict[str, int | None]:
    return {feature.code: feature.households for feature in imports.read_wijken_geojson(collection)}


def test_the_cbs_names_of_the_household_count_are_read_and_hidden_figures_are_unknown():
    read = _households(_collection(WK036204={"aantal_huishoudens": 8123}, WK036206={"AANTAL_HH": 3301.0},
                                   WK036302={"AANT_HH": "5790"}, WK036205={"aantal_huishoudens": -99997}))
    assert (read["WK036204"], read["WK036206"], read["WK036302"]) == (8123, 3301, 5790)
    assert read["WK036205"] is None  # CBS's "geheim"
    assert read["WK036301"] is None  # the reference file has no figure


@pytest.mark.parametrize("value", ["veel", 12.5])
def test_a_household_count_that_is_no_whole_number_is_refused_in_dutch(value):
    with pytest.raises(InvalidInput, match="huishoudens"):
        _households(_collection(WK036204={"aantal_huishoudens": value}))


async def test_an_import_sets_the_figure_and_a_file_without_it_keeps_it(app, client):
    async with app.state.sessionmaker() as session:
        await imports.upsert_wijken(session, SYSTEM, imports.read_wijken_geojson(
            _collection(WK036204={"aantal_huishoudens": 8123})))
    async with app.state.sessionmaker() as session:
        result = await imports.upsert_wijken(session, SYSTEM, imports.read_wijken_geojson(_collection()))
    assert result.updated == 0
    admin = bearer((await builders.staff(app, "admin")).token)
    wijk = (await client.get("/api/v1/admin/wijken/WK036204", headers=admin)).json()
    assert wijk["households"] == 8123


async def test_an_admin_sets_and_clears_the_households_of_a_wijk_audited(app, client):
    await builders.wijk(app)
    admin = bearer((await builders.staff(app, "admin")).token)
    patched = await client.patch("/api/v1/admin/wijken/WK036204", headers=admin, json={"households": 8200})
    assert patched.status_code == 200, patched.text
    assert patched.json()["households"] == 8200
    listed = (await client.get("/api/v1/admin/wijken", headers=admin)).json()
    assert [w["households"] for w in listed if w["code"] == "WK036204"] == [8200]
    cleared = await client.patch("/api/v1/admin/wijken/WK036204", headers=admin, json={"households": None})
    assert cleared.json()["households"] is None
    audit = (await client.get("/api/v1/admin/audit", params={"action": "wijk.update"}, headers=admin)).json()
    assert [entry["detail"]["households"] for entry in audit] == [None, 8200]


async def test_bad_household_input_is_a_dutch_problem_and_only_admins_may_change_it(app, client):
    await builders.wijk(app)
    admin = bearer((await builders.staff(app, "admin")).token)
    for body in ({"households": -1}, {"households": "veel"}, {"households": 2.5}, {"name": "Anders"}):
        refused = await client.patch("/api/v1/admin/wijken/WK036204", headers=admin, json=body)
        assert refused.status_code == 422 and problem(refused)["title"]
    missing = await client.patch("/api/v1/admin/wijken/WK999999", headers=admin, json={"households": 10})
    assert missing.status_code == 404 and problem(missing)
    analyst = bearer((await builders.staff(app, "analyst")).token)
    forbidden = await client.patch("/api/v1/admin/wijken/WK036204", headers=analyst, json={"households": 10})
    assert forbidden.status_code == 403
    wijk = (await client.get("/api/v1/admin/wijken/WK036204", headers=admin)).json()
    assert wijk["households"] is None


async def test_the_demo_has_illustrative_households_for_its_ten_wijken(client, demo):
    admin = await login(client, demo["admin"])
    listed = (await client.get("/api/v1/admin/wijken", headers=admin)).json()
    assert {w["code"]: w["households"] for w in listed} == DEMO_HOUSEHOLDS
