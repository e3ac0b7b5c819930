"""The operators' console on a busy night, in Chromium against the real server: a new P1 is announced (title,
highlight on top, tone, notification in the background), the claim warns a minute before it ends and can be
extended without losing typed text, search finds a word of a second report, the timeline lists the feedback,
a merge suggestion is accepted and undone, the alert dialog keeps its draft and flags names and house
numbers, and axe-core finds no violations. Every queue row carries data-incident-id.

The server here holds claims for 65 s (the console warns at 60 s) and sweeps expired claims every second.
Each test uses its own wijk or place, so that its reports do not join another test's incident."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import SCREENSHOTS, Server, axe_violations, screenshot

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

LIVE = 2_000  # ms
SLOW = 30_000  # ms: claim countdowns, sweeps, reconnects
LAPTOP = {"width": 1366, "height": 768}
FULL_HD = {"width": 1920, "height": 1080}

# Spies for what a person hears and sees outside the page: the tones played and the notifications shown.
SPIES = """
window.__tones = 0;
const realOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__tones += 1; return realOscillator.call(this); };
window.__notifications = [];
window.__hidden = false;
Object.defineProperty(document, "hidden", { get: () => window.__hidden });
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notifications.push({ title, body: options.body }); }
  close() {}
};
"""


@dataclass
class ShortClaimServer(Server):
    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "MELDKAMER_CLAIM_SECONDS": "65", "MELDKAMER_CLAIM_SWEEP_SECONDS": "1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, template_db: tuple[Path, dict[str, Any]]) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("console-server")
    shutil.copy(template_db[0], workdir / "db.sqlite")
    instance = ShortClaimServer(workdir, template_db[1])
    instance.start()
    yield instance
    instance.stop()


def open_console(new_context: Any, server: Server, who: str = "operator", viewport: dict[str, int] = LAPTOP) -> Page:
    context = new_context(viewport=viewport)
    context.add_init_script(SPIES)
    page: Page = context.new_page()
    page.goto(f"{server.base}/ops")
    page.get_by_label("Gebruikersnaam").fill(server.credentials[who]["username"])
    page.get_by_label("Wachtwoord").fill(server.credentials[who]["password"])
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.locator("#conn")).to_have_attribute("data-state", "open", timeout=SLOW)
    expect(page.locator("#queue-loading")).to_be_hidden(timeout=SLOW)
    return page


def row(page: Page, incident_id: int) -> Any:
    return page.locator(f"#queue [data-incident-id='{incident_id}']")


def open_incident(page: Page, incident_id: int) -> None:
    row(page, incident_id).click()
    expect(page.locator("#d-title")).to_contain_text(f"#{incident_id} ")


def report_at(server: Server, wijk: str, text: str, index: int = 0, **extra: Any) -> int:
    """Posts a report and returns the id of its incident."""
    created = server.report(server.beheerder(wijk, index), text, **extra)
    return int(server.incident_of(created["id"])["id"])


# ---- attention --------------------------------------------------------------------------------------


def test_a_new_p1_is_announced_and_stays_on_top_until_opened(server: Server, new_context: Any) -> None:
    older = [report_at(server, "WK036301", text) for text in (
        "Zojuist een vrouw beroofd op de Zeedijk, dader rent richting Nieuwmarkt",
        "Nu vechtpartij bij de Oudezijds Achterburgwal, iemand ligt op de grond")]
    console = open_console(new_context, server)
    for incident_id in older:
        expect(row(console, incident_id)).to_be_visible()
    base_title = console.title()

    robbery = report_at(server, "WK036302", "Nu gewapende overval op de supermarkt aan de Nieuwmarkt, dader heeft "
                                            "een mes en rent weg")
    expect(console).to_have_title("(1) P1 - Console", timeout=LIVE)
    first = console.locator("#queue .row").first
    expect(first).to_have_attribute("data-incident-id", str(robbery))
    expect(first).to_have_class(re.compile(r"\battention\b"))
    assert console.evaluate("window.__tones") > 0, "a tone is played"

    console.evaluate("window.__hidden = true")  # the operator is in another tab
    fire = report_at(server, "WK003402", "Brand! Er staat nu een schuur in brand aan de Schapenmeent, iemand rent weg")
    expect(console).to_have_title("(2) P1 - Console", timeout=LIVE)
    expect(console.locator("#queue .row").nth(0)).to_have_attribute("data-incident-id", str(fire))  # newest first
    expect(console.locator("#queue .row").nth(1)).to_have_attribute("data-incident-id", str(robbery))
    notifications = console.evaluate("window.__notifications")
    assert [n["title"].split(" · ")[0] for n in notifications] == ["Nieuwe P1: Brandstichting"]
    console.evaluate("window.__hidden = false")

    row(console, robbery).click()  # opened: no longer new
    expect(console).to_have_title("(1) P1 - Console")
    expect(row(console, robbery)).not_to_have_class(re.compile(r"\battention\b"))
    row(console, fire).click()
    expect(console).to_have_title(base_title)

    # an incident raised to P1 by a colleague is announced too; turning the sound off silences it
    console.get_by_role("button", name="Geluid aan").click()
    expect(console.locator("#sound-toggle")).to_have_attribute("aria-pressed", "false")
    tones = console.evaluate("window.__tones")
    doubt = report_at(server, "WK003403", "Al een uur staat een busje met draaiende motor bij de Kromgouw")
    expect(row(console, doubt)).to_be_visible(timeout=LIVE)
    with server.staff("operator2") as colleague:
        assert colleague.patch(f"/api/v1/incidents/{doubt}", json={"urgency": "P1"}).status_code == 200
    expect(console).to_have_title("(1) P1 - Console", timeout=LIVE)
    expect(console.locator("#queue .row").first).to_have_attribute("data-incident-id", str(doubt))
    assert console.evaluate("window.__tones") == tones


# ---- claims -----------------------------------------------------------------------------------------


def expire_claim(server: Server, incident_id: int) -> None:
    """The claim's time has run out (as if ten minutes passed): the server's sweeper ends it."""
    with sqlite3.connect(server.workdir / "db.sqlite", timeout=30) as db:
        db.execute("UPDATE incidents SET claim_expires_at = '2000-01-01 00:00:00.000000' WHERE id = ?", (incident_id,))


def test_the_claim_warns_a_minute_before_it_ends_and_extends_without_losing_text(server: Server,
                                                                                  new_context: Any) -> None:
    incident = report_at(server, "WK036205", "Net een auto opengebroken bij het Middenhovenpark, dader op de fiets weg")
    console = open_console(new_context, server)
    open_incident(console, incident)
    console.locator("#queue").focus()
    console.keyboard.press("c")
    expect(console.locator("#claim-holder")).to_contain_text("U heeft dit incident geclaimd")
    note = "De eenheid is onderweg; we laten het weten zodra er meer bekend is."
    console.locator("#f-note").fill(note)

    warning = console.locator("#claim-warning")
    expect(warning).to_contain_text("Uw claim vervalt over", timeout=SLOW)
    expect(console.locator("#claim-countdown")).to_have_text(re.compile(r"^0:[0-5]\d$"))
    expect(console.locator("#f-note")).to_have_value(note)
    warning.get_by_role("button", name="Verlengen (v)").click()
    expect(warning).to_be_hidden()
    expect(console.locator(".toast-ok").last).to_contain_text(f"Claim op #{incident} verlengd tot")
    expect(console.locator("#f-note")).to_have_value(note)

    expire_claim(server, incident)
    expect(console.locator("#claim-holder")).to_have_text("Nog niet geclaimd.", timeout=SLOW)
    expect(warning).to_contain_text("Uw claim is verlopen. Wat u typte is bewaard")
    expect(console.locator("#f-note")).to_have_value(note)
    console.reload()  # the draft survives a reload of the tab too
    expect(console.locator("#conn")).to_have_attribute("data-state", "open", timeout=SLOW)
    open_incident(console, incident)
    expect(console.locator("#f-note")).to_have_value(note)


# ---- search and timeline ----------------------------------------------------------------------------


def test_search_finds_a_word_from_a_second_report(server: Server, new_context: Any) -> None:
    incident = report_at(server, "WK036206", "Er wordt nu ingebroken bij een woning aan de Bovenkerkerweg")
    second = server.report(server.beheerder("WK036206", 1), "Inbraak Bovenkerkerweg: de daders vluchten in een "
                                                            "oranje bestelbus")
    assert server.incident_of(second["id"])["id"] == incident
    console = open_console(new_context, server)
    console.locator("#f-search").fill("oranje bestelbus")
    expect(console.locator("#queue .row")).to_have_count(1)
    found = row(console, incident)
    match = found.locator(".match")
    expect(match).to_contain_text(f"Gevonden in melding {second['case_number']}")
    expect(match).to_contain_text("oranje bestelbus")
    expect(found.locator(".line2")).to_contain_text("Er wordt nu ingebroken")  # the row itself shows the first


def test_the_timeline_lists_the_feedback_text_and_its_status(server: Server, new_context: Any) -> None:
    incident = report_at(server, "WK003401", "Zojuist fiets gestolen bij het station in Almere Haven, dader op scooter")
    note = "Een agent heeft de camerabeelden bij het station bekeken."
    with server.staff("operator2") as colleague:
        decided = colleague.patch(f"/api/v1/incidents/{incident}", json={
            "urgency": "P3", "reason": "Dader is al weg", "follow_up": "actie_wijkagent", "note_for_reporter": note})
        assert decided.status_code == 200, decided.text
    console = open_console(new_context, server)
    open_incident(console, incident)
    timeline = console.locator("#timeline")
    feedback = timeline.locator(".tl-entry[data-kind='terugkoppeling']", has_text=note)
    expect(feedback).to_have_count(1)
    expect(feedback).to_contain_text("Centralist Twee")
    expect(feedback.locator(".tl-status")).to_contain_text(
        re.compile("Status: (wacht op verzending|verzonden|afgeleverd)"))
    decision = timeline.locator(".tl-entry[data-kind='besluit']")
    expect(decision).to_contain_text("urgentie: P3")
    expect(decision).to_contain_text("Reden: Dader is al weg")
    expect(timeline.locator(".tl-entry[data-kind='melding']")).to_contain_text("Melding MK-")


# ---- merge suggestions ------------------------------------------------------------------------------


def test_a_merge_suggestion_is_accepted_with_one_key_and_undone(server: Server, new_context: Any) -> None:
    here = report_at(server, "WK036204", "Nu wordt er ingebroken, twee mannen met een koevoet bij de achterdeur",
                     3, location={"lat": 52.294996, "lon": 4.835820})
    there = report_at(server, "WK036204", "Inbraak bezig! Twee mannen met koevoet bij een achterdeur", 4,
                      location={"lat": 52.294996, "lon": 4.824000})  # 800 m: too far to be grouped by itself
    assert here != there
    console = open_console(new_context, server)
    open_incident(console, here)
    suggestion = console.locator(f"#duplicates [data-incident-id='{there}']")
    expect(suggestion).to_contain_text("m van elkaar")
    console.locator("#queue").focus()
    console.keyboard.press("m")
    dialog = console.get_by_role("dialog", name="Deze incidenten samenvoegen?")
    expect(dialog.locator("#merge-target")).to_contain_text("twee mannen met een koevoet bij de achterdeur")
    expect(dialog.locator("#merge-other")).to_contain_text(f"#{there}")
    expect(dialog.locator("#merge-other")).to_contain_text("Inbraak bezig!")
    dialog.get_by_role("button", name="Samenvoegen").click()
    expect(row(console, there)).to_have_count(0)
    expect(row(console, here)).to_contain_text("2 meldingen")

    console.get_by_role("button", name="Ongedaan maken (u)").click()
    expect(row(console, there)).to_be_visible(timeout=LIVE)
    expect(row(console, here)).to_contain_text("1 melding ·")
    expect(console.locator(".toast-ok").last).to_contain_text(f"#{there} staat weer apart")


# ---- the alert dialog -------------------------------------------------------------------------------


def test_the_alert_dialog_flags_a_name_and_a_house_number_and_keeps_its_draft(server: Server,
                                                                             new_context: Any) -> None:
    incident = report_at(server, "WK085531", "Nu inbraak in een woning in de K-buurt, twee mannen klimmen door het "
                                             "raam")
    console = open_console(new_context, server)
    open_incident(console, incident)
    console.locator("#queue").focus()
    console.keyboard.press("b")
    compose = console.get_by_role("dialog", name="Alarm naar beheerders")
    text = ("Zojuist inbraak bij Jan de Vries aan de Poortwachter 12. Verdachte gevlucht richting het park. "
            "Tips: bel 06-12345678 of mail tips@example.org.")
    compose.get_by_label(re.compile("^Tekst")).fill(text)
    checks = compose.locator("#bc-checks")
    expect(checks.locator(".flag[data-code='naam']")).to_contain_text("Jan de Vries")
    expect(checks.locator(".flag[data-code='huisnummer']")).to_contain_text("12")

    console.keyboard.press("Escape")  # closed by accident: the draft stays
    expect(compose).to_be_hidden()
    console.keyboard.press("b")
    expect(compose.get_by_label(re.compile("^Tekst"))).to_have_value(text)
    expect(compose.locator("#bc-restored")).to_be_visible()

    _search_the_wijken(server, compose)

    compose.get_by_role("button", name="Voorbeeld bekijken").click()
    warnings = compose.locator("#bc-checks .privacy")
    expect(warnings).to_have_count(4)  # naam, telefoonnummer, e-mailadres, huisnummer
    for index in range(4):  # every warning in view, none hidden in a scrolling box
        expect(warnings.nth(index)).to_be_in_viewport()
    send = compose.get_by_role("button", name="Versturen")
    for index in range(4):
        warnings.nth(index).get_by_label("Ik heb dit gecontroleerd en verstuur het bewust zo.").check()
    expect(send).to_be_enabled()
    screenshot(console, "ops-alarm-privacy")
    compose.get_by_role("button", name="Annuleren").click()


def _search_the_wijken(server: Server, compose: Any) -> None:
    """The wijk list filters on every typed word and keeps the chosen wijk (the incident's) in view; Enter in
    the search box does not send."""
    with server.staff() as staff:
        wijken = staff.get("/api/v1/map/wijken").json()
    dalem = next(w for w in wijken if w["wijkcode"] == "WK085532")
    home = next(w for w in wijken if w["wijkcode"] == "WK085531")
    typed = dalem["name"].upper()
    expected = {w["wijkcode"] for w in wijken if typed.lower() in f"{w['name']} ({w['gemeente']})".lower()}
    shown = compose.locator("#bc-wijken label:visible input")
    expect(shown).to_have_count(len(wijken))
    search = compose.get_by_label("Zoek wijk of gemeente")
    search.fill(typed)
    expect(shown).to_have_count(len(expected | {home["wijkcode"]}))
    assert set(shown.evaluate_all("boxes => boxes.map(b => b.value)")) == expected | {home["wijkcode"]}
    expect(compose.locator("#bc-wijk-chosen")).to_have_text("1 wijk gekozen")
    search.press("Enter")
    expect(compose).to_be_visible()
    compose.locator(f"#bc-wijken input[value='{dalem['wijkcode']}']").check()
    expect(compose.locator("#bc-wijk-chosen")).to_have_text("2 wijken gekozen")
    search.fill("zzqx")  # no wijk by that name: the list says so instead of looking empty
    expect(compose.locator("#bc-wijk-none")).to_be_visible()
    search.fill("")
    expect(compose.locator("#bc-wijk-none")).to_be_hidden()
    expect(shown).to_have_count(len(wijken))
    compose.locator(f"#bc-wijken input[value='{dalem['wijkcode']}']").uncheck()


# ---- accessibility ----------------------------------------------------------------------------------


def test_axe_finds_no_violations_on_the_console_and_its_login(server: Server, new_context: Any) -> None:
    context = new_context(viewport=LAPTOP)
    login = context.new_page()
    login.goto(f"{server.base}/ops")
    expect(login.get_by_label("Gebruikersnaam")).to_be_visible()
    assert axe_violations(login) == []

    console = open_console(new_context, server)
    paths = "performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)"
    console.wait_for_function(f"{paths}.includes('/api/v1/map/wijken')")
    assert "/api/v1/map" not in console.evaluate(paths)  # the pickers read names, not every wijk's outline
    incident = report_at(server, "WK085532", "Er wordt nu een scooter gestolen bij de Dalem, dader is nog bezig")
    expect(row(console, incident)).to_have_class(re.compile(r"\battention\b"), timeout=LIVE)
    assert axe_violations(console) == []  # the queue with a new P1 highlighted
    open_incident(console, incident)
    expect(console.locator("#timeline .tl-entry").first).to_be_visible()
    console.locator("#f-search").fill("scooter")
    expect(row(console, incident).locator(".match")).to_be_visible()
    assert axe_violations(console) == []  # search results, the incident and its timeline
    console.locator("#queue").focus()
    console.keyboard.press("b")
    compose = console.get_by_role("dialog", name="Alarm naar beheerders")
    compose.get_by_label(re.compile("^Tekst")).fill("Scooterdief gezien bij Jan de Vries aan de Dalempad 4")
    expect(compose.locator("#bc-checks .flag").first).to_be_visible()
    assert axe_violations(console) == []  # the alert dialog with its flags
    console.keyboard.press("Escape")
    console.keyboard.press("?")
    expect(console.get_by_role("dialog", name="Sneltoetsen")).to_be_visible()
    assert axe_violations(console) == []


# ---- a busy night: screenshots ----------------------------------------------------------------------

BUSY = [
    ("WK036204", "Er wordt nu ingebroken bij een woning aan de Zonnestein, twee mannen bij de achterdeur"),
    ("WK036204", "Net een auto opengebroken aan de Ouderkerkerlaan, dader rent weg"),
    ("WK036204", "Iemand probeert nu fietsen los te knippen bij het Westwijkplein"),
    ("WK036204", "Vechtpartij bij de Sportlaan, iemand bloedt"),
    ("WK036204", "Verdachte man loopt al een half uur langs de schuurtjes aan de Bankrasweg"),
    ("WK036205", "Nu brand in een container bij het Middenhovenpark, iemand rent weg"),
    ("WK036205", "Zojuist een tas gestolen van een oudere vrouw bij het winkelcentrum Middenhoven"),
    ("WK036205", "Twee jongens trappen nu ruiten in bij de bushalte aan de Middenhovenlaan"),
    ("WK036206", "Er wordt nu ingebroken in een schuur aan de Bovenkerkerweg"),
    ("WK036206", "Aanrijding bij de Noorddammerweg, fietser gewond, automobilist doorgereden"),
    ("WK036206", "Busje rijdt al de hele avond rondjes door Bovenkerk, inzittenden kijken naar huizen"),
    ("WK036301", "Nu zakkenroller actief op de Zeedijk, man in groene jas"),
    ("WK036301", "Drugsdealer bij de Oudezijds Voorburgwal, al een uur bezig"),
    ("WK036301", "Iemand gooit nu flessen naar mensen op de Nieuwmarkt"),
    ("WK036302", "Net een fiets gestolen bij de Rechtboomssloot, dader op scooter"),
    ("WK036302", "Inbraak bezig in een woning aan de Kloveniersburgwal, alarm gaat af"),
    ("WK003401", "Nu ruit ingegooid bij een winkel in Haven-Centrum, daders rennen weg"),
    ("WK003401", "Man valt nu mensen lastig bij het station in Almere Haven"),
    ("WK003402", "Er wordt nu ingebroken bij een woning aan de Schapenmeent"),
    ("WK003402", "Vermist: meisje van 6 jaar, roze jas, laatst gezien bij de speeltuin Schapenmeent"),
    ("WK003403", "Zojuist auto opengebroken aan de Kromgouw, navigatie gestolen"),
    ("WK003403", "Vreemde man voelt aan deuren van huizen in De Gouwen"),
    ("WK085531", "Nu vechtpartij in de K-buurt, iemand heeft een mes"),
    ("WK085532", "Brand in een scooter bij de Dalem, iemand heeft hem aangestoken"),
    ("WK085532", "Er wordt nu ingebroken in een auto in de Dalem, alarm gaat af"),
    ("WK085531", "Twee mannen verkopen drugs bij het speelveld in de K-buurt"),
    ("WK003402", "Zojuist fiets gestolen bij het winkelcentrum Schapenmeent"),
    ("WK003403", "Nu brand in een vuilcontainer in De Gouwen"),
    ("WK085532", "Oudere man opgelicht aan de deur in de Dalem, nepagent nam zijn pinpas mee"),
]


def server_queue_ids(server: Server) -> list[int]:
    with server.staff() as staff:
        return [item["id"] for item in staff.get("/api/v1/queue", params={"limit": 200}).json()["items"]]


def test_screenshots_of_the_console_on_a_busy_night(server: Server, new_context: Any) -> None:
    """Not a behaviour test: 24+ open incidents for docs/screenshots (set MELDKAMER_UPDATE_SCREENSHOTS=1)."""
    for wijk, text in BUSY:
        server.report(server.beheerder(wijk), text)
    open_count = len(server_queue_ids(server))
    assert open_count >= 24
    arriving = [("WK036205", "Nu overval op de snackbar aan de Middenhovenlaan, dader heeft een mes"),
                ("WK003401", "Nu wordt er een vrouw beroofd bij het station in Almere Haven, dader rent weg")]
    for (name, viewport), (wijk, text) in zip((("ops-busy-1366x768", LAPTOP), ("ops-busy-1920x1080", FULL_HD)),
                                              arriving, strict=True):
        console = open_console(new_context, server, viewport=viewport)
        expect(console.locator("#queue .row")).to_have_count(open_count)
        console.locator("#queue .row").first.click()
        expect(console.locator("#timeline .tl-entry").first).to_be_visible()
        new = report_at(server, wijk, text)  # arrives while the operator works: on top, highlighted
        open_count = max(open_count, len(set(server_queue_ids(server))))
        expect(console.locator("#queue .row").first).to_have_attribute("data-incident-id", str(new))
        expect(console).to_have_title("(1) P1 - Console")
        path = screenshot(console, name)
        if os.environ.get("MELDKAMER_UPDATE_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, SCREENSHOTS / f"{name}.png")


# ---- the quick heterdaad ----------------------------------------------------------------------------


def test_a_then_h_opens_a_heterdaad_from_the_incident_with_its_text_and_invites_the_beheerders(
        server: Server, new_context: Any) -> None:
    created = server.report(server.beheerder("WK036206"), "Nu twee mannen die aan autodeuren trekken op het "
                                                          "parkeerterrein bij de ijsbaan, een met een rode pet")
    incident = server.incident_of(created["id"])
    first_text = incident["reports"][0]["text"]  # the incident's description: its first report
    console = open_console(new_context, server)
    open_incident(console, incident["id"])
    console.locator("#queue").focus()
    console.keyboard.press("a")
    console.keyboard.press("h")
    dialog = console.get_by_role("dialog", name=f"Snelle heterdaad vanuit incident #{incident['id']}")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label(re.compile("^Straal"))).to_have_value("1000")
    expect(dialog.get_by_label(re.compile("^Tekst voor de beheerders"))).to_have_value(first_text)
    dialog.get_by_label(re.compile("^Straal")).fill("300")
    dialog.get_by_role("button", name="Openen en uitnodigen").click()
    expect(dialog).to_be_hidden()
    expect(console.locator(".toast").last).to_contain_text("beheerder(s) uitgenodigd")
    with server.staff("operator") as staff:
        [operation] = staff.get("/api/v1/operations", params={"kind": "heterdaad"}).json()["items"]
    assert operation["incident_ids"] == [incident["id"]] and operation["briefing"] == first_text
    assert operation["status"] == "open" and operation["participants"]["invited"] >= 1


# ---- keeping under the Wpg ---------------------------------------------------------------------------


def test_an_operator_keeps_an_incident_with_a_reason_and_sees_until_when(own_server: Server,
                                                                        new_context: Any) -> None:
    console = open_console(new_context, own_server)
    incident = report_at(own_server, "WK036204", "Er wordt nu ingebroken bij een woning aan de Zonnestein")
    open_incident(console, incident)
    panel = console.get_by_role("region", name="Bewaren (Wet politiegegevens)")
    expect(panel.locator("#keep-status")).to_contain_text("Niet bewaard")
    panel.get_by_label(re.compile("^Reden om te bewaren")).fill("ok")
    panel.get_by_role("button", name="Bewaren (Wpg)").click()
    expect(console.locator(".toast").last).to_contain_text("minstens 3 tekens")
    with own_server.staff("operator") as client:
        assert client.get(f"/api/v1/incidents/{incident}/keep").json()["kept"] is False

    panel.get_by_label(re.compile("^Reden om te bewaren")).fill("Lopend onderzoek naar woninginbraken")
    panel.get_by_label(re.compile("^Reden om te bewaren")).press("Enter")  # the keyboard does it too
    expect(panel.locator("#keep-status")).to_contain_text("Wordt bewaard tot", timeout=LIVE)
    with own_server.staff("operator") as client:
        hold = client.get(f"/api/v1/incidents/{incident}/keep").json()
    assert hold["kept"] is True and hold["reason"] == "Lopend onderzoek naar woninginbraken"
    expect(panel.locator("#keep-status")).to_contain_text(hold["keep_until"][:4])  # the year it ends
    expect(panel.locator("#keep-current-reason")).to_contain_text("Lopend onderzoek naar woninginbraken")
    expect(panel.get_by_role("button", name="Opnieuw bewaren (Wpg)")).to_be_visible()
    assert axe_violations(console) == []
    screenshot(console, "ops-keep")

    analyst = open_console(new_context, own_server, "analyst")
    open_incident(analyst, incident)
    expect(analyst.locator("#keep-status")).to_contain_text("Wordt bewaard tot", timeout=LIVE)
    expect(analyst.locator("#keep-button")).to_have_count(0)  # keeping is for operators and specialists
