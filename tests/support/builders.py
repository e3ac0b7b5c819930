"""Builders: just the rows a test needs, made through the app's own services, with defaults a test overrides.

Each builder opens its own session on the test app and commits, so what it made is there for the API. Wijken
come from the CBS sample in config/geo/wijken.geojson (their real shapes); build a wijk before the region
that should cover its gemeente. Nothing here seeds the demo registry: a test that needs the six studied
groups, the streets or the hotspots uses the `demo` fixture."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.core.principal import SYSTEM
from app.core.settings import Settings, config_dir
from app.demo import REGIONS
from app.registry import imports
from app.registry import service as registry
from app.registry.models import Gemeente, Wijk
from app.registry.schemas import BeheerderIn, Channel, GroupIn, GroupOut

WESTWIJK = "WK036204"
_numbers = itertools.count(1)  # unique names and phone numbers across every test of a run


@dataclass(frozen=True)
class StaffAccount:
    id: int
    username: str
    password: str
    role: str
    token: str

    @property
    def credentials(self) -> dict[str, str]:
        """What the login form sends."""
        return {"username": self.username, "password": self.password}


@dataclass(frozen=True)
class BeheerderAccount:
    id: int
    name: str
    phone: str | None
    token: str
    group_ids: list[int]
    wijkcodes: list[str]


@dataclass(frozen=True)
class WallAccount:
    id: int
    name: str
    region_id: int
    token: str


def _session(app: FastAPI) -> AsyncSession:
    session: AsyncSession = app.state.sessionmaker()
    return session


def _settings(app: FastAPI) -> Settings:
    settings: Settings = app.state.settings
    return settings


@cache
def _cbs_wijken() -> dict[str, imports.WijkFeature]:
    data = imports.load_json_file(config_dir() / "geo" / "wijken.geojson")
    return {feature.code: feature for feature in imports.read_wijken_geojson(data)}


async def wijk(app: FastAPI, code: str = WESTWIJK) -> str:
    """The CBS wijk with this code, and its gemeente, through the wijk import; returns the code."""
    async with _session(app) as session:
        if await session.scalar(select(Wijk.id).where(Wijk.code == code)) is None:
            await imports.upsert_wijken(session, SYSTEM, [_cbs_wijken()[code]])
    return code


async def region(app: FastAPI, code: str = "AMS", *, name: str | None = None,
                 gemeentecodes: list[str] | None = None) -> int:
    """A meldkamer region; by default named as in the demo and covering those of its demo gemeenten that
    exist already. Returns its id."""
    demo_name, demo_gemeenten = REGIONS.get(code, (f"Meldkamer {code}", []))
    async with _session(app) as session:
        if gemeentecodes is None:
            present = await session.scalars(select(Gemeente.code).where(Gemeente.code.in_(demo_gemeenten)))
            gemeentecodes = list(present)
        created = await registry.create_region(session, SYSTEM, code, name or demo_name, gemeentecodes)
        return created.id


async def group(app: FastAPI, *, wijkcode: str = WESTWIJK, name: str | None = None,
                member_count: int = 40) -> GroupOut:
    """A group in the wijk (imported first when it is not there yet)."""
    await wijk(app, wijkcode)
    body = GroupIn(name=name or f"Testgroep {next(_numbers)}", wijkcode=wijkcode, member_count=member_count)
    async with _session(app) as session:
        return await registry.create_group(session, SYSTEM, body)


async def beheerder(app: FastAPI, *, group_ids: list[int] | None = None, wijkcode: str = WESTWIJK,
                    name: str | None = None, phone: str | None = None, email: str | None = None,
                    channels: tuple[Channel, ...] = ("whatsapp", "app")) -> BeheerderAccount:
    """A beheerder with an API token, of the given groups or else of one new group in `wijkcode`."""
    if group_ids is None:
        group_ids = [(await group(app, wijkcode=wijkcode)).id]
    number = next(_numbers)
    body = BeheerderIn(name=name or f"Beheerder {number}", phone=phone or f"+3161300{number:04d}", email=email,
                       channels=list(channels), group_ids=group_ids)
    async with _session(app) as session:
        created = await registry.create_beheerder(session, SYSTEM, body)
        issued = await registry.issue_token_for_beheerder(session, _settings(app), SYSTEM, created.id,
                                                          label="test", days=None)
    return BeheerderAccount(id=created.id, name=created.name, phone=created.phone, token=issued.token,
                            group_ids=created.group_ids, wijkcodes=created.wijkcodes)


async def staff(app: FastAPI, role: str = "operator", *, username: str | None = None,
                password: str | None = None, wijkcodes: list[str] | None = None) -> StaffAccount:
    """A staff user of the role (username defaults to the role), logged in once for a session token."""
    username = username or role
    password = password or f"wachtwoord-{username}"
    async with _session(app) as session:
        user = await auth_service.create_staff_user(session, SYSTEM, username=username, display_name=username,
                                                    role=role, password=password, wijkcodes=wijkcodes)
        await session.commit()
        _, issued = await auth_service.login(session, _settings(app), username, password, None)
        return StaffAccount(id=user.id, username=username, password=password, role=role, token=issued.token)


async def wall(app: FastAPI, *, region_code: str = "AMS", name: str | None = None) -> WallAccount:
    """A videowall of the region (which must exist), with its token."""
    async with _session(app) as session:
        display, token = await registry.create_wall(session, _settings(app), SYSTEM,
                                                    name or f"Videowall {region_code}", region_code)
        return WallAccount(id=display.id, name=display.name, region_id=display.region_id, token=token)
