"""The browser tests' scene: the real server (`meldkamer serve`) in a subprocess over its own SQLite copy,
API shortcuts to arrange what the browser then shows, and screenshots."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = Path(os.environ.get("MELDKAMER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"
WALL_VIEWPORT = {"width": 1920, "height": 1080}
CONSOLE_VIEWPORT = {"width": 1440, "height": 900}
PHONE_VIEWPORT = {"width": 360, "height": 740}


def meldkamer(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(BIN / "meldkamer"), *args], env=env, check=True, capture_output=True, cwd=ROOT)


def server_env(workdir: Path) -> dict[str, str]:
    return {**os.environ, "MELDKAMER_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'db.sqlite'}",
            "MELDKAMER_DATA_DIR": str(workdir), "MELDKAMER_LOG_LEVEL": "WARNING",
            "MELDKAMER_ENVIRONMENT": "development"}


@dataclass
class Server:
    """One `meldkamer serve` process on a fixed port over its own SQLite file; stop() and start() again keep
    the port and the database, as a restart in production would."""

    workdir: Path
    credentials: dict[str, Any]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _reader: httpx.Client | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return server_env(self.workdir)

    @property
    def database_url(self) -> str:
        return self.env["MELDKAMER_DATABASE_URL"]

    def start(self) -> None:
        log = (self.workdir / "server.log").open("a")
        self.process = subprocess.Popen(
            [str(BIN / "meldkamer"), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        # Generous: a start-up takes 25-45 s on a loaded 2-core machine, and make test starts two at a time.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {(self.workdir / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def stop(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    # ---- API helpers for arranging a scene ----

    def beheerder(self, wijkcode: str, index: int = 0) -> dict[str, Any]:
        found = [b for b in self.credentials["beheerders"] if wijkcode in b["wijkcodes"]]
        return dict(found[index])

    def report(self, beheerder: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
        response = httpx.post(f"{self.base}/api/v1/reports", json={"text": text, "group_id": beheerder["group_ids"][0],
                                                                   **extra},
                              headers={"Authorization": f"Bearer {beheerder['token']}"}, timeout=30)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def staff(self, who: str = "operator") -> httpx.Client:
        """A client logged in as a demo staff user (use it in a `with`)."""
        response = httpx.post(f"{self.base}/api/v1/auth/login", json=self.credentials[who], timeout=30)
        assert response.status_code == 200, response.text
        return httpx.Client(base_url=self.base, timeout=30,
                            headers={"Authorization": f"Bearer {response.json()['access_token']}"})

    def incident_of(self, report_id: int) -> dict[str, Any]:
        """The incident that holds the report, read with the analyst's account (no side effects)."""
        if self._reader is None:
            self._reader = self.staff("analyst")
        page = self._reader.get("/api/v1/queue", params={"status": "", "limit": 200}).json()
        for item in page["items"]:
            if any(r["id"] == report_id for r in item["reports"]):
                return dict(item)
        raise AssertionError(f"report {report_id} is in no incident")


def new_server(tmp_path_factory: pytest.TempPathFactory, template: tuple[Path, dict[str, Any]]) -> Server:
    workdir = tmp_path_factory.mktemp("browser-server")
    shutil.copy(template[0], workdir / "db.sqlite")
    server = Server(workdir, template[1])
    server.start()
    return server


DOCUMENTED = {"wall", "ops", "beheerder", "wall-busy", "wall-offline", "stats"}  # in docs/screenshots and the README


def screenshot(page: Any, name: str, *, full_page: bool = False) -> Path:
    """Saves tests/artifacts/<name>.png; with MELDKAMER_UPDATE_SCREENSHOTS=1 the documented three are also
    copied to docs/screenshots/<name>.png (committed, so only on purpose)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if name in DOCUMENTED and os.environ.get("MELDKAMER_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / f"{name}.png")
    return path


AXE_SCRIPT = ROOT / "dashboard" / "vendor" / "axe-core" / "axe.min.js"  # vendored from npm, with its licence
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page: Any, *, exclude: tuple[str, ...] = ()) -> list[str]:
    """Runs axe-core on the page as it is now (WCAG 2.2 A and AA and axe's best practices, which include
    landmarks) and returns one line per violation: rule, impact, help and the offending elements. Evaluated
    through the DevTools protocol, which the page's Content-Security-Policy does not govern, so it works on
    every page and with the server down; `exclude` takes CSS selectors of parts the test does not judge. A test
    asserts `axe_violations(page) == []`."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        """async ([tags, exclude]) => {
             const context = exclude.length ? { exclude: exclude.map((selector) => [selector]) } : document;
             const result = await window.axe.run(context, { runOnly: { type: "tag", values: tags } });
             return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.slice(0, 5).map((n) =>
                 `${n.target.join(" ")}: ${n.failureSummary.split("\\n")[1] || ""}`) }));
           }""",
        [AXE_TAGS, list(exclude)])
    return [f"{v['id']} ({v['impact']}): {v['help']}: {'; '.join(v['nodes'])}" for v in found]
