"""The beheerders' portal on a phone in a hurry: the typed address and the phone's location both go along,
the send button is in reach without scrolling, an error goes once it is corrected, every touch target is
at least 44 px, and axe-core finds nothing.

Waiting is Playwright's own (expect ... timeout); nothing here sleeps."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.test_ui import SLOW, jpeg
from tests.support.browser import Server, axe_violations, screenshot

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MIN_TARGET = 44  # px, WCAG 2.5.5
# what a finger can press; hidden file inputs are pressed through their labels (.file-button)
TARGETS = ("button, a[href], select, textarea, input:not([type=checkbox]):not(.file-input), label.check, "
           "label.file-button")
PHOTO = {"name": "foto.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}


def open_portal(new_context: Any, server: Server, beheerder: dict[str, Any], **options: Any) -> Page:
    context = new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, **options)
    page: Page = context.new_page()
    page.goto(f"{server.base}/beheerder#token={beheerder['token']}")
    expect(page.locator("#who")).to_have_text(beheerder["name"], timeout=SLOW)
    expect(page.locator("#conn")).to_have_attribute("data-state", "open", timeout=SLOW)
    return page


def too_small(page: Page) -> list[str]:
    """The visible touch targets smaller than 44 px either way, described for the assertion message."""
    found: list[str] = page.locator(TARGETS).evaluate_all(
        """(nodes, min) => nodes.filter((n) => n.offsetParent !== null).map((n) => [n, n.getBoundingClientRect()])
             .filter(([, r]) => r.width < min - 0.5 || r.height < min - 0.5)
             .map(([n, r]) => `${n.tagName.toLowerCase()}#${n.id}.${n.className} '${n.textContent.trim().slice(0, 30)}'
               ${Math.round(r.width)}x${Math.round(r.height)}`)""", MIN_TARGET)
    return found


def test_the_typed_address_and_the_phones_location_both_go_with_the_report(server: Server, new_context: Any) -> None:
    beheerder = server.beheerder("WK036205", 2)
    portal = open_portal(new_context, server, beheerder, permissions=["geolocation"],
                         geolocation={"latitude": 52.2921, "longitude": 4.8502})
    portal.get_by_label("Wat is er gezien?").fill("Twee mannen trekken bij de garageboxen aan de deuren, nu")
    portal.get_by_label("Straat").fill("Sportlaan")
    portal.get_by_label("Huisnr.").fill("12")
    portal.get_by_label("Plaats").fill("Amstelveen")
    portal.get_by_role("button", name="Gebruik mijn huidige locatie").click()
    expect(portal.locator("#r-geo-status")).to_contain_text("Locatie: 52.29210, 4.85020")
    expect(portal.get_by_label("Straat")).to_have_value("Sportlaan")  # the location does not replace it
    portal.get_by_role("button", name="Melding versturen").click()
    expect(portal.locator("#r-done")).to_contain_text("Verstuurd: MK-", timeout=SLOW)

    mine = httpx.get(f"{server.base}/api/v1/reports", headers={"Authorization": f"Bearer {beheerder['token']}"},
                     timeout=30).json()["items"][0]
    location = mine["location"]
    assert (location["street"], location["house_number"], location["place"]) == ("Sportlaan", "12", "Amstelveen")
    assert (location["lat"], location["lon"]) == (52.2921, 4.8502)
    portal.get_by_role("tab", name="Mijn meldingen").click()
    item = portal.locator(f"li.report[data-case='{mine['case_number']}']")
    expect(item.locator("div.meta")).to_contain_text("Sportlaan 12, Amstelveen, locatie van telefoon")


def test_the_send_button_is_in_reach_on_a_phone_without_scrolling(server: Server, new_context: Any) -> None:
    portal = open_portal(new_context, server, server.beheerder("WK036205", 1))
    send = portal.get_by_role("button", name="Melding versturen")
    expect(send).to_be_in_viewport(ratio=1)
    portal.get_by_label("Wat is er gezien?").fill("Iemand probeert bij de Sportlaan een scooter te starten zonder "
                                                  "sleutel, hij kijkt steeds om zich heen")
    portal.locator("#r-camera").set_input_files(files=[PHOTO])
    portal.locator("#r-photos").set_input_files(files=[PHOTO, PHOTO])
    expect(portal.locator("#r-previews li")).to_have_count(3)
    portal.get_by_label("Plaats").fill("Amstelveen")  # the last field: the page has scrolled down to it
    expect(send).to_be_in_viewport(ratio=1)
    assert portal.evaluate("() => document.documentElement.scrollHeight > innerHeight"), "the form is longer"
    screenshot(portal, "beheerder-melden-telefoon")


def test_an_error_goes_away_once_it_is_corrected(server: Server, new_context: Any) -> None:
    portal = open_portal(new_context, server, server.beheerder("WK036205", 1))
    error = portal.locator("#r-error")
    text = portal.get_by_label("Wat is er gezien?")
    portal.get_by_role("button", name="Melding versturen").click()
    expect(error).to_have_text("Beschrijf eerst wat er is gezien.")
    expect(error).to_be_in_viewport()  # next to the button, not somewhere above
    expect(text).to_have_attribute("aria-invalid", "true")
    text.fill("Nu staat er een man bij de fietsenstalling van het station met een kniptang")
    expect(error).to_be_hidden()
    expect(text).not_to_have_attribute("aria-invalid", "true")

    # the server refuses a street of 201 characters; the message names it and goes once it is fixed
    street = portal.get_by_label("Straat")
    street.fill("S" * 201)
    portal.get_by_role("button", name="Melding versturen").click()
    expect(error).to_contain_text("location.street", timeout=SLOW)
    expect(street).to_have_attribute("aria-invalid", "true")
    text.press("End")  # typing elsewhere does not answer it
    text.type(" ")
    expect(error).to_be_visible()
    street.fill("Stationsplein")
    expect(error).to_be_hidden()


def test_every_touch_target_is_at_least_44_px_and_axe_finds_nothing(server: Server, new_context: Any) -> None:
    beheerder = server.beheerder("WK036206", 1)
    server.report(beheerder, "Zojuist is bij de Bovenkerkerweg een fiets uit een schuur gestolen, dader weg")
    portal = open_portal(new_context, server, beheerder)
    portal.get_by_label("Wat is er gezien?").fill("Iemand kijkt bij de Bovenkerkerweg in geparkeerde auto's")
    portal.locator("#r-camera").set_input_files(files=[PHOTO])
    expect(portal.locator("#r-previews li")).to_have_count(1)
    assert too_small(portal) == []
    assert axe_violations(portal) == []
    for tab, ready in (("Mijn meldingen", "#reports li.report"), ("Alarmen", "#alerts-loading")):
        portal.get_by_role("tab", name=tab).click()
        if ready.startswith("#alerts"):
            expect(portal.locator(ready)).to_be_hidden(timeout=SLOW)
        else:
            expect(portal.locator(ready).first).to_be_visible(timeout=SLOW)
        assert too_small(portal) == [], tab
        assert axe_violations(portal) == [], tab

    sign_in = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    sign_in.goto(f"{server.base}/beheerder")
    expect(sign_in.get_by_label("Toegangscode")).to_be_visible(timeout=SLOW)
    assert too_small(sign_in) == []
    assert axe_violations(sign_in) == []
    sign_in.get_by_role("button", name="Aanmelden").click()
    expect(sign_in.locator("#login-error")).to_have_text("Vul uw toegangscode in.")
    sign_in.get_by_label("Toegangscode").fill("mkb_")
    expect(sign_in.locator("#login-error")).to_be_hidden()
