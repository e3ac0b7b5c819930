"""Serves the static dashboard (wall, console, portal) from dashboard/; no CDN, works offline."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from app.core.settings import PROJECT_ROOT

DASHBOARD_DIR = PROJECT_ROOT / "dashboard"
PAGES = {"/wall": "wall.html", "/ops": "ops.html", "/beheerder": "beheerder.html"}


def mount_dashboard(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=DASHBOARD_DIR, check_dir=False), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(DASHBOARD_DIR / "index.html")

    for path, filename in PAGES.items():
        _add_page(app, path, filename)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> RedirectResponse:
        return RedirectResponse("/static/icon.svg")


def _add_page(app: FastAPI, path: str, filename: str) -> None:
    async def page() -> FileResponse:
        return FileResponse(DASHBOARD_DIR / filename, headers={"Cache-Control": "no-cache"})

    app.add_api_route(path, page, methods=["GET"], include_in_schema=False)
