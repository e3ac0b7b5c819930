"""Browser tests: the real server (`meldkamer serve`) in a subprocess and Debian's Chromium through Playwright.

The database is migrated and seeded once per run (a template file); every server gets its own copy, so a
test that restarts its server does not disturb the others. Chromium is never downloaded: `make test`
installs Debian's package (`make browser-deps`); without /usr/bin/chromium these tests are skipped."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, Server, meldkamer, new_server, server_env


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} ontbreekt: `make browser-deps` installeert Debian's chromium")
    return CHROMIUM


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> tuple[Path, dict[str, Any]]:
    """Migrated and seeded once; the credentials are the same for every copy."""
    workdir = tmp_path_factory.mktemp("browser-template")
    env = server_env(workdir)
    meldkamer("migrate", env=env)
    meldkamer("seed-demo", "--out", str(workdir / "demo.json"), env=env)
    return workdir / "db.sqlite", json.loads((workdir / "demo.json").read_text())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           template_db: tuple[Path, dict[str, Any]]) -> Iterator[Server]:
    """Shared by the tests of a module; tests use different wijken so their incidents stay apart."""
    instance = new_server(tmp_path_factory, template_db)
    yield instance
    instance.stop()


@pytest.fixture
def own_server(tmp_path_factory: pytest.TempPathFactory,
               template_db: tuple[Path, dict[str, Any]]) -> Iterator[Server]:
    """A server for one test, which may stop and restart it."""
    instance = new_server(tmp_path_factory, template_db)
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    """Module scope: Playwright's sync API and its loop are gone before the async tests of other packages run."""
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def new_context(browser: Any) -> Iterator[Any]:
    """Makes browser contexts (separate cookies and storage) in Amsterdam time; closes them afterwards.
    Page errors fail the test: a UI that throws is broken even when the assertions happen to pass."""
    contexts: list[Any] = []
    errors: list[str] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(locale="nl-NL", timezone_id="Europe/Amsterdam", **options)
        context.on("page", lambda page: page.on("pageerror", lambda exc: errors.append(str(exc))))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert errors == [], f"JavaScript errors in the page: {errors}"
