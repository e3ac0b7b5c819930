"""The console's queue over a history longer than the server counts: 10,050 closed incidents (written straight
into the server's database). Filtered on "Gesloten", it shows its first 200 and says there are more than
10.000 instead of a number it did not count."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import Server, new_server

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

SLOW = 30_000  # ms
CLOSED = 10_050


def add_closed_history(database: Path) -> None:
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=300)
    with sqlite3.connect(database) as db:
        db.executemany(
            "INSERT INTO incidents (status, urgency, overridden, report_count, group_ids, summary, appearance_only, "
            "first_report_at, last_report_at, created_at, updated_at, closed_at, wijk_code) "
            "VALUES ('closed', ?, '[]', 1, '[]', ?, 0, ?, ?, ?, ?, ?, 'WK036204')",
            [(("P1", "P2", "P3", "none")[n % 4], f"Oude melding {n}", *[(start + timedelta(minutes=n)).isoformat(
                sep=" ")] * 5) for n in range(CLOSED)])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, template_db: tuple[Path, dict[str, Any]]) -> Iterator[Server]:
    instance = new_server(tmp_path_factory, template_db)
    add_closed_history(instance.workdir / "db.sqlite")
    yield instance
    instance.stop()


def test_the_closed_history_shows_a_page_and_says_more_than_ten_thousand(server: Server, new_context: Any) -> None:
    page: Page = new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.goto(f"{server.base}/ops")
    page.get_by_label("Gebruikersnaam").fill(server.credentials["operator"]["username"])
    page.get_by_label("Wachtwoord").fill(server.credentials["operator"]["password"])
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.locator("#conn")).to_have_attribute("data-state", "open", timeout=SLOW)
    page.get_by_label("Status").select_option(label="Gesloten")
    expect(page.locator("#queue-count")).to_contain_text("de eerste 200 van 10.000+", timeout=SLOW)
    expect(page.locator("#queue .row")).to_have_count(200)
    with server.staff("operator") as operator:
        answer = operator.get("/api/v1/queue", params={"status": "closed", "limit": 1}).json()
    assert answer["total"] == 10_000 and answer["total_capped"] is True, json.dumps(answer)[:200]
