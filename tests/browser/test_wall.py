"""The videowall on a busy night: every open P1/P2 on one screen, a new P1 at once, pages when even that is
not enough, the map's numbered markers, and a lost connection that nobody can miss.

Waiting is Playwright's own (expect ... timeout); nothing here sleeps."""

from __future__ import annotations

import math
import re
from itertools import product
from typing import Any

import pytest

from tests.browser.test_ui import LIVE, SLOW, post_through_other_instance
from tests.support.browser import WALL_VIEWPORT, Server, axe_violations, screenshot

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

# One text per offence, naming no street, so that the incident lies in the reporting group's wijk; one
# offence per wijk stays one incident.
P1_TEXTS = {
    "woninginbraak": "Er wordt nu ingebroken bij een woning hier in de buurt, twee mannen bij de achterdeur",
    "autokraak": "Nu breekt iemand een geparkeerde auto open en pakt een tas eruit",
    "fietsdiefstal": "Nu probeert iemand hier fietsen open te knippen, hij is nog bezig",
    "brandstichting": "Nu brand in een container, iemand heeft hem aangestoken en rent weg",
    "geweld": "Nu een vechtpartij op straat, twee mannen slaan op een jongen in",
    "diefstal": "Zojuist is een pakketje van de stoep gestolen, de dief loopt nog in de straat",
    "vernieling": "Nu worden hier de ruiten van bushokjes vernield door een groep jongeren",
}
P2_TEXTS = {
    "oplichting": "Net een oude man opgelicht door een nepmonteur, de man loopt nog in de buurt",
    "drugshandel": "Er wordt hier nu openlijk gedeald bij het speeltuintje, jongens met scooters",
    "aanrijding": "Iemand is hier net aangereden door een scooter die doorreed, de bestuurder rijdt weg",
}
WIJKEN = ["WK036204", "WK036205", "WK036206", "WK036301", "WK036302"]  # the wall's region
ARMED_ROBBERY = "Nu een overval op de juwelier hier, de overvallers bedreigen het personeel met een pistool"
BUSY = 24
UHD_VIEWPORT = {"width": 3840, "height": 2160}


def busy_night(server: Server, p2: int = BUSY - 14) -> dict[str, list[int]]:
    """Open incidents in the wall's region: 14 P1 (in Westwijk and Middenhoven) and `p2` P2 (all over the
    region, at most 15); their ids by urgency."""
    scene = [(wijk, text) for wijk, text in product(WIJKEN[:2], P1_TEXTS.values())]
    scene += [(wijk, text) for text, wijk in product(P2_TEXTS.values(), WIJKEN)][:p2]
    reports = [server.report(server.beheerder(wijk), text) for wijk, text in scene]
    with server.staff("analyst") as analyst:
        items = analyst.get("/api/v1/queue", params={"limit": 200}).json()["items"]
    ids: dict[str, list[int]] = {"P1": [], "P2": []}
    for item in items:
        if any(r["id"] in {report["id"] for report in reports} for r in item["reports"]):
            ids[item["urgency"]].append(item["id"])
    assert (len(ids["P1"]), len(ids["P2"])) == (14, p2), ids
    return ids


def open_wall(new_context: Any, server: Server, viewport: dict[str, int] = WALL_VIEWPORT) -> Page:
    page: Page = new_context(viewport=viewport).new_page()
    page.goto(f"{server.base}/wall#token={server.credentials['wall_token']}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "open", timeout=SLOW)
    expect(page.locator("#cards-loading")).to_be_hidden(timeout=SLOW)
    return page


def card(page: Page, incident_id: int) -> Any:
    return page.locator(f"[data-incident-id='{incident_id}']")


def expect_on_screen(page: Page, ids: list[int], timeout: int = LIVE) -> None:
    for incident_id in ids:
        expect(card(page, incident_id)).to_be_in_viewport(ratio=0.99, timeout=timeout)


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_a_busy_night_fits_one_screen_and_a_new_armed_robbery_leads_it(own_server: Server, new_context: Any) -> None:
    server = own_server
    ids = busy_night(server)
    wall = open_wall(new_context, server)
    expect(wall.locator("[data-incident-id]")).to_have_count(BUSY)
    expect_on_screen(wall, ids["P1"] + ids["P2"])
    expect(wall.locator("#cards")).to_have_attribute("data-density", "rows")
    expect(wall.locator("#cards-pager")).to_be_hidden()
    # a compact row still says what, where, how long ago, how many reports and whether anyone acts
    row = card(wall, ids["P2"][0]).inner_text()  # what is shown, not what is hidden in the row
    for fact in (r"Oplichting|Drugshandel|Aanrijding", r"Westwijk|Middenhoven|Bovenkerk|Burgwallen|Nieuwmarkt",
                 r"\b\d+:\d\d\b", r"\b1 melding\b", r"\bGeen opvolging\b"):
        assert re.search(fact, row), (fact, row)
    assert "Net een oude man" not in row and "Er wordt hier" not in row  # no report text in a compact row
    # unhandled P1s first, then the P2s
    urgencies = wall.locator("[data-incident-id]").evaluate_all("cards => cards.map(c => c.dataset.urgency)")
    assert urgencies == ["P1"] * 14 + ["P2"] * 10

    robbery = server.report(server.beheerder("WK036301"), ARMED_ROBBERY)
    new_id = server.incident_of(robbery["id"])["id"]
    new = card(wall, new_id)
    expect(new).to_be_in_viewport(ratio=0.99, timeout=LIVE)
    expect(wall.locator("[data-incident-id]").first).to_have_attribute("data-incident-id", str(new_id))
    expect(new).to_have_class(re.compile(r"\bflash\b"))
    expect(new.locator(".new-tag")).to_have_text("NIEUW")
    expect(new.locator(".r-lead")).to_contain_text("Wapen ('pistool')")  # the most serious fact, on the row
    expect_on_screen(wall, ids["P1"] + ids["P2"])  # and nothing fell off for it
    screenshot(wall, "wall-busy")

    # the map: one numbered marker per card, none on a wijk name
    numbers = wall.locator("[data-incident-id] .num").all_inner_texts()
    marker_labels = wall.locator("svg .marker-group .marker-label").all_text_contents()
    assert sorted(marker_labels, key=int) == sorted(numbers, key=int) == [str(n) for n in range(1, BUSY + 2)]
    names = [box for box in (label.bounding_box() for label in wall.locator("svg .wijk-label").all()) if box]
    markers = [box for box in (m.bounding_box() for m in wall.locator("svg circle.marker").all()) if box]
    assert names and len(markers) == BUSY + 1
    assert [(n, m) for n in names for m in markers if overlaps(n, m)] == [], (names, markers)
    centres = [(m["x"] + m["width"] / 2, m["y"] + m["height"] / 2, m["width"] / 2) for m in markers]
    hidden = [(a, b) for i, a in enumerate(centres) for b in centres[i + 1:]
              if math.dist(a[:2], b[:2]) < 1.6 * a[2]]  # one marker's number under another
    assert hidden == []

    assert axe_violations(wall) == []


def test_when_even_rows_do_not_fit_the_wall_pages_and_keeps_every_p1(own_server: Server, new_context: Any) -> None:
    server = own_server
    ids = busy_night(server, p2=15)  # 29: more than fit on 1920x1080
    wall = open_wall(new_context, server)
    pager = wall.locator("#cards-pager")
    expect(pager).to_have_text(re.compile(r"^pagina 1/\d · alle P1's staan op elke pagina$"))
    expect_on_screen(wall, ids["P1"])
    first_page = {i for i in ids["P2"] if card(wall, i).is_visible()}
    assert first_page and len(first_page) < len(ids["P2"])
    # the map tells apart the incidents whose card is on another page
    off = wall.locator("svg .marker-group.off")
    expect(off).to_have_count(len(ids["P2"]) - len(first_page))

    expect(pager).to_have_text(re.compile(r"^pagina 2/\d"), timeout=SLOW)  # turns by itself
    expect_on_screen(wall, ids["P1"])
    second_page = {i for i in ids["P2"] if card(wall, i).is_visible()}
    assert second_page and not second_page & first_page

    # a 3840x2160 wall holds more: all of them on one page
    uhd = open_wall(new_context, server, viewport=UHD_VIEWPORT)
    expect_on_screen(uhd, ids["P1"] + ids["P2"], timeout=SLOW)
    expect(uhd.locator("#cards-pager")).to_be_hidden()


def test_a_lost_connection_dims_the_wall_and_says_since_when_until_it_is_back(own_server: Server,
                                                                              new_context: Any) -> None:
    server = own_server
    before = server.report(server.beheerder("WK036301"),
                           "Zojuist is er een vrouw beroofd op de Zeedijk, dader rent richting Nieuwmarkt in rode jas")
    wall = open_wall(new_context, server)
    expect(card(wall, server.incident_of(before["id"])["id"])).to_be_visible(timeout=LIVE)
    lost = wall.locator("#lost")
    expect(lost).to_be_hidden()

    server.stop()
    expect(lost).to_be_visible(timeout=10_000)
    expect(lost).to_contain_text(re.compile(r"Geen verbinding sinds \d\d:\d\d:\d\d"))
    expect(wall.locator("body")).to_have_class(re.compile(r"\bdisconnected\b"))  # dimmed
    age = wall.locator("[data-incident-id] .age").first
    frozen = age.inner_text()
    clock = wall.locator("#clock").inner_text()
    expect(wall.locator("#clock")).not_to_have_text(clock)  # a second went by: the clock runs on ...
    assert age.inner_text() == frozen  # ... and the card's timer stands still
    screenshot(wall, "wall-offline")
    assert axe_violations(wall) == []

    while_down = post_through_other_instance(
        server, server.beheerder("WK036204"),
        "Nu brand in een container bij het Westwijkplein, iemand heeft hem aangestoken en rent weg")
    server.start()
    expect(lost).to_be_hidden(timeout=SLOW)
    expect(wall.locator("body")).not_to_have_class(re.compile(r"\bdisconnected\b"))
    expect(card(wall, server.incident_of(while_down["id"])["id"])).to_be_visible(timeout=SLOW)  # caught up
    expect(age).not_to_have_text(frozen)

