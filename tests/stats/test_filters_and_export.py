"""GET /api/v1/stats: who may ask, the area filters, a wijkagent's own wijken, bad input, and the CSV export."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.support import builders
from tests.support.http import bearer, problem

PERIOD = {"from": "2026-01-01", "to": "2026-03-31"}
WESTWIJK, BOVENKERK, LASTAGE = "WK036204", "WK036206", "WK036302"


async def _get(client, token: str, **params: Any):
    return await client.get("/api/v1/stats", params={**PERIOD, **params}, headers=bearer(token))


def _wijken(data: dict[str, Any]) -> set[str]:
    return {row["wijkcode"] for row in data["reports_by_category"]["per_wijk"]}


async def test_analysts_specialists_and_admins_may_read_operators_and_beheerders_may_not(app, client, history):
    for role in ("specialist", "admin"):
        account = await builders.staff(app, role)
        assert (await _get(client, account.token)).status_code == 200
    assert problem(await _get(client, history.operator.token))["status"] == 403
    beheerder = await builders.beheerder(app, group_ids=[history.groups["lastage"]])
    assert (await _get(client, beheerder.token)).status_code == 403
    assert (await client.get("/api/v1/stats", params=PERIOD)).status_code == 401


async def test_area_filters_narrow_every_section(client, history):
    everything = (await _get(client, history.analyst.token)).json()
    assert _wijken(everything) == {WESTWIJK, BOVENKERK, LASTAGE}
    bovenkerk = (await _get(client, history.analyst.token, wijk=BOVENKERK)).json()
    assert _wijken(bovenkerk) == {BOVENKERK}
    assert bovenkerk["reports_by_category"]["total"] == next(
        row["total"] for row in everything["reports_by_category"]["per_wijk"] if row["wijkcode"] == BOVENKERK)
    assert {row["wijkcode"] for row in bovenkerk["alerts"]["per_wijk"]} == {BOVENKERK}
    amstelveen = (await _get(client, history.analyst.token, gemeente="GM0362")).json()
    assert _wijken(amstelveen) == {WESTWIJK, BOVENKERK}
    group = (await _get(client, history.analyst.token, group=history.groups["west-2"])).json()
    assert {row["group_id"] for row in group["follow_up"]["per_group"]} == {history.groups["west-2"]}


async def test_a_wijkagent_sees_only_their_own_wijken(client, history):
    own = (await _get(client, history.wijkagent.token)).json()
    assert _wijken(own) == {WESTWIJK, BOVENKERK}
    assert {row["wijkcode"] for row in own["alerts"]["per_wijk"]} == {WESTWIJK, BOVENKERK}
    refused = problem(await _get(client, history.wijkagent.token, wijk=LASTAGE))
    assert refused["status"] == 403 and refused["field"] == "wijk"
    refused = problem(await _get(client, history.wijkagent.token, group=history.groups["lastage"]))
    assert refused["status"] == 403 and refused["field"] == "group"
    # another gemeente's filter is no way around it: nothing of Lastage shows
    amsterdam = (await _get(client, history.wijkagent.token, gemeente="GM0363")).json()
    assert amsterdam["reports_by_category"]["total"] == 0 and amsterdam["alerts"]["recipients"] == 0


async def test_bad_input_is_a_problem_with_a_dutch_title(client, history):
    token = history.analyst.token
    backwards = problem(await client.get("/api/v1/stats", params={"from": "2026-03-01", "to": "2026-02-01"},
                                         headers=bearer(token)))
    assert (backwards["status"], backwards["title"], backwards["field"]) == (422, "Ongeldige periode", "to")
    too_long = problem(await client.get("/api/v1/stats", params={"from": "2024-01-01", "to": "2025-12-31"},
                                        headers=bearer(token)))
    assert (too_long["status"], too_long["title"]) == (422, "Periode te lang")
    unknown = problem(await _get(client, token, wijk="WK999999"))
    assert (unknown["status"], unknown["title"], unknown["field"]) == (422, "Onbekende wijk", "wijk")
    assert problem(await _get(client, token, gemeente="GM9999"))["title"] == "Onbekende gemeente"
    assert problem(await _get(client, token, group=999_999))["title"] == "Onbekende groep"
    assert problem(await _get(client, token, region="XYZ"))["title"] == "Onbekende regio"
    not_a_date = problem(await client.get("/api/v1/stats", params={"from": "1-1-2026"}, headers=bearer(token)))
    assert not_a_date["status"] == 422 and not_a_date["field"] == "from"
    assert problem(await _get(client, token, format="xlsx"))["field"] == "format"


def _csv_rows(response) -> list[dict[str, str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    separator = ";" if text.splitlines()[0].count(";") else ","
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=separator))


def _value(rows: list[dict[str, str]], **where: str) -> str:
    [row] = [row for row in rows if all(row[key] == value for key, value in where.items())]
    return row["waarde"]


async def test_csv_carries_the_json_figures_with_a_bom_and_a_dutch_separator_option(client, history):
    data = (await _get(client, history.analyst.token)).json()
    response = await _get(client, history.analyst.token, format="csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert 'filename="meldkamer-cijfers-2026-01-01-2026-03-31.csv"' in response.headers["content-disposition"]
    rows = _csv_rows(response)
    assert list(rows[0]) == ["onderdeel", "groep", "wijk", "gemeente", "periode", "maat", "waarde"]
    follow_up = data["follow_up"]
    assert _value(rows, onderdeel="opvolging", groep="alle groepen", maat="doorgegeven aan de politie") == str(
        follow_up["passed_to_police"])
    lastage = next(row for row in data["per_month"]["per_group"] if row["group"] == "Lastage")
    assert _value(rows, onderdeel="meldingen per maand", groep="Lastage", periode="2026-02", maat="meldingen") == str(
        lastage["reports"]["2026-02"])

    semicolon = _csv_rows(await _get(client, history.analyst.token, format="csv", sep="semicolon"))
    share = follow_up["no_known_follow_up_share"]
    assert _value(semicolon, onderdeel="opvolging", groep="alle groepen",
                  maat="aandeel zonder bekende opvolging") == f"{share:.4f}".rstrip("0").replace(".", ",")
    median = data["times"]["first_action"]["median_s"]
    assert _value(semicolon, onderdeel="tijden", periode="", maat="eerste handeling centralist: mediaan (s)") == (
        f"{median:.4f}".rstrip("0").rstrip(".").replace(".", ","))


async def test_the_filter_choices_are_the_callers_area(client, history):
    everything = (await client.get("/api/v1/stats/areas", headers=bearer(history.analyst.token))).json()
    assert {w["code"] for w in everything["wijken"]} == {WESTWIJK, BOVENKERK, LASTAGE}
    assert {g["id"] for g in everything["groups"]} == set(history.groups.values())
    own = (await client.get("/api/v1/stats/areas", headers=bearer(history.wijkagent.token))).json()
    assert {w["code"] for w in own["wijken"]} == {WESTWIJK, BOVENKERK}
    assert {g["name"] for g in own["groups"]} == {"Westwijk Een", "Westwijk Twee", "Bovenkerk"}
    assert {g["code"] for g in own["gemeenten"]} == {"GM0362"}
    assert (await client.get("/api/v1/stats/areas", headers=bearer(history.operator.token))).status_code == 403
