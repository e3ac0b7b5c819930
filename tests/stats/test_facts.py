"""The evaluation follows the meldkamer's actions at once: after a report arrives, an operator claims it,
records a follow-up, relabels, lifts or lowers it, or merges incidents, the next GET /api/v1/stats counts it
as it now stands (the facts are kept up to date in app.stats.facts)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import delete

from app.intake.models import ReportFeedback
from app.stats import times
from app.stats.facts import bucket_width
from app.stats.period import today
from tests.support.http import bearer, login, post_report, westwijk_beheerders

BURGLARY = "Er wordt nu ingebroken aan de Zonnestein, twee mannen met een breekijzer bij de achterdeur"
BIKE = "Fiets gestolen bij het Westwijkplein, net gebeurd, dader op scooter"
LOOKS_ONLY = "ziet eruit als roemenen, twee vrouwen in lange rokken op de zetterij"


async def _stats(client: httpx.AsyncClient, demo: dict[str, Any]) -> dict[str, Any]:
    response = await client.get("/api/v1/stats", headers=await login(client, demo["analyst"]))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _incident_of(client: httpx.AsyncClient, headers: dict[str, str], report_id: int) -> dict[str, Any]:
    items = (await client.get("/api/v1/queue", params={"status": "", "limit": 200}, headers=headers)).json()["items"]
    incident: dict[str, Any] = next(i for i in items if any(r["id"] == report_id for r in i["reports"]))
    return incident


async def _patch(client: httpx.AsyncClient, headers: dict[str, str], incident_id: int, **change: Any) -> None:
    response = await client.patch(f"/api/v1/incidents/{incident_id}", headers=headers, json=change)
    assert response.status_code == 200, response.text


async def test_a_new_report_counts_at_once_and_its_claim_is_the_first_operator_action(client, demo):
    report = await post_report(client, westwijk_beheerders(demo)[0], BURGLARY)
    before = await _stats(client, demo)
    assert before["reports_by_category"]["total"] == 1
    assert before["times"]["first_action"]["n"] == 0

    operator = await login(client, demo["operator"])
    incident = await _incident_of(client, operator, report["id"])
    claimed = await client.post(f"/api/v1/incidents/{incident['id']}/claim", headers=operator)
    assert claimed.status_code == 200, claimed.text

    after = await _stats(client, demo)
    assert after["times"]["first_action"]["n"] == 1
    assert after["times"]["first_action"]["median_s"] >= 0


async def test_a_recorded_follow_up_and_result_count_and_time_the_follow_up(client, demo):
    report = await post_report(client, westwijk_beheerders(demo)[0], BURGLARY)
    operator = await login(client, demo["operator"])
    incident = await _incident_of(client, operator, report["id"])

    await _patch(client, operator, incident["id"], follow_up="ter_plaatse", result="aanhouding")

    stats = await _stats(client, demo)
    assert stats["follow_up"]["follow_ups"] == {"ter_plaatse": 1}
    assert stats["follow_up"]["results"] == {"aanhouding": 1}
    assert stats["times"]["first_follow_up"]["n"] == 1
    passed = stats["follow_up"]["passed_to_police"]
    assert stats["follow_up"]["with_follow_up"] == passed == 1  # a burglary now is a police matter


async def test_an_operator_relabel_moves_the_report_to_the_new_category(client, demo):
    report = await post_report(client, westwijk_beheerders(demo)[0], BURGLARY)
    before = (await _stats(client, demo))["reports_by_category"]["categories"]
    assert before.get("vermissing", 0) == 0
    operator = await login(client, demo["operator"])
    incident = await _incident_of(client, operator, report["id"])

    await _patch(client, operator, incident["id"], category="vermissing")

    after = (await _stats(client, demo))["reports_by_category"]["categories"]
    assert after == {"vermissing": 1}


async def test_reports_merged_into_a_relabelled_incident_count_with_its_label(client, demo):
    westwijk = westwijk_beheerders(demo)
    first = await post_report(client, westwijk[0], BURGLARY)
    second = await post_report(client, westwijk[1], BIKE)
    operator = await login(client, demo["operator"])
    target = await _incident_of(client, operator, first["id"])
    other = await _incident_of(client, operator, second["id"])
    assert target["id"] != other["id"]
    await _patch(client, operator, target["id"], category="informatie")
    assert (await _stats(client, demo))["reports_by_category"]["categories"].get("informatie") == 1

    merged = await client.post(f"/api/v1/incidents/{target['id']}/merge", headers=operator,
                               json={"incident_ids": [other["id"]]})
    assert merged.status_code == 200, merged.text

    stats = await _stats(client, demo)
    assert stats["reports_by_category"]["categories"] == {"informatie": 2}
    assert stats["times"]["first_action"]["n"] == 2  # the merge is an operator action on both reports


async def test_lifting_and_lowering_an_appearance_only_report_is_counted(client, demo):
    report = await post_report(client, westwijk_beheerders(demo)[0], LOOKS_ONLY)
    flagged = (await _stats(client, demo))["appearance_only"]
    assert (flagged["flagged"], flagged["lifted"], flagged["lowered"]) == (1, 0, 0)
    operator = await login(client, demo["operator"])
    incident = await _incident_of(client, operator, report["id"])

    await _patch(client, operator, incident["id"], urgency="P1")
    lifted = await _stats(client, demo)
    assert (lifted["appearance_only"]["lifted"], lifted["appearance_only"]["lowered"]) == (1, 0)
    assert lifted["follow_up"]["passed_to_police"] == 1

    await _patch(client, operator, incident["id"], urgency="none", reason="alleen uiterlijk, geen gedrag")
    lowered = await _stats(client, demo)
    assert (lowered["appearance_only"]["lifted"], lowered["appearance_only"]["lowered"]) == (0, 1)
    assert lowered["follow_up"]["passed_to_police"] == 0


async def test_the_weekly_series_of_whole_weeks_follows_an_operator_s_change_at_once(client, demo):
    monday = today() - timedelta(days=today().weekday())
    this_week = {"from": monday.isoformat(), "to": (monday + timedelta(days=6)).isoformat()}  # read from week rows
    analyst = await login(client, demo["analyst"])

    async def week() -> dict[str, Any]:
        response = await client.get("/api/v1/stats", params=this_week, headers=analyst)
        assert response.status_code == 200, response.text
        weeks: list[dict[str, Any]] = response.json()["per_week"]
        assert len(weeks) == 1
        return weeks[0]

    report = await post_report(client, westwijk_beheerders(demo)[0], LOOKS_ONLY)
    assert ((await week())["reports"], (await week())["appearance_only"]) == (1, 1)
    operator = await login(client, demo["operator"])
    incident = await _incident_of(client, operator, report["id"])
    await _patch(client, operator, incident["id"], urgency="none", reason="alleen uiterlijk, geen gedrag")
    assert (await week())["passed"] == 0
    await _patch(client, operator, incident["id"], urgency="P1")
    assert (await week())["passed"] == 1


async def test_over_many_reports_the_times_come_from_histograms_close_to_the_exact_ones(client, history,
                                                                                        monkeypatch):
    exact = (await _scripted_stats(client, history))["times"]
    monkeypatch.setattr(times, "EXACT_UP_TO", 0)
    binned = (await _scripted_stats(client, history))["times"]

    for measure in times.MEASURES:
        for got, want in [(binned[measure], exact[measure]),
                          *[(b[measure], e[measure]) for b, e in zip(binned["per_month"], exact["per_month"],
                                                                    strict=True)]]:
            assert (got["n"], got["within_baseline"]) == (want["n"], want["within_baseline"])
            for key in ("median_s", "p90_s"):
                if want[key] is None:
                    assert got[key] is None
                else:  # within the width of the bucket that holds the exact value
                    assert abs(got[key] - want[key]) <= bucket_width(max(5, int(want[key]))) + 0.1, (measure, key)


async def _scripted_stats(client: httpx.AsyncClient, world: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/stats", params={"from": "2026-01-01", "to": "2026-03-31"},
                                headers=bearer(world.analyst.token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_step_stays_counted_when_the_purge_removed_its_rows_and_the_incident_changes_later(app, client,
                                                                                                   demo):
    report = await post_report(client, westwijk_beheerders(demo)[0], BURGLARY)
    operator = await login(client, demo["operator"])
    incident = await _incident_of(client, operator, report["id"])
    await _patch(client, operator, incident["id"], follow_up="ter_plaatse")
    assert (await _stats(client, demo))["times"]["first_follow_up"]["n"] == 1
    async with app.state.sessionmaker() as session:  # what a purge of the terugkoppeling would leave
        await session.execute(delete(ReportFeedback).where(ReportFeedback.report_id == report["id"]))
        await session.commit()

    await _patch(client, operator, incident["id"], category="delict")

    stats = await _stats(client, demo)
    assert stats["times"]["first_follow_up"]["n"] == 1
    assert stats["reports_by_category"]["categories"] == {"delict": 1}
