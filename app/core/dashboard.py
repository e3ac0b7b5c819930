"""Serves the static dashboard (wall, console, portal, evaluation) and the API documentation (/docs, Swagger UI
vendored in dashboard/vendor) from dashboard/; no CDN, works offline.

The beheerders' portal is an installable web app: its manifest and its service worker are served from
the root (`/beheerder.webmanifest`, `/beheerder-sw.js`) so that the worker may control `/beheerder`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from app.core.settings import PROJECT_ROOT

DASHBOARD_DIR = PROJECT_ROOT / "dashboard"
PAGES = {"/wall": "wall.html", "/ops": "ops.html", "/beheerder": "beheerder.html", "/stats": "stats.html"}
# The pages hold no data (everything comes from the API after authentication). Their security headers (CSP,
# no framing, no referrer) come from app.core.headers, like those of every HTML response.
PAGE_HEADERS = {"Cache-Control": "no-cache"}


def mount_dashboard(app: FastAPI, *, api_docs: bool) -> None:
    app.mount("/static", StaticFiles(directory=DASHBOARD_DIR, check_dir=False), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(DASHBOARD_DIR / "index.html")

    pages = {**PAGES, "/docs": "docs.html"} if api_docs else PAGES
    for path, filename in pages.items():
        _add_page(app, path, filename)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> RedirectResponse:
        return RedirectResponse("/static/icon.svg")

    @app.get("/beheerder.webmanifest", include_in_schema=False)
    async def portal_manifest() -> FileResponse:
        return FileResponse(DASHBOARD_DIR / "beheerder.webmanifest", media_type="application/manifest+json",
                            headers={"Cache-Control": "no-cache"})

    @app.get("/beheerder-sw.js", include_in_schema=False)
    async def portal_service_worker() -> FileResponse:
        return FileResponse(DASHBOARD_DIR / "js" / "beheerder-sw.js", media_type="text/javascript",
                            headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/beheerder"})


def _add_page(app: FastAPI, path: str, filename: str) -> None:
    async def page() -> FileResponse:
        return FileResponse(DASHBOARD_DIR / filename, headers=PAGE_HEADERS)

    app.add_api_route(path, page, methods=["GET"], include_in_schema=False)
