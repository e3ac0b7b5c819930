"""Hotspots and signalementen: kept by wijkagenten and analysts, and used by triage without a restart."""

from __future__ import annotations

from datetime import timedelta

from app.core.database import utcnow
from tests.support.http import bearer, login, problem


async def test_wijkagent_manages_hotspots_and_an_operator_may_only_read(client, demo):
    wijkagent = await login(client, demo["wijkagent"])
    body = {"code": "HS-WW-1", "name": "Westwijkplein fietsenstalling", "wijkcode": "WK036204", "lat": 52.289156,
            "lon": 4.810632, "radius_m": 150, "offences": ["fietsdiefstal"], "hot_times": ["Sa 20:00-02:00"],
            "valid_until": (utcnow() + timedelta(days=30)).date().isoformat()}
    created = await client.post("/api/v1/hotspots", headers=wijkagent, json=body)
    assert created.status_code == 201, created.text
    operator = await login(client, demo["operator"])
    assert (await client.post("/api/v1/hotspots", headers=operator, json={**body, "code": "X"})).status_code == 403
    listed = (await client.get("/api/v1/hotspots?active=true", headers=operator)).json()
    assert "HS-WW-1" in {h["code"] for h in listed}
    patched = await client.patch("/api/v1/hotspots/HS-WW-1", headers=wijkagent, json={"radius_m": 250})
    assert patched.json()["radius_m"] == 250
    assert (await client.delete("/api/v1/hotspots/HS-WW-1", headers=wijkagent)).status_code == 204
    assert (await client.patch("/api/v1/hotspots/HS-WW-1", headers=wijkagent, json={"radius_m": 1})).status_code \
        in (404, 422)


async def test_bad_hot_time_and_reversed_validity_are_refused(client, demo):
    analyst = await login(client, demo["analyst"])
    base = {"code": "HS-X", "name": "x", "lat": 52.29, "lon": 4.81, "radius_m": 100, "offences": ["autokraak"]}
    bad_time = await client.post("/api/v1/hotspots", headers=analyst, json={**base, "hot_times": ["25:00-03:00"]})
    assert bad_time.status_code == 422 and problem(bad_time)["field"] == "hot_times[0]"
    reversed_dates = await client.post("/api/v1/hotspots", headers=analyst, json={
        **base, "valid_from": "2026-12-01", "valid_until": "2026-11-01"})
    assert problem(reversed_dates)["field"] == "valid_until"
    duplicate = await client.post("/api/v1/hotspots", headers=analyst, json={**base, "code": "HS-01"})
    assert duplicate.status_code == 409


async def test_a_new_signalement_lifts_the_next_report_without_a_restart(client, demo):
    reporter = next(b for b in demo["beheerders"] if b["wijkcodes"] == ["WK036204"] and len(b["group_ids"]) == 1)
    text = "Man met een groene regenjas en een oranje rugzak probeert fietsen bij het Westwijkplein"
    before = await client.post("/api/v1/reports", headers=bearer(reporter["token"]), json={"text": text})
    operator = await login(client, demo["operator"])
    first = (await client.get("/api/v1/queue", headers=operator)).json()["items"][0]["reports"][0]
    assert not any("S-WW" in r["text"] for r in first["reasons"])

    analyst = await login(client, demo["analyst"])
    now = utcnow()
    created = await client.post("/api/v1/signalementen", headers=analyst, json={
        "code": "S-WW", "issued_at": (now - timedelta(hours=1)).isoformat(),
        "valid_until": (now + timedelta(days=7)).isoformat(), "wijkcodes": ["WK036204"],
        "offence": "fietsdiefstal", "description": "Man in groene regenjas met oranje rugzak, steelt fietsen",
        "keywords": ["groene regenjas", "oranje rugzak"]})
    assert created.status_code == 201, created.text
    after = await client.post("/api/v1/reports", headers=bearer(reporter["token"]), json={"text": text + "!"})
    assert before.status_code == after.status_code == 201
    incidents = (await client.get("/api/v1/queue", headers=operator)).json()["items"]
    report = next(r for i in incidents for r in i["reports"] if r["id"] == after.json()["id"])
    assert "S-WW" in report["suggestion"]["signalement_ids"]
    assert any("S-WW" in r["text"] for r in report["reasons"])
