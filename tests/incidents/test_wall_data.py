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
