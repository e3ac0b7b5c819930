"""What the wall reads: its region's map, P1/P2 incidents only, and the counters."""

from __future__ import annotations

from tests.support.http import bearer, login


async def test_wall_map_has_its_regions_wijken_and_hotspots_only(client, demo):
    wall = bearer(demo["wall_token"])
    features = (await client.get("/api/v1/map", headers=wall)).json()["features"]
    wijken = {f["properties"]["wijkcode"] for f in features if f["properties"]["kind"] == "wijk"}
    assert wijken == {"WK036301", "WK036302", "WK036204", "WK036205", "WK036206"}  # Amsterdam-Amstelland
    hotspots = [f for f in features if f["properties"]["kind"] == "hotspot"]
    assert hotspots and all(f["properties"]["wijkcode"] in wijken for f in hotspots)
    operator = await login(client, demo["operator"])
    everything = (await client.get("/api/v1/map", headers=operator)).json()["features"]
    assert len([f for f in everything if f["properties"]["kind"] == "wijk"]) == 10


async def test_wall_sees_p1_and_p2_of_its_region_and_counters(client, demo):
    westwijk = next(b for b in demo["beheerders"] if b["wijkcodes"] == ["WK036204"])
    tilburg = next(b for b in demo["beheerders"] if b["wijkcodes"] == ["WK085531"])
    burglary = "Er wordt nu ingebroken aan de Zonnestein, twee mannen met een breekijzer"
    for beheerder, text in [(westwijk, burglary), (westwijk, "Onze kat is weggelopen"),
                            (tilburg, "Nu inbraak bezig bij de buren, man met breekijzer")]:
        response = await client.post("/api/v1/reports", headers=bearer(beheerder["token"]),
                                     json={"text": text, "group_id": beheerder["group_ids"][0]})
        assert response.status_code == 201
    wall = bearer(demo["wall_token"])
    items = (await client.get("/api/v1/wall/cards", headers=wall)).json()["items"]
    assert [i["urgency"] for i in items] == ["P1"] and items[0]["wijkcode"] == "WK036204"
    assert (await client.get("/api/v1/queue", headers=wall)).status_code == 403  # the operators' read model
    counters = (await client.get("/api/v1/stats/overview", headers=wall)).json()
    assert counters["open_p1"] == 1 and counters["reports_today"] == 2
    operator = await login(client, demo["operator"])
    assert (await client.get("/api/v1/stats/overview", headers=operator)).json()["reports_today"] == 3


async def test_the_wijk_names_are_the_maps_wijken_without_outlines(client, demo):
    """The console's pickers read names only: the same wijken as the map for the same principal, in the order a
    person looks for them (gemeente, then name), and not a coordinate."""
    operator = await login(client, demo["operator"])
    for headers, params in [(operator, {}), (operator, {"region": "AMS"}), (bearer(demo["wall_token"]), {})]:
        features = (await client.get("/api/v1/map", headers=headers, params=params)).json()["features"]
        wijken = [f["properties"] for f in features if f["properties"]["kind"] == "wijk"]
        expected = sorted(((w["gemeente"], w["name"], w["wijkcode"], w["gemeentecode"]) for w in wijken),
                          key=lambda w: (w[0].casefold(), w[1].casefold(), w[2]))
        names = (await client.get("/api/v1/map/wijken", headers=headers, params=params)).json()
        assert [(w["gemeente"], w["name"], w["wijkcode"], w["gemeentecode"]) for w in names] == expected
        assert all(set(w) == {"wijkcode", "name", "gemeente", "gemeentecode"} for w in names)
    assert len(names) == 5  # the wall: its own region
    assert (await client.get("/api/v1/map/wijken", headers=operator, params={"region": "XYZ"})).json() == []
    client.cookies.clear()  # the login's session cookie
    assert (await client.get("/api/v1/map/wijken")).status_code == 401
