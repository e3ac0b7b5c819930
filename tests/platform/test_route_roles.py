"""Deny by default: every API route declares the roles it allows, or is explicitly public."""

from __future__ import annotations

from fastapi.routing import APIRoute

from app.core.app import create_app
from app.core.deps import RoleGuard
from app.core.settings import Settings

PUBLIC = {"/api/v1/auth/login"}


def _guards(dependant) -> list[RoleGuard]:
    found = [dependant.call] if isinstance(dependant.call, RoleGuard) else []
    for sub in dependant.dependencies:
        found.extend(_guards(sub))
    return found


def test_every_api_route_declares_its_roles():
    app = create_app(Settings(environment="test"), configure_logs=False)
    unguarded = []
    for route in app.routes:
        is_api = isinstance(route, APIRoute) and route.path.startswith("/api/") and route.path not in PUBLIC
        if is_api and not _guards(route.dependant):
            unguarded.append(f"{sorted(route.methods)} {route.path}")
    assert unguarded == []
