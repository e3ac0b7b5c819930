"""The alert figures come from facts (app.stats.alert_facts) that are exact right after a delivery changes."""

from __future__ import annotations

from datetime import timedelta

from app.core.database import utcnow
from app.stats.period import today
from tests.support import builders
from tests.support.builders import ScriptedAlert, ScriptedDelivery
from tests.support.http import bearer

WESTWIJK = "WK036204"


async def _alerts(client, token: str) -> dict:
    period = {"from": (today() - timedelta(days=1)).isoformat(), "to": today().isoformat(), "wijk": WESTWIJK}
    response = await client.get("/api/v1/stats", params=period,
                                headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()["alerts"]


async def test_a_forward_shows_in_the_figures_at_once(app, client):
    group = await builders.group(app, wijkcode=WESTWIJK)
    first = await builders.beheerder(app, group_ids=[group.id])
    second = await builders.beheerder(app, group_ids=[group.id])
    analyst = await builders.staff(app, "analyst")
    sent = utcnow() - timedelta(minutes=5)
    delivered = ScriptedDelivery(first.id, delivered_after=timedelta(seconds=30))
    await builders.scripted_history(app, [], [ScriptedAlert(sent, (WESTWIJK,), (
        delivered, ScriptedDelivery(second.id, delivered_after=timedelta(seconds=90))))])

    before = await _alerts(client, analyst.token)
    assert (before["alerts"], before["recipients"], before["delivered"], before["forwarded"]) == (1, 2, 2, 0)
    assert before["per_wijk"][0]["coverage"] == 0
    assert before["time_to_90_delivered"]["median_s"] == 90  # ceil(90% of 2) = both

    inbox = (await client.get("/api/v1/alerts", headers=bearer(first.token))).json()["items"]
    marked = await client.post(f"/api/v1/alerts/{inbox[0]['delivery_id']}/forwarded", headers=bearer(first.token))
    assert marked.status_code == 200, marked.text

    after = await _alerts(client, analyst.token)
    assert (after["forwarded"], after["forwarded_share"]) == (1, 0.5)
    wijk = after["per_wijk"][0]
    assert (wijk["group_alerts"], wijk["group_alerts_forwarded"], wijk["coverage"]) == (1, 1, 1.0)
