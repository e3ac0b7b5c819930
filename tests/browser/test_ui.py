"""The three UIs in a real browser against the real server: videowall, operators' console, beheerders' portal.

Each test uses its own wijk (and offence) so that its reports do not join another test's incident.
Waiting is Playwright's own (expect ... timeout); nothing here sleeps."""

from __future__ import annotations

import asyncio
import io
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.support.browser import (
    CONSOLE_VIEWPORT,
    PHONE_VIEWPORT,
    WALL_VIEWPORT,
    Server,
    screenshot,
)

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

LIVE = 2_000  # ms: a report must be on an open wall within 2 s
SLOW = 30_000  # ms: server restarts, worker rounds


# ---- helpers --------------------------------------------------------------------------------------


def open_wall(new_context: Any, server: Server) -> Page:
    page: Page = new_context(viewport=WALL_VIEWPORT).new_page()
    page.goto(f"{server.base}/wall#token={server.credentials['wall_token']}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "open", timeout=SLOW)
    expect(page.locator("#cards-loading")).to_be_hidden(timeout=SLOW)
    assert "token" not in page.url, "the token must leave the address bar"
    return page


def sign_in(page: Page, server: Server, who: str = "operator") -> None:
    page.goto(f"{server.base}/ops")
    page.get_by_label("Gebruikersnaam").fill(server.credentials[who]["username"])
    page.get_by_label("Wachtwoord").fill(server.credentials[who]["password"])
    page.get_by_role("button", name="Aanmelden").click()


def open_console(new_context: Any, server: Server, who: str = "operator", page: Page | None = None) -> Page:
    page = page or new_context(viewport=CONSOLE_VIEWPORT).new_page()
    sign_in(page, server, who)
    expect(page.locator("#conn")).to_have_attribute("data-state", "open", timeout=SLOW)
    expect(page.locator("#queue-loading")).to_be_hidden(timeout=SLOW)
    return page


def open_portal(new_context: Any, server: Server, beheerder: dict[str, Any], **options: Any) -> Page:
    context = new_context(viewport=PHONE_VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True, **options)
    page: Page = context.new_page()
    page.goto(f"{server.base}/beheerder#token={beheerder['token']}")
    expect(page.locator("#who")).to_have_text(beheerder["name"], timeout=SLOW)
    expect(page.locator("#conn")).to_have_attribute("data-state", "open", timeout=SLOW)
    return page


def wall_card(page: Page, incident_id: int) -> Any:
    return page.locator(f"article.card[data-incident-id='{incident_id}']")


def queue_row(page: Page, incident_id: int) -> Any:
    return page.locator(f"#inc-{incident_id}")


def jpeg(width: int = 640, height: int = 480) -> bytes:
    image = Image.new("RGB", (width, height), (40, 90, 160))
    for x in range(0, width, 40):
        for y in range(0, height, 40):
            image.putpixel((x, y), (250, 250, 250))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def post_through_other_instance(server: Server, beheerder: dict[str, Any], text: str) -> dict[str, Any]:
    """Posts a report while `server` is down, through a second app instance on the same database (as another
    instance behind the load balancer would). Runs in its own thread: Playwright's loop owns this one."""
    from app.core.settings import Settings
    from app.factory import create_app

    async def post() -> httpx.Response:
        settings = Settings(database_url=server.database_url, data_dir=server.workdir,  # type: ignore[call-arg]
                            environment="test", log_json=False)
        app = create_app(settings, configure_logs=False)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://other") as client:
                return await client.post("/api/v1/reports", json={"text": text, "group_id": beheerder["group_ids"][0]},
                                         headers={"Authorization": f"Bearer {beheerder['token']}"})
        finally:
            await app.state.engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        response = pool.submit(asyncio.run, post()).result(timeout=120)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def whatsapp_report_without_group(server: Server, beheerder: dict[str, Any], text: str) -> int:
    """A WhatsApp report of a beheerder with several groups (its group still to be chosen), written by a second
    app instance on the same database; returns its id. Runs in its own thread: Playwright's loop owns this one."""
    from app.core.settings import Settings
    from app.factory import create_app
    from app.intake import service
    from app.intake.schemas import ReportIn

    async def write() -> int:
        settings = Settings(database_url=server.database_url, data_dir=server.workdir,  # type: ignore[call-arg]
                            environment="test", log_json=False)
        app = create_app(settings, configure_logs=False)
        body = ReportIn(text=text)
        request = service.IntakeRequest(beheerder_id=beheerder["id"], channel="whatsapp", body=body,
                                        request_hash=service.request_hash(body), group_may_wait=True)
        try:
            async with app.state.sessionmaker() as session:
                result = await service.submit_report(session, app.state.intake_writer, request)
            assert result.report.group_pending
            return result.report.id
        finally:
            await app.state.read_engine.dispose()
            await app.state.engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, write()).result(timeout=120)


# ---- the videowall --------------------------------------------------------------------------------


def test_a_report_appears_on_an_open_wall_within_two_seconds(server: Server, new_context: Any) -> None:
    wall = open_wall(new_context, server)
    report = server.report(server.beheerder("WK036204"),
                           "Er wordt nu ingebroken bij Poortwachter 12! Twee mannen met bivakmuts rennen richting "
                           "het Westwijkplein")
    card = wall.locator("article.card", has_text="Poortwachter 12")
    expect(card).to_be_visible(timeout=LIVE)
    incident = server.incident_of(report["id"])
    expect(card).to_have_attribute("data-incident-id", str(incident["id"]))
    expect(card.locator(".badge")).to_have_text("P1")
    expect(card).to_contain_text("Woninginbraak")
    expect(card.locator(".wijk")).to_contain_text("Westwijk")
    expect(card).to_contain_text("Poortwachter 12")
    expect(card).to_contain_text("1 melding uit 1 groep")
    expect(card).to_contain_text("Nog geen opvolging")
    expect(card).to_have_class(re.compile(r"\bflash\b"))  # a new P1 flashes
    expect(card.locator(".new-tag")).to_have_text("NIEUW")
    expect(card.locator(".age")).to_have_text(re.compile(r"^\d+:\d\d$"))
    # its marker on the map, in the Amstelveen panel, and the counters
    expect(wall.locator(f"svg .marker-group[data-incident='{incident['id']}']")).to_have_count(1)
    expect(wall.locator("svg[aria-label='Kaart Amstelveen'] .wijk-shape")).to_have_count(3)
    expect(wall.locator("#c-p1")).not_to_have_text("0")
    expect(wall.locator("#c-today")).not_to_have_text("0")


def test_the_wall_reconnects_after_a_server_restart_and_catches_up(own_server: Server, new_context: Any) -> None:
    server = own_server
    wall = open_wall(new_context, server)
    before = server.report(server.beheerder("WK036301"),
                           "Zojuist is er een vrouw beroofd op de Zeedijk, dader rent richting Nieuwmarkt in rode jas")
    expect(wall_card(wall, server.incident_of(before["id"])["id"])).to_be_visible(timeout=LIVE)
    wall.evaluate("window.__sameDocument = true")  # gone if the page reloads

    server.stop()
    expect(wall.locator("#conn")).to_have_attribute("data-state", "reconnecting", timeout=SLOW)
    expect(wall.locator("#conn")).to_contain_text("opnieuw verbinden")
    while_down = post_through_other_instance(
        server, server.beheerder("WK036204"),
        "Nu brand in een container bij het Westwijkplein, iemand heeft hem aangestoken en rent weg")
    server.start()

    expect(wall.locator("#conn")).to_have_attribute("data-state", "open", timeout=SLOW)
    expect(wall.locator("#conn")).to_have_text("verbonden")
    with server.staff() as staff:
        incidents = staff.get("/api/v1/queue", params={"limit": 200}).json()["items"]
    down_incident = next(i for i in incidents if any(r["id"] == while_down["id"] for r in i["reports"]))
    card = wall_card(wall, down_incident["id"])
    expect(card).to_be_visible(timeout=SLOW)
    expect(card).to_contain_text("Brandstichting")
    expect(card).to_contain_text("Westwijkplein")

    after = server.report(server.beheerder("WK036302"),
                          "Nu probeert iemand bij de Rechtboomssloot fietsen open te knippen, hij is nog bezig")
    expect(wall_card(wall, server.incident_of(after["id"])["id"])).to_be_visible(timeout=LIVE)
    assert wall.evaluate("window.__sameDocument === true"), "the wall reloaded instead of catching up"
    expect(wall.locator("article.card")).to_have_count(3)


# ---- the console and the wall together ------------------------------------------------------------


def test_an_operator_claims_and_raises_an_item_and_the_wall_follows(server: Server, new_context: Any) -> None:
    wall = open_wall(new_context, server)
    console = open_console(new_context, server)
    report = server.report(server.beheerder("WK036206"),
                           "Gisteravond heeft iemand bij de Bovenkerkerweg aan de deuren van schuurtjes gevoeld")
    incident = server.incident_of(report["id"])
    assert incident["urgency"] == "P3", incident
    row = queue_row(console, incident["id"])
    expect(row).to_be_visible(timeout=SLOW)  # arrives live in the console
    expect(wall_card(wall, incident["id"])).to_have_count(0)  # a P3 is not for the wall

    row.click()
    expect(console.locator("#d-title")).to_contain_text(f"#{incident['id']}")
    expect(console.locator(".suggestion li").first).to_be_visible()  # the engine's reasons
    console.locator("#queue").focus()
    console.keyboard.press("c")
    expect(console.locator("#claim-holder")).to_have_text(re.compile("U heeft dit incident geclaimd"))
    expect(row.locator("[data-claim]")).to_have_text("door u geclaimd")
    console.keyboard.press("1")
    expect(console.locator("#d-urgency")).to_have_text("P1")

    card = wall_card(wall, incident["id"])
    expect(card).to_be_visible(timeout=LIVE)
    expect(card.locator(".badge")).to_have_text("P1")
    expect(card).to_contain_text("In behandeling: Centralist Demo")
    expect(card).to_contain_text("Bovenkerk")

    console.keyboard.press("o")
    expect(console.locator("#f-follow-up")).to_be_focused()
    console.locator("#f-follow-up").select_option("ter_plaatse")
    console.keyboard.press("Escape")
    console.keyboard.press("n")
    console.keyboard.type("Er is een eenheid langsgegaan; niets verdachts meer gezien.")
    console.get_by_role("button", name="Opslaan en terugkoppelen").click()
    expect(card.locator(".follow")).to_have_text("Eenheid ter plaatse", timeout=LIVE)

    console.keyboard.press("Escape")
    console.keyboard.press("?")
    expect(console.get_by_role("dialog", name="Sneltoetsen")).to_be_visible()
    console.keyboard.press("Escape")
    expect(console.get_by_role("dialog", name="Sneltoetsen")).to_be_hidden()

    # lowering a P1 asks for a reason
    console.locator("#queue").focus()
    console.keyboard.press("2")
    dialog = console.get_by_role("dialog", name="Reden voor het verlagen van een P1")
    expect(dialog).to_be_visible()
    console.locator("#reason-text").fill("Geen gevaar meer; dader is weg.")
    dialog.get_by_role("button", name="Verlagen").click()
    expect(console.locator("#d-urgency")).to_have_text("P2")
    expect(card.locator(".badge")).to_have_text("P2", timeout=LIVE)


def test_the_console_flags_appearance_only_reports_and_filters(server: Server, new_context: Any) -> None:
    console = open_console(new_context, server)
    report = server.report(server.beheerder("WK003402"),  # Almere: outside the wall's region, in the console
                           "Let op: oost-europese man met zwarte muts en grijze jas loopt door de wijk")
    incident = server.incident_of(report["id"])
    row = queue_row(console, incident["id"])
    expect(row.locator(".tag.appearance")).to_have_text("alleen uiterlijk", timeout=LIVE)
    row.click()
    expect(console.locator("#appearance-alert")).to_contain_text("alleen uiterlijk of afkomst, geen gedrag")
    expect(console.locator("#d-urgency")).to_have_text("P3")

    console.locator("#queue").focus()
    console.keyboard.press("/")
    expect(console.locator("#f-search")).to_be_focused()
    console.keyboard.type("oost-europese")
    expect(console.locator("#queue .row")).to_have_count(1)
    console.keyboard.press("Escape")
    console.locator("#f-search").fill("")
    console.locator("#f-urgency").select_option("P3")
    expect(console.locator("#queue .row[data-urgency='P1']")).to_have_count(0)
    expect(row).to_be_visible()
    console.locator("#f-wijk").select_option("WK036204")
    expect(row).to_have_count(0)


def test_the_console_marks_a_report_the_triage_did_not_recognise(server: Server, new_context: Any) -> None:
    console = open_console(new_context, server)
    report = server.report(server.beheerder("WK003402"),
                           "Er klinkt gepiep uit het transformatorhuisje naast de speeltuin")
    incident = server.incident_of(report["id"])
    row = queue_row(console, incident["id"])
    expect(row.locator(".tag.unrecognised")).to_have_text("niet herkend", timeout=LIVE)
    expect(row.locator(".badge")).to_have_text("P3")
    row.click()
    expect(console.locator("#d-unrecognised")).to_have_text("niet herkend")
    expect(console.locator("#detail")).to_contain_text("niet herkend: beoordeel zelf")
    console.reload()
    expect(queue_row(console, incident["id"]).locator(".tag.unrecognised")).to_have_text("niet herkend", timeout=LIVE)


def test_an_analyst_sees_where_the_operators_disagreed_with_the_triage(server: Server, new_context: Any) -> None:
    report = server.report(server.beheerder("WK003402"), "Busje rijdt al de hele middag rondjes door de Meenten")
    incident = server.incident_of(report["id"])
    with server.staff("operator") as operator:
        changed = operator.patch(f"/api/v1/incidents/{incident['id']}", json={"urgency": "P1"})
        assert changed.status_code == 200, changed.text
    operator_console = open_console(new_context, server)
    expect(operator_console.locator("#agreement-button")).to_be_hidden()

    console = open_console(new_context, server, "analyst")
    console.locator("#agreement-button").click()
    dialog = console.locator("#agreement-dialog")
    expect(dialog.locator("#agreement-fields")).to_be_visible(timeout=LIVE)
    expect(dialog.locator("#agreement-disagreements")).to_contain_text("Busje rijdt al de hele middag")
    expect(dialog.locator("#agreement-disagreements")).to_contain_text("centralist P1")
    dialog.locator("#agreement-from").fill("2020-01-01")
    dialog.locator("#agreement-to").fill("2020-01-31")
    dialog.get_by_role("button", name="Tonen").click()
    expect(dialog.locator("#agreement-empty")).to_be_visible()


def test_a_second_operator_sees_the_claim_live(server: Server, new_context: Any) -> None:
    report = server.report(server.beheerder("WK036302"),
                           "Nu probeert iemand bij de Rechtboomssloot fietsen open te knippen, hij is nog bezig")
    incident = server.incident_of(report["id"])
    first = open_console(new_context, server, "operator")
    second = open_console(new_context, server, "operator2")
    queue_row(first, incident["id"]).click()
    queue_row(second, incident["id"]).click()
    expect(second.locator("#claim-holder")).to_have_text("Nog niet geclaimd.")

    first.locator("#queue").focus()
    first.keyboard.press("c")
    expect(first.locator("#claim-holder")).to_contain_text("U heeft dit incident geclaimd")

    expect(queue_row(second, incident["id"]).locator("[data-claim]")).to_have_text(
        "geclaimd door Centralist Demo", timeout=LIVE)
    expect(second.locator("#claim-holder")).to_contain_text("Geclaimd door Centralist Demo")
    expect(second.locator("#claim-button")).to_be_disabled()
    expect(second.locator("#f-follow-up")).to_be_disabled()
    # the key still tries, and the server's 409 is shown in Dutch
    second.locator("#queue").focus()
    second.keyboard.press("c")
    expect(second.locator(".toast-error")).to_contain_text("geclaimd door Centralist Demo")

    first.keyboard.press("c")  # released: the colleague may take it now
    expect(second.locator("#claim-holder")).to_have_text("Nog niet geclaimd.", timeout=LIVE)
    expect(second.locator("#claim-button")).to_be_enabled()


def renamed_offence(code: str, label: str) -> Any:
    """A route handler that passes GET /api/v1/meta through with one offence's label changed."""
    def handle(route: Any) -> None:
        response = route.fetch()
        meta = response.json()
        meta["offences"] = [{**o, "label": label} if o["code"] == code else o for o in meta["offences"]]
        route.fulfill(response=response, json=meta)

    return handle


def unavailable(route: Any) -> None:
    route.fulfill(status=503, content_type="application/problem+json",
                  json={"type": "about:blank", "title": "Dienst tijdelijk niet beschikbaar", "status": 503})


def test_the_console_renders_the_offence_labels_the_server_serves(server: Server, new_context: Any) -> None:
    report = server.report(server.beheerder("WK003401"),
                           "Er wordt nu ingebroken bij een woning aan de Stadhuisstraat, twee mannen klimmen "
                           "door het raam")
    incident = server.incident_of(report["id"])
    assert incident["offence"] == "woninginbraak", incident
    page: Page = new_context(viewport=CONSOLE_VIEWPORT).new_page()
    page.route("**/api/v1/meta", renamed_offence("woninginbraak", "Inbraak in een woning"))
    console = open_console(new_context, server, page=page)

    row = queue_row(console, incident["id"])
    expect(row.locator(".what")).to_contain_text("Inbraak in een woning")
    row.click()
    expect(console.locator("#d-title")).to_contain_text("Inbraak in een woning")
    expect(console.locator("#a-offence option[value='woninginbraak']")).to_have_text("Inbraak in een woning")


def test_the_console_says_so_when_the_vocabulary_cannot_be_loaded(server: Server, new_context: Any) -> None:
    page: Page = new_context(viewport=CONSOLE_VIEWPORT).new_page()
    page.route("**/api/v1/meta", unavailable)
    sign_in(page, server)
    expect(page.locator("#login-error")).to_contain_text(
        "De woordenlijst van de server (urgenties, categorieën, delicten en rollen) kon niet worden geladen")
    expect(page.locator("#app-view")).to_be_hidden()


def test_the_wall_shows_a_missing_vocabulary_and_recovers(server: Server, new_context: Any) -> None:
    page: Page = new_context(viewport=WALL_VIEWPORT).new_page()
    page.route("**/api/v1/meta", unavailable)
    page.goto(f"{server.base}/wall#token={server.credentials['wall_token']}")
    problem = page.locator("#cards-problem")
    expect(problem).to_contain_text("kon niet worden geladen", timeout=SLOW)
    expect(problem).to_contain_text("Opnieuw proberen")
    expect(page.locator("#cards-loading")).to_be_visible()

    page.unroute("**/api/v1/meta")  # the server answers again: the wall retries by itself
    expect(problem).to_be_hidden(timeout=SLOW)
    expect(page.locator("#cards-loading")).to_be_hidden(timeout=SLOW)
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")


# ---- the beheerders' portal -----------------------------------------------------------------------


def test_a_beheerder_reports_with_a_photo_and_sees_the_feedback(server: Server, new_context: Any) -> None:
    beheerder = server.beheerder("WK036205")
    portal = open_portal(new_context, server, beheerder, permissions=["geolocation"],
                         geolocation={"latitude": 52.2921, "longitude": 4.8502})
    portal.get_by_label("Wat is er gezien?").fill(
        "Nu staat iemand bij de garageboxen aan de Sportlaan met een koevoet een deur open te breken")
    # installable: a manifest, and a service worker that controls the portal (its shell works offline)
    portal.wait_for_function("() => navigator.serviceWorker.controller !== null")
    manifest = portal.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
    assert manifest["start_url"] == "/beheerder" and manifest["display"] == "standalone"
    portal.context.set_offline(True)  # the phone loses its connection: say so, keep the draft
    expect(portal.locator("#offline")).to_be_visible()
    expect(portal.locator("#r-submit")).to_be_disabled()
    expect(portal.locator("#conn")).to_have_attribute("data-state", "reconnecting", timeout=SLOW)
    portal.context.set_offline(False)
    expect(portal.locator("#offline")).to_be_hidden()
    expect(portal.locator("#conn")).to_have_attribute("data-state", "open", timeout=SLOW)
    portal.get_by_role("button", name="Gebruik mijn huidige locatie").click()
    expect(portal.locator("#r-geo-status")).to_contain_text("Locatie: 52.29210, 4.85020")
    portal.locator("#r-camera").set_input_files(files=[{"name": "foto.jpg", "mimeType": "image/jpeg",
                                                        "buffer": jpeg()}])
    expect(portal.locator("#r-previews li")).to_have_count(1)
    portal.get_by_role("button", name="Melding versturen").click()
    done = portal.locator("#r-done")
    expect(done).to_contain_text("Verstuurd: MK-", timeout=SLOW)
    case_number = re.search(r"MK-\d{4}-\d+", done.inner_text())
    assert case_number is not None
    expect(portal.locator("#r-previews li")).to_have_count(0)
    expect(portal.get_by_label("Wat is er gezien?")).to_have_value("")

    done.get_by_role("link", name="Mijn meldingen").click()
    item = portal.locator(f"li.report[data-case='{case_number.group(0)}']")
    expect(item.locator(".status")).to_have_text("Ontvangen")
    expect(item).to_contain_text("1 foto")
    expect(item).to_contain_text("Nog geen terugkoppeling.")

    # The operator opens the photo in the console (audited) and decides; the portal hears it live.
    report_id = int(item.get_attribute("data-report") or 0)
    incident = server.incident_of(report_id)
    console = open_console(new_context, server)
    queue_row(console, incident["id"]).click()
    expect(console.locator("#open-photos")).to_be_enabled()
    console.locator("#queue").focus()
    console.keyboard.press("f")
    photo = console.get_by_role("dialog", name="Foto's bij dit incident").locator("img")
    expect(photo).to_have_count(1)
    console.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    console.keyboard.press("Escape")
    with server.staff("admin") as admin:
        audit = admin.get("/api/v1/admin/audit", params={"action": "photo.view"}).json()
    assert any(entry["target_type"] == "report_photo" for entry in audit), audit

    with server.staff() as staff:
        response = staff.patch(f"/api/v1/incidents/{incident['id']}", json={
            "follow_up": "surveillance", "note_for_reporter": "We rijden vannacht extra rondes langs de garageboxen."})
        assert response.status_code == 200, response.text

    feedback = item.locator(".feedback")
    expect(feedback).to_contain_text("de politie surveilleert extra in de buurt", timeout=SLOW)
    expect(feedback).to_contain_text("We rijden vannacht extra rondes langs de garageboxen.")
    expect(item.locator(".status")).to_have_text("In behandeling")
    screenshot(portal, "beheerder-meldingen", full_page=True)


def test_an_alert_with_a_privacy_warning_reaches_the_beheerder_who_forwards_it(server: Server,
                                                                                 new_context: Any) -> None:
    beheerder = server.beheerder("WK036204", 1)
    portal = open_portal(new_context, server, beheerder)
    wall = open_wall(new_context, server)
    console = open_console(new_context, server)
    report = server.report(server.beheerder("WK036204", 2),
                           "Net een auto opengebroken aan de Ouderkerkerlaan, dader fietst weg in zwarte jas "
                           "richting Zonnestein")
    incident = server.incident_of(report["id"])
    queue_row(console, incident["id"]).click()
    expect(console.locator("#d-title")).to_contain_text(f"#{incident['id']}")
    console.locator("#queue").focus()
    console.keyboard.press("b")

    compose = console.get_by_role("dialog", name="Alarm naar beheerders")
    expect(compose).to_be_visible()
    expect(compose.get_by_label("Soort")).to_have_value("signalement")
    compose.get_by_label("Soort").select_option("heterdaad")
    compose.get_by_label(re.compile("^Tekst")).fill(
        "Zojuist autokraak aan de Ouderkerkerlaan. Verdachte fietst richting Zonnestein. Tips: bel 06-12345678.")
    compose.get_by_role("button", name="Voorbeeld bekijken").click()
    expect(compose.locator("#bc-message")).to_contain_text("POLITIE - HETERDAAD")
    expect(compose.locator("#bc-recipients")).to_contain_text("beheerders in Westwijk")
    expect(compose.locator("#bc-channels")).to_contain_text("In de app")
    warning = compose.locator(".privacy[data-code='telefoonnummer']")
    expect(warning).to_contain_text("06-12345678")
    send = compose.get_by_role("button", name="Versturen")
    expect(send).to_be_disabled()  # not before the warning is confirmed
    warning.get_by_label("Ik heb dit gecontroleerd en verstuur het bewust zo.").check()
    expect(send).to_be_enabled()
    screenshot(console, "ops-alarm")
    send.click()
    expect(compose).to_be_hidden()
    expect(console.locator(".toast-ok").last).to_contain_text("Alarm verstuurd naar")
    expect(console.locator("#broadcasts li").first).to_contain_text("Heterdaad")

    # the beheerder gets it live, passes it on and says so
    expect(portal.locator("#alert-banner")).to_be_visible(timeout=SLOW)
    portal.get_by_role("button", name="Bekijken").click()
    alert = portal.locator("li.alert").first
    expect(alert).to_contain_text("POLITIE - HETERDAAD")
    expect(alert).to_contain_text("Ouderkerkerlaan")
    alert.get_by_role("button", name="Doorgestuurd naar mijn groep(en)").click()
    expect(alert.locator(".forwarded-note")).to_contain_text("Doorgestuurd om")
    screenshot(portal, "beheerder-alarm", full_page=True)

    # the wall and the console count it
    expect(wall.locator("#broadcasts li").first).to_contain_text(re.compile(r"doorgestuurd 1 van \d+"), timeout=SLOW)
    expect(console.locator("#broadcasts li").first).to_contain_text(re.compile(r"doorgestuurd 1 van \d+"), timeout=SLOW)
    expect(wall.locator("#c-bc")).to_have_text("1")


def test_an_operator_chooses_the_group_of_a_whatsapp_report_in_the_console(server: Server, new_context: Any) -> None:
    superbeheerder = next(b for b in server.credentials["beheerders"] if len(b["group_ids"]) > 1)
    console = open_console(new_context, server)
    report_id = whatsapp_report_without_group(server, superbeheerder,
                                              "Wie mist er een grijze kat? Zit al de hele dag bij de speeltuin")
    incident = server.incident_of(report_id)
    queue_row(console, incident["id"]).click()
    picker = console.locator(f"article.report[data-report='{report_id}'] select")
    expect(picker).to_be_visible(timeout=LIVE)
    names = picker.locator("option").all_inner_texts()[1:]
    assert len(names) == len(superbeheerder["group_ids"]) and all(names)

    picker.select_option(label=names[1])

    header = console.locator(f"article.report[data-report='{report_id}'] header")
    expect(header).to_contain_text(f"groep {names[1]}", timeout=LIVE)
    expect(header.locator("select")).to_have_count(0)


def test_screenshots_of_a_busy_shift(server: Server, new_context: Any) -> None:
    """Not a behaviour test: a fuller scene for docs/screenshots (set MELDKAMER_UPDATE_SCREENSHOTS=1)."""
    for wijk, index, text in [
        ("WK036301", 0, "Zojuist is er een vrouw beroofd op de Zeedijk, dader rent richting Nieuwmarkt in rode jas"),
        ("WK036204", 0, "Nu brand in een container bij het Westwijkplein, iemand heeft hem aangestoken en rent weg"),
        ("WK036302", 0, "Man met capuchon kijkt bij de Oude Waal in geparkeerde auto's en trekt aan portieren"),
        ("WK036205", 1, "Vermist: jongen van 8 jaar, blauwe jas, voor het laatst gezien bij het Middenhovenpark"),
    ]:
        last = server.report(server.beheerder(wijk, index), text)
    wall = open_wall(new_context, server)
    expect(wall_card(wall, server.incident_of(last["id"])["id"])).to_have_count(1)
    screenshot(wall, "wall")
    console = open_console(new_context, server)
    console.locator("#queue .row").first.click()
    expect(console.locator("#d-title")).to_be_visible()
    screenshot(console, "ops")
    portal = open_portal(new_context, server, server.beheerder("WK036205"))
    portal.get_by_label("Wat is er gezien?").fill("Twee jongens proberen bij de Sportlaan fietsen los te maken, "
                                                    "ze lopen nu richting de bushalte")
    portal.locator("#r-camera").set_input_files(files=[{"name": "foto.jpg", "mimeType": "image/jpeg",
                                                        "buffer": jpeg()}])
    expect(portal.locator("#r-previews li")).to_have_count(1)
    screenshot(portal, "beheerder-melden", full_page=True)
    portal.get_by_role("tab", name="Mijn meldingen").click()
    expect(portal.locator("#reports-loading")).to_be_hidden()
    screenshot(portal, "beheerder")
