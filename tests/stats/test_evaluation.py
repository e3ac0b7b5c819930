"""GET /api/v1/stats over a scripted history: every figure against the same figure computed here, in plain
Python over the script (never by asking the database)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.http import bearer

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FIRST, LAST = date(2026, 1, 1), date(2026, 3, 31)
MONTHS = ["2026-01", "2026-02", "2026-03"]
GEMEENTE = {"WK036204": "GM0362", "WK036206": "GM0362", "WK036302": "GM0363"}
RANK = {"P1": 0, "P2": 1, "P3": 2, "none": 3}
PERIOD = {"from": FIRST.isoformat(), "to": LAST.isoformat()}


async def _stats(client, world, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/stats", params={**PERIOD, **params}, headers=bearer(world.analyst.token))
    assert response.status_code == 200, response.text
    return response.json()


# ---- the script's own figures ------------------------------------------------------------------------------


def local_day(report) -> date:
    return report.received_at.astimezone(AMSTERDAM).date()


def in_period(world) -> list:
    return [r for r in world.reports if FIRST <= local_day(r) <= LAST]


def month(report) -> str:
    return f"{local_day(report):%Y-%m}"


def category(report) -> str:
    return report.operator.get("category", report.category)


def offence(report) -> str:
    return report.operator.get("offence", report.offence) or "none"


def urgency(report) -> str:
    return report.operator.get("urgency", report.urgency)


def passed(report) -> bool:
    return report.called_112 or urgency(report) != "none"


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def spread(seconds: list[float]) -> dict[str, Any]:
    if not seconds:
        return {"n": 0, "median_s": None, "p90_s": None}
    p90 = seconds[0] if len(seconds) == 1 else statistics.quantiles(seconds, n=10, method="inclusive")[8]
    return {"n": len(seconds), "median_s": round(statistics.median(seconds), 1), "p90_s": round(p90, 1)}


# ---- the tests ----------------------------------------------------------------------------------------------


async def test_the_answer_has_the_contracted_sections(client, history):
    data = await _stats(client, history)
    for key in ("reports_by_category", "follow_up", "per_month", "times", "alerts", "appearance_only"):
        assert key in data
    assert data["period"] == {"from": "2026-01-01", "to": "2026-03-31", "days": 90, "months": MONTHS,
                              "timezone": "Europe/Amsterdam"}


async def test_reports_by_group_month_category_and_offence_follow_table_3_1(client, history):
    data = (await _stats(client, history))["reports_by_category"]
    reports = in_period(history)
    expected: dict[tuple[int, str], list] = defaultdict(list)
    for report in reports:
        expected[(report.group_id, month(report))].append(report)
    answered = {(row["group_id"], row["month"]): row for row in data["per_group"]}
    assert set(answered) == set(expected)
    for key, rows in expected.items():
        assert answered[key]["total"] == len(rows)
        assert answered[key]["categories"] == Counter(category(r) for r in rows)
        assert answered[key]["offences"] == Counter(offence(r) for r in rows)
    per_wijk = {row["wijkcode"]: row for row in data["per_wijk"]}
    assert {code: row["categories"] for code, row in per_wijk.items()} == {
        code: Counter(category(r) for r in reports if r.wijkcode == code) for code in {r.wijkcode for r in reports}}
    per_gemeente = {row["gemeentecode"]: row["total"] for row in data["per_gemeente"]}
    assert per_gemeente == Counter(GEMEENTE[r.wijkcode] for r in reports)
    assert data["total"] == len(reports) and data["offences"] == Counter(offence(r) for r in reports)


async def test_the_month_is_the_amsterdam_month_and_the_period_ends_at_amsterdam_midnight(client, history):
    data = await _stats(client, history)
    # 2026-01-31 23:30 UTC is 1 February in Amsterdam; 2026-03-31 22:30 UTC is already April there
    late_january = [r for r in history.reports if r.received_at.isoformat().startswith("2026-01-31T23:30")]
    assert [month(r) for r in late_january] == ["2026-02"]
    assert data["per_month"]["reports"] == Counter(month(r) for r in in_period(history))
    assert data["reports_by_category"]["total"] == len(in_period(history)) < len(history.reports) - 1


async def test_follow_up_per_group_follows_table_3_4(client, history):
    data = (await _stats(client, history))["follow_up"]
    by_group: dict[int, list] = defaultdict(list)
    for report in in_period(history):
        by_group[report.group_id].append(report)
    answered = {row["group_id"]: row for row in data["per_group"]}
    assert set(answered) == set(by_group)
    for group_id, rows in by_group.items():
        handed = [r for r in rows if passed(r)]
        followed = [r for r in handed if r.follow_up not in (None, "geen_opvolging")]
        row = answered[group_id]
        assert (row["reports"], row["passed_to_police"], row["called_112"], row["taken_on_by_meldkamer"]) == (
            len(rows), len(handed), sum(r.called_112 for r in rows), sum(not r.called_112 for r in handed))
        assert row["with_follow_up"] == len(followed)
        assert row["follow_ups"] == Counter(r.follow_up for r in rows if r.follow_up)
        assert row["results"] == Counter(r.result for r in rows if r.result)
        assert row["no_known_follow_up"] == len(handed) - len(followed)
        assert row["no_known_follow_up_share"] == share(len(handed) - len(followed), len(handed))
    everything = in_period(history)
    assert data["passed_to_police"] == sum(passed(r) for r in everything)


async def test_reports_and_passed_per_month_per_group_follow_table_3_5(client, history):
    data = (await _stats(client, history))["per_month"]
    assert data["months"] == MONTHS
    month_equivalents = 90 / (365.25 / 12)
    for row in data["per_group"]:
        rows = [r for r in in_period(history) if r.group_id == row["group_id"]]
        assert row["reports"] == {m: sum(month(r) == m for r in rows) for m in MONTHS}
        assert row["passed"] == {m: sum(month(r) == m and passed(r) for r in rows) for m in MONTHS}
        assert row["passed_per_month"] == round(sum(passed(r) for r in rows) / month_equivalents, 2)
    assert sum(row["total"] for row in data["per_group"]) == len(in_period(history))


@pytest.mark.parametrize("measure, after", [("first_action", "first_action_after"),
                                            ("first_follow_up", "follow_up_after"),
                                            ("feedback_delivered", "feedback_delivered_after")])
async def test_times_median_and_p90_overall_and_per_month(client, history, measure, after):
    data = (await _stats(client, history))["times"]
    assert data["baseline_s"] == 600

    def seconds(reports: list) -> list[float]:
        return [getattr(r, after).total_seconds() for r in reports if getattr(r, after) is not None]

    overall = seconds(in_period(history))
    assert len(overall) >= 10
    assert {k: data[measure][k] for k in ("n", "median_s", "p90_s")} == spread(overall)
    assert data[measure]["within_baseline"] == sum(s <= 600 for s in overall)
    for row in data["per_month"]:
        expected = spread(seconds([r for r in in_period(history) if month(r) == row["month"]]))
        assert {k: row[measure][k] for k in ("n", "median_s", "p90_s")} == expected


async def test_alerts_per_wijk_coverage_and_time_to_ninety_percent(client, history):
    data = (await _stats(client, history))["alerts"]
    alerts = [a for a in history.alerts if FIRST <= a.created_at.astimezone(AMSTERDAM).date() <= LAST]
    current = [(alert, d) for alert in alerts for d in alert.deliveries if not d.superseded]
    assert (data["alerts"], data["recipients"]) == (len(alerts), len(current))
    assert data["delivered"] == sum(d.delivered_after is not None for _, d in current)
    assert data["read"] == sum(d.read_after is not None for _, d in current)
    assert data["forwarded"] == sum(d.forwarded_after is not None for _, d in current)
    assert data["failed"] == sum(d.failed for _, d in current)

    per_wijk = {row["wijkcode"]: row for row in data["per_wijk"]}
    for code in ("WK036204", "WK036206", "WK036302"):
        groups = {g for g, w in history.group_wijk.items() if w == code}
        reached = [(a, d) for a, d in current if groups & set(history.beheerder_groups[d.beheerder_id])]
        assert per_wijk[code]["recipients"] == len(reached)
        assert per_wijk[code]["forwarded"] == sum(d.forwarded_after is not None for _, d in reached)
        pairs = {(id(a), g): False for a, d in reached for g in groups & set(history.beheerder_groups[d.beheerder_id])}
        for a, d in reached:
            for g in groups & set(history.beheerder_groups[d.beheerder_id]):
                pairs[(id(a), g)] |= d.forwarded_after is not None
        assert per_wijk[code]["group_alerts"] == len(pairs)
        assert per_wijk[code]["coverage"] == share(sum(pairs.values()), len(pairs))

    ninety = []
    for alert in alerts:
        rows = [d for d in alert.deliveries if not d.superseded]
        needed = -(-9 * len(rows) // 10)
        delivered = sorted(d.delivered_after for d in rows if d.delivered_after is not None)
        if len(delivered) >= needed:
            ninety.append(delivered[needed - 1].total_seconds())
    expected = spread(ninety)
    assert data["time_to_90_delivered"] == {"alerts_reached": expected["n"], "median_s": expected["median_s"],
                                            "p90_s": expected["p90_s"]}


async def test_appearance_only_share_per_wijk_and_month_and_operator_changes(client, history):
    data = (await _stats(client, history))["appearance_only"]
    reports = in_period(history)
    flagged = [r for r in reports if r.appearance_only]
    assert flagged and (data["reports"], data["flagged"]) == (len(reports), len(flagged))
    assert data["share"] == share(len(flagged), len(reports))
    set_urgency = [r for r in flagged if "urgency" in r.operator]
    assert data["lifted"] == sum(RANK[r.operator["urgency"]] < RANK[r.urgency] for r in set_urgency)
    assert data["lowered"] == sum(RANK[r.operator["urgency"]] > RANK[r.urgency] for r in set_urgency)
    for row in data["per_wijk"]:
        rows = [r for r in reports if r.wijkcode == row["wijkcode"]]
        assert (row["reports"], row["flagged"]) == (len(rows), sum(r.appearance_only for r in rows))
    assert [row["flagged"] for row in data["per_month"]] == [sum(month(r) == m for r in flagged) for m in MONTHS]


async def test_weeks_are_iso_weeks_of_amsterdam_days(client, history):
    weeks = (await _stats(client, history))["per_week"]
    assert weeks[0] == {**weeks[0], "week": "2026-W01", "from": "2026-01-01", "to": "2026-01-04"}
    assert weeks[-1]["to"] == "2026-03-31"
    expected = Counter("{}-W{:02d}".format(*local_day(r).isocalendar()[:2]) for r in in_period(history))
    assert {w["week"]: w["reports"] for w in weeks if w["reports"]} == expected
    days = sum((date.fromisoformat(w["to"]) - date.fromisoformat(w["from"]) + timedelta(days=1)).days for w in weeks)
    assert days == 90
