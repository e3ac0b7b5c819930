"""The console's register for admins over a registry far larger than the demo (3,000 more beheerders, 1,000 more
wijken, written straight into the server's database): each list shows one page of 50 with its number, turns
pages, and the search box finds one beheerder or wijk through the server."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import Server, axe_violations, new_server

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

SLOW = 30_000  # ms
VIEWPORT = {"width": 1440, "height": 900}
BEHEERDERS, WIJKEN = 3_000, 1_000


def add_large_registry(database: Path) -> None:
    """One gemeente "Grootstad" with WIJKEN wijken, a group each, and BEHEERDERS beheerders over those groups."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(database) as db:
        gemeente = db.execute("INSERT INTO gemeenten (code, name) VALUES ('GM9990', 'Grootstad')").lastrowid
        db.executemany("INSERT INTO wijken (code, name, gemeente_id) VALUES (?, ?, ?)",
                       [(f"WK9990{n:04d}", f"Grootstad-wijk {n}", gemeente) for n in range(1, WIJKEN + 1)])
        db.execute("INSERT INTO groups (name, wijk_id, member_count, active, created_at) SELECT "
                   "'Buurtgroep ' || code, id, 40, 1, ? FROM wijken WHERE gemeente_id = ?", (now, gemeente))
        db.executemany("INSERT INTO beheerders (name, phone, channels, active, created_at) VALUES (?, ?, ?, 1, ?)",
                       [(f"Beheerder {n} van Grootstad", f"+3169{n:07d}", '["whatsapp"]', now)
                        for n in range(1, BEHEERDERS + 1)])
        db.execute("INSERT INTO beheerder_groups (beheerder_id, group_id) SELECT b.id, g.id FROM beheerders b "
                   "JOIN groups g ON g.name = 'Buurtgroep WK9990' || substr('0000' || (1 + b.id % ?), -4) "
                   "WHERE b.phone LIKE '+3169%'", (WIJKEN,))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, template_db: tuple[Path, dict[str, Any]]) -> Iterator[Server]:
    instance = new_server(tmp_path_factory, template_db)
    add_large_registry(instance.workdir / "db.sqlite")
    yield instance
    instance.stop()


def open_register(new_context: Any, server: Server) -> Page:
    page: Page = new_context(viewport=VIEWPORT).new_page()
    page.goto(f"{server.base}/ops")
    page.get_by_label("Gebruikersnaam").fill(server.credentials["admin"]["username"])
    page.get_by_label("Wachtwoord").fill(server.credentials["admin"]["password"])
    page.get_by_role("button", name="Aanmelden").click()
    page.get_by_role("link", name="Register").click()
    return page


def test_the_register_pages_through_thousands_of_beheerders_and_finds_one(server: Server, new_context: Any) -> None:
    page = open_register(new_context, server)
    count = page.locator("#reg-count")
    expect(count).to_have_text(re.compile(r"^1–50 van 3\.\d{3} beheerders$"), timeout=SLOW)
    rows = page.locator("#reg-table tbody tr")
    expect(rows).to_have_count(50)
    expect(page.get_by_role("button", name="Vorige")).to_be_disabled()
    page.get_by_role("button", name="Volgende").click()
    expect(count).to_have_text(re.compile(r"^51–100 van 3\.\d{3} beheerders$"))
    assert axe_violations(page) == []

    page.get_by_label("Zoek in beheerders").fill("beheerder 2345 van")
    expect(count).to_have_text('1–1 van 1 beheerders voor "beheerder 2345 van"')
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("+31690002345")
    expect(page.get_by_role("button", name="Volgende")).to_be_disabled()
    page.get_by_label("Zoek in beheerders").fill("niemand-heet-zo")
    expect(count).to_have_text('Geen beheerders gevonden voor "niemand-heet-zo".')


def test_the_register_lists_a_thousand_wijken_a_page_at_a_time(server: Server, new_context: Any) -> None:
    page = open_register(new_context, server)
    page.get_by_role("link", name="Wijken").click()
    count = page.locator("#reg-count")
    expect(count).to_have_text(re.compile(r"^1–50 van 1\.\d{3} wijken$"), timeout=SLOW)
    expect(page.locator("#reg-table tbody tr")).to_have_count(50)
    page.get_by_label("Zoek in wijken").fill("Grootstad-wijk 777")
    expect(count).to_have_text('1–1 van 1 wijken voor "Grootstad-wijk 777"')
    expect(page.locator("#reg-table tbody tr").first).to_contain_text("WK99900777")
    page.get_by_role("link", name="Wachtrij").click()
    expect(page.locator("#registry-view")).to_be_hidden()
