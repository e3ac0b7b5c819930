"""The evaluation page (/stats) in a real browser over a seeded history: the charts render, and what they and
their tables show is what GET /api/v1/stats answers; the filters, the downloads and a wijkagent's own area."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.browser import CONSOLE_VIEWPORT, Server, axe_violations, meldkamer, screenshot, server_env

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

SLOW = 30_000  # ms
CHARTS = ["chart-categories", "chart-groups", "chart-weeks", "chart-follow-up", "chart-per-month", "chart-times",
          "chart-alerts", "chart-appearance"]


@pytest.fixture(scope="module")
def history_server(tmp_path_factory: pytest.TempPathFactory,
                   template_db: tuple[Any, dict[str, Any]]) -> Iterator[Server]:
    """A server over the demo registry with six weeks of seeded history (`meldkamer seed-history`)."""
    workdir = tmp_path_factory.mktemp("stats-server")
    shutil.copy(template_db[0], workdir / "db.sqlite")
    meldkamer("seed-history", "--days", "42", "--scale", "2", env=server_env(workdir))
    server = Server(workdir, template_db[1])
    server.start()
    yield server
    server.stop()


def open_stats(new_context: Any, server: Server, who: str = "analyst", query: str = "",
               refused: list[str] | None = None) -> Page:
    page: Page = new_context(viewport=CONSOLE_VIEWPORT).new_page()
    if refused is not None:  # what the Content-Security-Policy refused, and requests that leave the relay
        page.on("console", lambda message: refused.append(message.text)
                if "Content Security Policy" in message.text or "Refused to" in message.text else None)
        page.on("request", lambda request: refused.append(request.url)
                if not request.url.startswith(server.base) else None)
    page.goto(f"{server.base}/stats{query}")
    page.get_by_label("Gebruikersnaam").fill(server.credentials[who]["username"])
    page.get_by_label("Wachtwoord").fill(server.credentials[who]["password"])
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.locator("body")).to_have_attribute("data-state", "ready", timeout=SLOW)
    return page


def answer(server: Server, page: Page, who: str = "analyst", **extra: Any) -> dict[str, Any]:
    """What the API answers for the period the page shows."""
    params = {"from": page.locator("#f-from").input_value(), "to": page.locator("#f-to").input_value(), **extra}
    with server.staff(who) as client:
        response = client.get("/api/v1/stats", params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())


def chart_data(page: Page, chart_id: str) -> dict[str, Any]:
    return dict(page.evaluate("""id => {
        const chart = Chart.getChart(document.getElementById(id));
        return {labels: chart.data.labels, datasets: chart.data.datasets.map(d => ({label: d.label, data: d.data}))};
    }""", chart_id))


def painted(page: Page, chart_id: str) -> int:
    """How many pixels of the chart's canvas are not blank."""
    return int(page.evaluate("""id => {
        const canvas = document.getElementById(id);
        const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
        return painted;
    }""", chart_id))


def row_values(page: Page, table_id: str, row_name: str) -> list[float | None]:
    """The exact values of a table row (data-value), as numbers: JSON's 17.0 is JavaScript's 17."""
    row = page.locator(f"#{table_id} tbody tr").filter(has=page.locator("th", has_text=row_name)).first
    return [float(value) if value else None for value in
            (cell.get_attribute("data-value") for cell in row.locator("td").all())]


def kpi(page: Page, name: str) -> str:
    return page.locator(f'[data-kpi="{name}"] dd').inner_text().replace(".", "")  # nl-NL groups thousands with "."


def test_the_charts_render_and_show_the_numbers_of_the_api(history_server: Server, new_context: Any) -> None:
    refused: list[str] = []
    page = open_stats(new_context, history_server, refused=refused)
    data = answer(history_server, page)
    assert data["reports_by_category"]["total"] > 20
    for chart_id in CHARTS:
        assert painted(page, chart_id) > 500, chart_id

    categories = data["labels"]["categories"]
    months = data["reports_by_category"]["per_month"]
    drawn = chart_data(page, "chart-categories")
    assert drawn["labels"] == [m["month"] for m in months]
    assert [d["label"] for d in drawn["datasets"]] == [c["label"] for c in categories]
    assert [d["data"] for d in drawn["datasets"]] == [[m["categories"].get(c["code"], 0) for m in months]
                                                      for c in categories]
    weeks = chart_data(page, "chart-weeks")
    assert weeks["datasets"][0]["data"] == [w["reports"] for w in data["per_week"]]
    assert weeks["datasets"][1]["data"] == [w["passed"] for w in data["per_week"]]
    follow = chart_data(page, "chart-follow-up")["datasets"][0]["data"]
    kinds = [k["code"] for k in data["labels"]["follow_ups"]]
    expected = [data["follow_up"]["follow_ups"].get(k, 0) for k in kinds] + [data["follow_up"]["no_known_follow_up"]]
    assert follow == expected
    alerts = chart_data(page, "chart-alerts")
    assert alerts["datasets"][0]["data"] == [w["recipients"] for w in data["alerts"]["per_wijk"]]

    follow_up = data["follow_up"]
    totals = row_values(page, "table-follow-up", "Alle groepen")
    assert totals[:5] == [follow_up[key] for key in ("reports", "passed_to_police", "called_112",
                                                     "taken_on_by_meldkamer", "with_follow_up")]
    assert totals[-1] == follow_up["no_known_follow_up_share"]
    times = data["times"]["first_action"]
    assert row_values(page, "table-times", "Eerste handeling centralist")[:3] == [
        times["n"], times["median_s"], times["p90_s"]]
    assert kpi(page, "reports") == str(data["reports_by_category"]["total"])
    assert refused == []  # the vendored Chart.js runs under the CSP, and nothing is fetched from elsewhere
    screenshot(page, "stats", full_page=True)


def test_filters_narrow_the_page_and_the_downloads_follow_them(history_server: Server, new_context: Any) -> None:
    page = open_stats(new_context, history_server)
    page.locator("#f-wijk").select_option("WK036204")
    page.get_by_role("button", name="Tonen").click()
    expect(page.locator("body")).to_have_attribute("data-state", "ready", timeout=SLOW)
    data = answer(history_server, page, wijk="WK036204")
    assert kpi(page, "reports") == str(data["reports_by_category"]["total"])
    assert "wijk=WK036204" in page.url
    assert {row["wijkcode"] for row in data["reports_by_category"]["per_wijk"]} <= {"WK036204"}

    href = page.locator("#dl-csv-semicolon").get_attribute("href") or ""
    assert "format=csv" in href and "sep=semicolon" in href and "wijk=WK036204" in href
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    csv = httpx.get(f"{history_server.base}{href}", cookies=cookies, timeout=30)
    assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
    assert csv.text.splitlines()[0] == "\ufeffonderdeel;groep;wijk;gemeente;periode;maat;waarde"


def test_a_wijkagent_sees_their_own_wijken_and_an_operator_no_figures(history_server: Server,
                                                                      new_context: Any) -> None:
    page = open_stats(new_context, history_server, "wijkagent")
    wijken = page.locator("#f-wijk option").evaluate_all("options => options.map(o => o.value).filter(Boolean)")
    assert sorted(wijken) == ["WK036204", "WK036205", "WK036206"]
    data = answer(history_server, page, "wijkagent")
    assert kpi(page, "reports") == str(data["reports_by_category"]["total"]) != "0"

    operator: Page = new_context(viewport=CONSOLE_VIEWPORT).new_page()
    operator.goto(f"{history_server.base}/stats")
    operator.get_by_label("Gebruikersnaam").fill(history_server.credentials["operator"]["username"])
    operator.get_by_label("Wachtwoord").fill(history_server.credentials["operator"]["password"])
    operator.get_by_role("button", name="Aanmelden").click()
    expect(operator.locator("#login-error")).to_contain_text("geen toegang")


def test_the_page_prints_as_a_report_without_its_controls(history_server: Server, new_context: Any) -> None:
    page = open_stats(new_context, history_server, query="?wijk=WK036204")
    expect(page.locator("#report-scope")).to_contain_text("wijk Westwijk")
    page.emulate_media(media="print")
    expect(page.locator("#filters")).to_be_hidden()
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("#report-title")).to_contain_text("Evaluatie")
    pdf = page.pdf(format="A4")
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pdf.startswith(b"%PDF") and pages >= 3  # every section, charts above their tables


def map_rows(page: Page) -> dict[str, list[float | None]]:
    """The wijk map table's exact values per wijkcode: reports, households, reports per 1,000 households."""
    rows = page.locator("#table-wijkmap tbody tr").all()
    return {str(row.get_attribute("data-wijkcode")): [float(value) if value else None for value in (
        cell.get_attribute("data-value") for cell in row.locator("td[data-value]").all())] for row in rows}


def shapes(page: Page) -> dict[str, str]:
    """The drawn wijk outlines: wijkcode -> their class (1-5 or "onbekend")."""
    return dict(page.locator("#wijkmap path[data-wijkcode]").evaluate_all(
        "paths => paths.map(p => [p.dataset.wijkcode, p.dataset.class])"))


def test_the_wijk_map_shades_every_wijk_and_its_table_shows_the_api_numbers(history_server: Server,
                                                                             new_context: Any) -> None:
    with history_server.staff("admin") as admin:  # Dalem's households unknown: hatched and "onbekend"
        assert admin.patch("/api/v1/admin/wijken/WK085532", json={"households": None}).status_code == 200
    try:
        refused: list[str] = []
        page = open_stats(new_context, history_server, refused=refused)
        data = answer(history_server, page)
        with history_server.staff("analyst") as client:
            outlines = client.get("/api/v1/stats/map").json()
        in_scope = {w["wijkcode"] for g in outlines["gemeenten"] for w in g["wijken"]}
        assert len(in_scope) == 10 and set(shapes(page)) == in_scope  # one shape per wijk
        assert page.locator("#wijkmap path[data-wijkcode]").count() == 10
        assert shapes(page)["WK085532"] == "onbekend"
        assert page.locator('#wijkmap path[data-wijkcode="WK085532"]').get_attribute("fill") == "url(#hatch-onbekend)"
        assert {value for code, value in shapes(page).items() if code != "WK085532"} <= {"1", "2", "3", "4", "5"}
        assert "5" in shapes(page).values()  # the highest rate has the darkest class

        table = map_rows(page)
        assert set(table) == in_scope
        per_wijk = {row["wijkcode"]: row for row in data["reports_by_category"]["per_wijk"]}
        assert per_wijk and all(table[code] == [row["reports"], row["households"], row["reports_per_1000_households"]]
                                for code, row in per_wijk.items())
        assert all(table[code][0] == 0 for code in in_scope - set(per_wijk))  # no reports: zero, not absent
        dalem = page.locator('#table-wijkmap tr[data-wijkcode="WK085532"]')
        expect(dalem).to_contain_text("onbekend")
        expect(page.locator('[data-legend="onbekend"]')).to_contain_text("onbekend")
        expect(page.locator("#wijkmap svg[role=img] title").first).to_contain_text("Kaart")
        assert axe_violations(page, exclude=("canvas",)) == []
        assert refused == []
        page.locator("#wijkmap").scroll_into_view_if_needed()
        screenshot(page, "stats-wijkmap")

        own = open_stats(new_context, history_server, "wijkagent")
        assert set(shapes(own)) == {"WK036204", "WK036205", "WK036206"}
        own.emulate_media(media="print")
        expect(own.locator("#wijkmap svg[role=img]").first).to_be_visible()
    finally:
        with history_server.staff("admin") as admin:
            admin.patch("/api/v1/admin/wijken/WK085532", json={"households": 1700})
