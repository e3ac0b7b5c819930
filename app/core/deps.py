"""Dependency-injected session, settings and current principal; every route declares its roles.

The token itself is checked by the auth domain (app.auth.service.resolve_token), which the app factory puts
on app.state: core knows no domain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Forbidden, Unauthorized
from app.core.principal import Principal, TokenResolver
from app.core.settings import Settings

SESSION_COOKIE = "meldkamer_session"


async def get_settings_dep(request: Request) -> Settings:
    # async on purpose: FastAPI runs a plain `def` dependency on a worker thread, a costly hop per request
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request. Services commit their own unit of work; anything not committed when
    the request ends, for example after an error, is rolled back."""
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
        finally:
            if session.in_transaction():
                await session.rollback()


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


# Declares the bearer token in the OpenAPI document (every guarded route lists it); the browser pages send the
# same token as a session cookie instead.
BEARER = HTTPBearer(auto_error=False, scheme_name="token",
                    description="Token van /api/v1/auth/login, of het token van een beheerder of videowall")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


def presented_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is not None and credentials.credentials.strip():
        return credentials.credentials.strip()
    return request.cookies.get(SESSION_COOKIE)


async def current_principal(request: Request, credentials: BearerDep) -> Principal:
    token = presented_token(request, credentials)
    if not token:
        raise Unauthorized()
    # A read connection of its own (no ORM session needed for one statement): no write lock on SQLite, and
    # the request's session stays unused until the service's unit of work.
    resolve: TokenResolver = request.app.state.resolve_token
    async with request.app.state.read_engine.connect() as connection:
        principal = await resolve(connection, token, client_ip(request))
    request.state.principal = principal
    return principal


class RoleGuard:
    """Declares which roles a route allows; anything not listed is refused (deny by default)."""

    def __init__(self, *roles: str) -> None:
        if not roles:
            raise ValueError("a route must allow at least one role")
        self.roles = frozenset(roles)

    async def __call__(self, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in self.roles:
            raise Forbidden()
        return principal


def allow(*roles: str) -> Principal:
    """Use as a parameter default: `principal: Principal = allow("operator", "admin")`."""
    result: Principal = Depends(RoleGuard(*roles))
    return result


# A route that anyone may call (login, health, webhooks with their own signatures) says so explicitly.
PUBLIC_ROUTE = "public"
