"""A period that cuts months: the month counts minus the days outside the period, or the days themselves
(app.stats.period.cover), give the period's own reports, also in the histograms of the times."""

from __future__ import annotations

from collections import Counter
from datetime import date

from app.stats import times
from tests.stats.test_evaluation import category, local_day, passed
from tests.support.http import bearer

# January from the 3rd and March to the 29th: both months read whole minus their outside days; February whole.
FIRST, LAST = date(2026, 1, 3), date(2026, 3, 29)


async def _stats(client, history, first: date = FIRST, last: date = LAST) -> dict:
    response = await client.get("/api/v1/stats", params={"from": first.isoformat(), "to": last.isoformat()},
                                headers=bearer(history.analyst.token))
    assert response.status_code == 200, response.text
    return response.json()


def _ours(history, first: date = FIRST, last: date = LAST) -> list:
    return [r for r in history.reports if first <= local_day(r) <= last]


async def test_a_period_that_cuts_months_counts_only_its_own_days(client, history):
    data = await _stats(client, history)
    ours = _ours(history)
    assert len(ours) < len([r for r in history.reports if date(2026, 1, 1) <= local_day(r) <= date(2026, 3, 31)])
    assert data["reports_by_category"]["total"] == len(ours)
    assert data["reports_by_category"]["categories"] == dict(Counter(category(r) for r in ours))
    assert data["follow_up"]["passed_to_police"] == sum(passed(r) for r in ours)
    per_month = Counter(f"{local_day(r):%Y-%m}" for r in ours)
    assert data["per_month"]["reports"] == {month: per_month[month] for month in data["per_month"]["months"]}
    per_group = Counter(r.group_id for r in ours)
    assert {row["group_id"]: row["total"] for row in data["reports_by_category"]["per_group_total"]} == per_group


async def test_a_few_days_inside_one_month_are_read_from_the_days(client, history):
    first, last = date(2026, 2, 10), date(2026, 2, 20)
    data = await _stats(client, history, first, last)
    assert data["reports_by_category"]["total"] == len(_ours(history, first, last))


async def test_the_histograms_count_the_period_s_own_durations(client, history, monkeypatch):
    monkeypatch.setattr(times, "EXACT_UP_TO", 0)  # as over 20,000 reports: from the histograms
    data = (await _stats(client, history))["times"]
    ours = _ours(history)
    for measure, after in (("first_action", "first_action_after"), ("first_follow_up", "follow_up_after"),
                           ("feedback_delivered", "feedback_delivered_after")):
        seconds = [getattr(r, after).total_seconds() for r in ours if getattr(r, after) is not None]
        assert data[measure]["n"] == len(seconds)
        assert data[measure]["within_baseline"] == sum(s <= times.HUMAN_RELAY_SECONDS for s in seconds)


def _week(report) -> str:
    return "{}-W{:02d}".format(*local_day(report).isocalendar()[:2])


async def test_a_period_from_mid_week_reads_whole_weeks_and_its_cut_weeks_alike(client, history):
    first, last = date(2026, 1, 7), date(2026, 3, 26)  # a Wednesday to a Thursday: both end weeks are cut
    weeks = (await _stats(client, history, first, last))["per_week"]
    assert (weeks[0]["from"], weeks[0]["to"], weeks[-1]["from"], weeks[-1]["to"]) == (
        "2026-01-07", "2026-01-11", "2026-03-23", "2026-03-26")
    ours = _ours(history, first, last)
    for name, counted in (("reports", ours), ("passed", [r for r in ours if passed(r)]),
                          ("appearance_only", [r for r in ours if r.appearance_only])):
        assert {w["week"]: w[name] for w in weeks if w[name]} == Counter(_week(r) for r in counted)
