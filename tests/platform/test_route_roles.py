"""Deny by default: every API route declares the roles it allows, or is explicitly public."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute

from app.core.deps import RoleGuard
from app.core.settings import Settings
from app.factory import create_app

PUBLIC = {"/api/v1/auth/login"}


def _guards(dependant: Any) -> list[RoleGuard]:
    found = [dependant.call] if isinstance(dependant.call, RoleGuard) else []
    for sub in dependant.dependencies:
        found.extend(_guards(sub))
    return found


def _api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every APIRoute with its full path, also inside included routers (which this FastAPI wraps)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _api_routes(inner.routes, prefix + (getattr(context, "prefix", "") or ""))


def test_every_api_route_declares_its_roles():
    app = create_app(Settings(environment="test"), configure_logs=False)
    routes = [(path, route) for path, route in _api_routes(list(app.routes)) if path.startswith("/api/")]
    assert len(routes) > 50  # the walk really reaches the domain routers
    unguarded = [f"{sorted(route.methods)} {path}" for path, route in routes
                 if path not in PUBLIC and not _guards(route.dependant)]
    assert unguarded == []
