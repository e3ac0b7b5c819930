"""Operations in Chromium against the real server: a specialist creates one (the live count of beheerders in the
area while it is edited, the overlap warning), invites, watches a beheerder's join arrive without reloading,
messages the participants, closes it and reads the day report; a planned one is changed; axe-core finds no
violations on these pages; the queue's "Actie" filter and the wall's banner follow the operation; a beheerder
joins and leaves in the portal. The demo seeds one planned DDO day in Westwijk and one open probleemaanpak."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser.test_portal import open_portal, too_small
from tests.support.browser import Server, axe_violations, screenshot

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

LIVE = 5_000  # ms
SLOW = 30_000  # ms
VIEWPORT = {"width": 1440, "height": 900}
WESTWIJK = "WK036204"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def open_console(new_context: Any, server: Server, who: str = "specialist") -> Page:
    page: Page = new_context(viewport=VIEWPORT).new_page()
    page.goto(f"{server.base}/ops")
    page.get_by_label("Gebruikersnaam").fill(server.credentials[who]["username"])
    page.get_by_label("Wachtwoord").fill(server.credentials[who]["password"])
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.locator("#conn")).to_have_attribute("data-state", "open", timeout=SLOW)
    return page


def view(page: Page) -> Any:
    """The operations pages (the queue's dialogs have fields with the same labels)."""
    return page.locator("#operations-view")


def beheerders_in(server: Server, wijkcode: str) -> list[dict[str, Any]]:
    return [b for b in server.credentials["beheerders"] if wijkcode in b["wijkcodes"]]


def demo_operation(server: Server, name: str) -> dict[str, Any]:
    with server.staff("analyst") as analyst:
        items = analyst.get("/api/v1/operations", params={"limit": 200}).json()["items"]
    return dict(next(o for o in items if o["name"] == name))


def as_input(moment: datetime) -> str:
    return moment.astimezone(AMSTERDAM).strftime("%Y-%m-%dT%H:%M")


def test_a_specialist_runs_an_operation_from_planning_to_its_day_report(server: Server, new_context: Any) -> None:
    console = open_console(new_context, server)
    console.get_by_role("link", name="Acties").click()
    expect(console.locator("table[data-status='gepland']")).to_contain_text("DDO Westwijk")
    expect(console.locator("table[data-status='open']")).to_contain_text("Fietsendiefstal Middenhoven")
    assert axe_violations(console) == []

    console.get_by_role("link", name="Nieuwe actie").click()
    view(console).get_by_label("Naam", exact=True).fill("DDO Westwijk extra")
    view(console).get_by_label("Soort").select_option(label="DDO-actiedag")
    planned = demo_operation(server, "DDO Westwijk")
    view(console).get_by_label("Begin (Nederlandse tijd)").fill(planned["starts_at"][:16])
    view(console).get_by_label("Einde (Nederlandse tijd)").fill(planned["ends_at"][:16])
    console.locator("#op-area-wijken label", has_text="Westwijk").first.locator("input").check()
    expected = len(beheerders_in(server, WESTWIJK))
    expect(console.locator("#op-count")).to_have_attribute("data-beheerders", str(expected), timeout=LIVE)
    expect(console.locator("#op-count")).to_contain_text(f"{expected} beheerders in dit gebied")
    expect(console.locator("#op-overlap")).to_contain_text("DDO Westwijk")
    expect(console.locator(f"#op-map [data-wijkcode='{WESTWIJK}']")).to_have_class(re.compile(r"\bchosen\b"))
    assert axe_violations(console) == []
    screenshot(console, "ops-operation-form")

    now = datetime.now(UTC)
    view(console).get_by_label("Begin (Nederlandse tijd)").fill(as_input(now - timedelta(hours=1)))
    view(console).get_by_label("Einde (Nederlandse tijd)").fill(as_input(now + timedelta(hours=5)))
    expect(console.locator("#op-overlap")).to_have_count(0, timeout=LIVE)
    view(console).get_by_label("Briefing voor de deelnemers").fill(
        "Let op mensen die aan deuren en ramen voelen. Bel 112, spreek niemand aan, maak geen foto's van personen.")
    console.get_by_role("button", name="Actie aanmaken").click()
    expect(console.locator("#op-status")).to_have_text("Open", timeout=LIVE)
    operation_id = int(console.evaluate("location.hash").split("/")[1])

    console.get_by_role("button", name="Beheerders uitnodigen").click()
    rows = console.locator("#op-participant-table tbody tr")
    expect(rows).to_have_count(expected, timeout=LIVE)
    expect(console.locator("#op-counts [data-count='no_answer']")).to_have_text(str(expected))

    joining = beheerders_in(server, WESTWIJK)[0]
    joined = httpx.post(f"{server.base}/api/v1/operations/{operation_id}/join", timeout=30,
                        headers={"Authorization": f"Bearer {joining['token']}"})
    assert joined.status_code == 200, joined.text
    expect(console.locator(f"#op-participant-table tr[data-beheerder='{joining['id']}']")).to_contain_text(
        "Doet mee", timeout=LIVE)
    expect(console.locator("#op-counts [data-count='joined']")).to_have_text("1")
    assert axe_violations(console) == []
    screenshot(console, "ops-operation")

    console.get_by_role("button", name="Bericht aan deelnemers").click()
    console.locator("#op-message-text").fill("Verdachte situatie bij de Poortwachter: houd de achterpaden in de gaten.")
    console.locator("#op-message-dialog").get_by_role("button", name="Versturen").click()
    expect(console.locator("#toasts")).to_contain_text("Bericht verstuurd naar 1 deelnemers")

    console.get_by_role("button", name="Actie sluiten").click()
    dialog = console.locator("#op-close-dialog")
    expect(dialog).to_contain_text("DDO Westwijk extra")
    dialog.get_by_label("Dank en resultaten (mag leeg)").fill("Dank voor uw hulp: er is één verdachte aangehouden.")
    dialog.get_by_role("button", name="Sluiten").click()
    expect(console.locator("#op-status")).to_have_text("Gesloten", timeout=LIVE)
    expect(console.get_by_role("button", name="Beheerders uitnodigen")).to_have_count(0)

    console.get_by_role("link", name="Dagrapport").click()
    expect(console.locator("[data-figure='invited'] b")).to_have_text(str(expected), timeout=LIVE)
    expect(console.locator("[data-figure='joined'] b")).to_have_text("1")
    purposes = console.locator("table[data-part='messages'] tbody tr")
    expect(purposes).to_have_count(3)
    expect(console.locator("tr[data-purpose='message'] td").nth(2)).to_have_text("1")  # recipients
    csv = console.get_by_role("link", name="CSV downloaden")
    expect(csv).to_have_attribute("href", f"/api/v1/operations/{operation_id}/report?format=csv")
    assert axe_violations(console) == []
    console.emulate_media(media="print")
    expect(console.locator("header.top")).to_be_hidden()
    expect(console.locator("#op-figures")).to_be_visible()


def test_a_planned_operation_is_changed_in_its_form(server: Server, new_context: Any) -> None:
    console = open_console(new_context, server)
    planned = demo_operation(server, "DDO Westwijk")
    console.goto(f"{server.base}/ops#acties/{planned['id']}")
    console.get_by_role("link", name="Wijzigen").click()
    expect(view(console).get_by_label("Naam", exact=True)).to_have_value("DDO Westwijk")
    expect(console.locator("#op-count")).to_contain_text("beheerders in dit gebied", timeout=LIVE)
    expect(console.locator("#op-overlap")).to_have_count(0)  # not with itself
    view(console).get_by_label("Naam", exact=True).fill("DDO Westwijk (zaterdag)")
    console.get_by_role("button", name="Wijzigingen opslaan").click()
    expect(console.locator("#op-view-title")).to_have_text("DDO Westwijk (zaterdag)", timeout=LIVE)
    expect(console.locator("#op-status")).to_have_text("Gepland")


def create_open_operation(server: Server, name: str, wijkcode: str, kind: str = "heterdaad") -> int:
    now = datetime.now(UTC)
    with server.staff("specialist") as specialist:
        created = specialist.post("/api/v1/operations", json={
            "name": name, "kind": kind, "area": {"wijkcodes": [wijkcode]},
            "starts_at": (now - timedelta(minutes=5)).isoformat(), "ends_at": (now + timedelta(hours=3)).isoformat(),
            "briefing": "Let op een persoon die aan fietsen morrelt. Bel 112, spreek niemand aan."})
        assert created.status_code == 201, created.text
        return int(created.json()["id"])


def close_operation(server: Server, operation_id: int) -> None:
    with server.staff("specialist") as specialist:
        assert specialist.post(f"/api/v1/operations/{operation_id}/close").status_code == 200


def test_the_queue_shows_an_operations_own_reports_when_filtered(server: Server, new_context: Any) -> None:
    wijkcode = "WK036206"  # Bovenkerk, Amstelveen
    operation_id = create_open_operation(server, "Heterdaad Bovenkerk", wijkcode)
    participant, other = beheerders_in(server, wijkcode)[:2]
    joined = httpx.post(f"{server.base}/api/v1/operations/{operation_id}/join", timeout=30,
                        headers={"Authorization": f"Bearer {participant['token']}"})
    assert joined.status_code == 200, joined.text
    tagged = server.incident_of(server.report(participant, "Nu man bij de fietsenstalling van de Bovenkerkerweg, "
                                                           "knipt een slot door")["id"])["id"]
    untagged = server.incident_of(server.report(other, "Vorige week is er een auto opengebroken aan de "
                                                       "Noorddammerweg")["id"])["id"]

    console = open_console(new_context, server)
    expect(console.locator(f"#queue [data-incident-id='{untagged}']")).to_be_visible(timeout=SLOW)
    console.locator("#f-operation").select_option(label="Heterdaad Bovenkerk (open)")
    expect(console.locator(f"#queue [data-incident-id='{tagged}']")).to_be_visible(timeout=LIVE)
    expect(console.locator(f"#queue [data-incident-id='{untagged}']")).to_have_count(0)

    later = server.incident_of(server.report(participant, "Zojuist weer iemand bij de fietsen van het "
                                                          "Bovenkerkerplein, kijkt rond")["id"])["id"]
    server.report(other, "Gisteren een fiets gestolen bij de sporthal van Bovenkerk")
    if later != tagged:
        expect(console.locator(f"#queue [data-incident-id='{later}']")).to_be_visible(timeout=LIVE)
    expect(console.locator("#queue .row")).to_have_count(len({tagged, later}), timeout=LIVE)
    close_operation(server, operation_id)


def test_the_wall_shows_a_banner_while_an_operation_runs_in_its_region(server: Server, new_context: Any) -> None:
    page: Page = new_context(viewport={"width": 1920, "height": 1080}).new_page()
    page.goto(f"{server.base}/wall#token={server.credentials['wall_token']}")
    banner = page.locator("#operation-banner")
    expect(banner).to_contain_text("Actie: Fietsendiefstal Middenhoven", timeout=SLOW)  # the demo's open one

    operation_id = create_open_operation(server, "Vermissing Westwijk", WESTWIJK, kind="vermissing")
    expect(banner).to_contain_text("Actie: Vermissing Westwijk", timeout=LIVE)
    expect(banner).to_contain_text("vermissing, tot")
    assert axe_violations(page) == []
    close_operation(server, operation_id)
    expect(banner.locator(f"[data-operation='{operation_id}']")).to_have_count(0, timeout=LIVE)
    expect(banner).to_contain_text("Fietsendiefstal Middenhoven")


def test_a_beheerder_joins_in_the_portal_and_hears_clearly_when_it_is_closed(server: Server, new_context: Any) -> None:
    wijkcode = "WK003402"  # De Meenten (Schapenmeent), Almere
    beheerder = beheerders_in(server, wijkcode)[0]
    operation_id = create_open_operation(server, "Vermissing Schapenmeent", wijkcode, kind="vermissing")
    with server.staff("specialist") as specialist:
        assert specialist.post(f"/api/v1/operations/{operation_id}/invite").status_code == 200

    portal = open_portal(new_context, server, beheerder)
    expect(portal.locator("#operation-count")).to_have_text("1", timeout=SLOW)
    portal.get_by_role("tab", name=re.compile("^Acties")).click()
    item = portal.locator(f"#operations li[data-operation='{operation_id}']")
    expect(item).to_contain_text("Vermissing Schapenmeent")
    expect(item).to_contain_text("Let op een persoon die aan fietsen morrelt")
    assert too_small(portal) == []
    assert axe_violations(portal) == []

    item.get_by_role("button", name="Ik doe mee").click()
    expect(item.locator(".participation")).to_have_text(re.compile("^U doet mee"), timeout=LIVE)
    with server.staff("specialist") as specialist:
        detail = specialist.get(f"/api/v1/operations/{operation_id}").json()
    assert [p["status"] for p in detail["participant_list"] if p["beheerder_id"] == beheerder["id"]] == ["joined"]
    item.get_by_role("button", name="Afmelden").click()
    expect(item.locator(".participation")).to_contain_text("afgemeld", timeout=LIVE)
    item.get_by_role("button", name="Toch meedoen").click()
    expect(item.locator(".participation")).to_have_text(re.compile("^U doet mee"), timeout=LIVE)

    close_operation(server, operation_id)
    portal.get_by_role("button", name="Vernieuwen").filter(visible=True).click()
    expect(item.locator(".participation")).to_contain_text("Deze actie is afgesloten. Bedankt voor uw hulp",
                                                           timeout=LIVE)
    expect(item.get_by_role("button")).to_have_count(0)
    late = httpx.post(f"{server.base}/api/v1/operations/{operation_id}/join", timeout=30,
                      headers={"Authorization": f"Bearer {beheerder['token']}"})
    assert late.status_code == 409 and late.json()["title"] == "Actie afgesloten"

    portal.get_by_role("tab", name=re.compile("^Alarmen")).click()
    expect(portal.locator("#alerts li .kind").first).to_have_text("Actie", timeout=SLOW)
    assert axe_violations(portal) == []
