"""Who is calling: a staff user, a beheerder, a wall display, or the system itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


@dataclass(frozen=True)
class Principal:
    kind: str  # staff | beheerder | wall | system
    id: int
    name: str
    role: str  # a staff role, or "beheerder" / "wall" / "system"
    token_id: int | None = None
    region_id: int | None = None
    wijkcodes: tuple[str, ...] = field(default_factory=tuple)
    source_ip: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"


SYSTEM = Principal(kind="system", id=0, name="system", role="system")

# Finds the principal of a presented token, or raises Unauthorized (app.auth.service.resolve_token).
TokenResolver = Callable[[AsyncConnection | AsyncSession, str, str | None], Awaitable[Principal]]
