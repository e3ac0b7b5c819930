"""Under the Content-Security-Policy every page still works, and the browser refuses nothing of ours: no
script, style or connection of the wall, the console, the portal or the API documentation is blocked."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_ui import SLOW
from tests.support.browser import CONSOLE_VIEWPORT, PHONE_VIEWPORT, WALL_VIEWPORT

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.browser


def _watched(new_context: Any, refused: list[str], **options: Any) -> Any:
    """A page whose refusals (CSP violations, requests leaving the relay) are collected from the start."""
    context = new_context(**options)
    context.on("console", lambda message: refused.append(message.text)
               if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    context.on("request", lambda request: refused.append(f"outside request: {request.url}")
               if not request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "blob:", "data:")) else None)
    return context.new_page()


def test_the_pages_run_without_a_single_csp_violation(server: Any, new_context: Any) -> None:
    refused: list[str] = []
    docs = _watched(new_context, refused)
    docs.goto(f"{server.base}/docs")
    expect(docs.locator(".opblock").first).to_be_visible(timeout=SLOW)
    assert docs.locator(".opblock").count() > 60

    console = _watched(new_context, refused, viewport=CONSOLE_VIEWPORT)
    console.goto(f"{server.base}/ops")
    console.get_by_label("Gebruikersnaam").fill(server.credentials["operator"]["username"])
    console.get_by_label("Wachtwoord").fill(server.credentials["operator"]["password"])
    console.get_by_role("button", name="Aanmelden").click()
    expect(console.locator("#conn")).to_have_attribute("data-state", "open", timeout=SLOW)
    server.report(server.beheerder("WK036204"), "Nu wordt er ingebroken aan de Zonnestein, twee mannen")
    console.locator("#queue .row, #queue [id^='inc-']").first.click(timeout=SLOW)  # detail: inline style values

    wall = _watched(new_context, refused, viewport=WALL_VIEWPORT)
    wall.goto(f"{server.base}/wall#token={server.credentials['wall_token']}")
    expect(wall.locator("#conn")).to_have_attribute("data-state", "open", timeout=SLOW)

    beheerder = server.beheerder("WK036204")
    portal = _watched(new_context, refused, viewport=PHONE_VIEWPORT, is_mobile=True)
    portal.goto(f"{server.base}/beheerder#token={beheerder['token']}")
    expect(portal.locator("#conn")).to_have_attribute("data-state", "open", timeout=SLOW)
    assert refused == []
