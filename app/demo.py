"""The demo registry: the six studied groups of table 1.1, more Westwijk groups, staff and a wall.

Idempotent: running it again adds nothing twice. Credentials are generated fresh; an existing
credentials file is kept as long as every password and token in it still works."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.auth import service as auth_service
from app.auth.models import ApiToken, StaffUser
from app.broadcast.targets import resolve_wijken
from app.core.database import utcnow
from app.core.principal import SYSTEM
from app.core.security import generate_password, hash_password, token_digest, verify_password
from app.core.settings import Settings, config_dir
from app.hotspots import service as hotspot_service
from app.operations.models import Operation
from app.operations.times import AMSTERDAM
from app.registry import imports
from app.registry.models import Beheerder, Gemeente, Group, Region, WallDisplay, Wijk
from app.triage.reference import read_hotspots_geojson, read_signalementen_json

REGIONS = {
    "AMS": ("Meldkamer Amsterdam-Amstelland", ["GM0363", "GM0362"]),
    "MNL": ("Meldkamer Midden-Nederland", ["GM0034"]),
    "ZWB": ("Meldkamer Zeeland-West-Brabant", ["GM0855"]),
}

# Table 1.1 of the report: the six studied groups and their member counts.
STUDIED_GROUPS = [
    ("Schapenmeent", "WK003402", 82),
    ("Kromgouw", "WK003403", 32),
    ("Westwijk", "WK036204", 117),
    ("Bovenkerk", "WK036206", 180),
    ("Lastage", "WK036302", 27),
    ("K-buurt", "WK085531", 256),
]

# Aantal huishoudens per demo wijk, for the evaluation's reports per 1,000 households. ILLUSTRATIVE: rounded
# figures of the right size for these areas, not CBS data (the reference wijken.geojson carries none);
# production imports the CBS wijk- en buurtkaart's `aantal_huishoudens`.
DEMO_HOUSEHOLDS = {
    "WK036301": 2600, "WK036302": 5800, "WK036204": 8200, "WK036205": 5600, "WK036206": 3300,
    "WK003401": 1900, "WK003402": 2700, "WK003403": 2100, "WK085531": 2400, "WK085532": 1700,
}

# Westwijk alone has 26 groups (sec. 3.8.1); the demo gives it twelve.
EXTRA_GROUPS = [
    *[(f"Westwijk {part}", "WK036204", members) for part, members in [
        ("Noord", 64), ("Zuid", 71), ("Oost", 58), ("West", 49), ("Zonnestein", 38), ("Kruiskerk", 42),
        ("Bankras", 55), ("Ouderkerkerlaan", 33), ("Westhove", 47), ("Goudsbloemlaan", 29), ("Sportlaan", 36),
    ]],
    ("Burgwallen Oudezijde", "WK036301", 41),
    ("Middenhoven Noord", "WK036205", 66),
    ("Middenhoven Zuid", "WK036205", 52),
    ("Bovenkerk Zuid", "WK036206", 74),
    ("Haven-Centrum", "WK003401", 45),
    ("De Gouwen Oost", "WK003403", 57),
    ("Dalem", "WK085532", 88),
]

STAFF = [
    ("admin", "Beheer Demo", "admin", []),
    ("operator", "Centralist Demo", "operator", []),
    ("operator2", "Centralist Twee", "operator", []),
    ("specialist", "Operationeel Specialist Demo", "specialist", []),
    ("wijkagent", "Wijkagent Amstelveen", "wijkagent", ["WK036204", "WK036205", "WK036206"]),
    ("analyst", "Analist DRIO", "analyst", []),
]

FIRST_NAMES = ["Anja", "Bert", "Carla", "Dirk", "Esther", "Frank", "Gerda", "Hans", "Ineke", "Jan", "Karin",
               "Lucas", "Mirjam", "Niels", "Olga", "Peter", "Quinta", "Ruud", "Sanne", "Theo", "Ursula",
               "Vincent", "Wendy", "Yusuf", "Zeynep", "Ahmed", "Bram", "Chantal", "Daan", "Eva", "Fatima"]
LAST_NAMES = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos",
              "Vos", "Peters", "Hendriks", "van Dijk", "Dekker", "Brouwer"]
WALL_NAME = "Videowall meldkamer Amsterdam-Amstelland"


@dataclass(frozen=True)
class DemoBeheerder:
    name: str
    phone: str
    groups: tuple[str, ...]


def demo_beheerders(groups: list[tuple[str, str]]) -> list[DemoBeheerder]:
    """One beheerder per (name, wijkcode) group, a second for every third group and for a group that is
    alone in its wijk (so every wijk has several), and one superbeheerder who runs four Westwijk groups
    (superbeheerders run dozens of groups in reality)."""
    per_wijk = Counter(wijkcode for _, wijkcode in groups)
    people: list[DemoBeheerder] = []
    for index, (group, wijkcode) in enumerate(groups):
        people.append(_person(len(people), (group,)))
        if index % 3 == 0 or per_wijk[wijkcode] == 1:
            people.append(_person(len(people), (group,)))
    westwijk = tuple(name for name, _ in groups if name.startswith("Westwijk "))[:4]
    people.append(_person(len(people), westwijk))
    return people


def _person(number: int, groups: tuple[str, ...]) -> DemoBeheerder:
    name = f"{FIRST_NAMES[number % len(FIRST_NAMES)]} {LAST_NAMES[(number * 7) % len(LAST_NAMES)]}"
    return DemoBeheerder(name=name, phone=f"+3161200{number + 1:04d}", groups=groups)


async def seed_demo(session: AsyncSession, settings: Settings, out: Path) -> dict[str, Any]:
    await _ensure_geodata(session)
    await _ensure_households(session)
    await _ensure_regions(session)
    groups = await _ensure_groups(session)
    beheerders = await _ensure_beheerders(session, groups)
    wall = await _ensure_wall(session)
    await session.commit()
    existing = _read_existing(out)
    if existing and await _still_valid(session, existing):
        credentials = existing
    else:
        credentials = await _fresh_credentials(session, settings, beheerders, wall)
        await session.commit()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(credentials, indent=2, ensure_ascii=False))
        out.chmod(0o600)
    await _ensure_operations(session)
    await session.commit()
    return credentials


async def _ensure_geodata(session: AsyncSession) -> None:
    geo = config_dir() / "geo"
    if await session.scalar(select(Wijk.id).limit(1)) is None:
        features = imports.read_wijken_geojson(imports.load_json_file(geo / "wijken.geojson"))
        await imports.upsert_wijken(session, SYSTEM, features)
        rows = imports.read_streets_csv((geo / "streets.csv").read_text(encoding="utf-8"))
        await imports.upsert_streets(session, SYSTEM, rows)
        hotspots = read_hotspots_geojson(imports.load_json_file(geo / "hotspots.geojson"))
        await hotspot_service.upsert_hotspots(session, SYSTEM, hotspots)
        signalementen = read_signalementen_json(
            imports.load_json_file(geo / "signalementen.json"))
        await hotspot_service.upsert_signalementen(session, SYSTEM, signalementen)


async def _ensure_households(session: AsyncSession) -> None:
    """Fills in the illustrative household figures where a wijk has none (an admin's own figure stays)."""
    for wijk in await session.scalars(select(Wijk).where(Wijk.code.in_(DEMO_HOUSEHOLDS), Wijk.households.is_(None))):
        wijk.households = DEMO_HOUSEHOLDS[wijk.code]


async def _ensure_regions(session: AsyncSession) -> None:
    for code, (name, gemeentecodes) in REGIONS.items():
        region = await session.scalar(select(Region).where(Region.code == code))
        if region is None:
            region = Region(code=code, name=name)
            session.add(region)
            await session.flush()
        for gemeente in await session.scalars(select(Gemeente).where(Gemeente.code.in_(gemeentecodes))):
            gemeente.region_id = region.id


async def _ensure_groups(session: AsyncSession) -> dict[str, Group]:
    wijken = {w.code: w for w in await session.scalars(select(Wijk))}
    groups = {g.name: g for g in await session.scalars(select(Group))}
    for name, wijkcode, members in STUDIED_GROUPS + EXTRA_GROUPS:
        if name not in groups and wijkcode in wijken:
            groups[name] = Group(name=name, wijk_id=wijken[wijkcode].id, member_count=members)
            session.add(groups[name])
    await session.flush()
    return groups


async def _ensure_beheerders(session: AsyncSession, groups: dict[str, Group]) -> list[Beheerder]:
    present = [(name, wijkcode) for name, wijkcode, _ in STUDIED_GROUPS + EXTRA_GROUPS if name in groups]
    result = []
    for person in demo_beheerders(present):
        beheerder = await session.scalar(
            select(Beheerder).where(Beheerder.phone == person.phone).options(selectinload(Beheerder.groups))
        )
        if beheerder is None:
            beheerder = Beheerder(name=person.name, phone=person.phone, channels=["whatsapp", "app"],
                                  email=None, groups=[groups[g] for g in person.groups])
            session.add(beheerder)
        result.append(beheerder)
    await session.flush()
    return result


async def _ensure_wall(session: AsyncSession) -> WallDisplay:
    wall = await session.scalar(select(WallDisplay).where(WallDisplay.name == WALL_NAME))
    if wall is None:
        region = await session.scalar(select(Region).where(Region.code == "AMS"))
        assert region is not None
        wall = WallDisplay(name=WALL_NAME, region_id=region.id)
        session.add(wall)
        await session.flush()
    return wall


async def _ensure_operations(session: AsyncSession) -> None:
    """A DDO day next Saturday evening in Westwijk (gepland) and a probleemaanpak of the wijkagent in
    Middenhoven that runs for four weeks from yesterday (open), each once, by name."""
    today = utcnow().astimezone(AMSTERDAM).date()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    for name, kind, wijkcode, username, (starts, ends), briefing in (
            ("DDO Westwijk", "ddo", "WK036204", "specialist",
             (datetime.combine(saturday, time(17), AMSTERDAM), datetime.combine(saturday, time(23), AMSTERDAM)),
             "Donkere Dagen Offensief: let op mensen die aan deuren en ramen voelen of in tuinen kijken. Bel 112, "
             "spreek niemand aan en maak geen foto's van personen."),
            ("Fietsendiefstal Middenhoven", "probleemaanpak", "WK036205", "wijkagent",
             (datetime.combine(today - timedelta(days=1), time(8), AMSTERDAM),
              datetime.combine(today + timedelta(days=27), time(20), AMSTERDAM)),
             "Er worden veel fietsen gestolen bij het winkelcentrum, vooral tussen 16 en 20 uur: daders knippen "
             "sloten door en laden fietsen in een busje. Meld wat u ziet, ga er niet op af.")):
        if await session.scalar(select(Operation.id).where(Operation.name == name)) is not None:
            continue
        wijken = await resolve_wijken(session, wijkcodes=[wijkcode], gemeentecodes=[], circle=None)
        creator = await session.scalar(select(StaffUser).where(StaffUser.username == username))
        now = utcnow()
        session.add(Operation(
            name=name, kind=kind, status="open" if starts <= now else "gepland", area={"wijkcodes": [wijkcode]},
            wijkcodes=[wijkcode], gemeentecodes=[w.gemeentecode for w in wijken], region_id=wijken[0].region_id,
            starts_at=starts, ends_at=ends, briefing=briefing, created_by_id=creator.id if creator else None,
            created_by_name=username, created_at=now, opened_at=now if starts <= now else None))


def _read_existing(out: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(out.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


async def _still_valid(session: AsyncSession, credentials: dict[str, Any]) -> bool:
    try:
        for username, _, _, _ in STAFF:
            entry = credentials[username]
            user = await session.scalar(select(StaffUser).where(StaffUser.username == entry["username"]))
            if user is None or not verify_password(user.password_hash, entry["password"]):
                return False
        tokens = [credentials["wall_token"], *(b["token"] for b in credentials["beheerders"])]
    except (KeyError, TypeError):
        return False
    for token in tokens:
        record = await session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
        if record is None or record.revoked_at is not None or record.expires_at <= utcnow():
            return False
    return True


async def _fresh_credentials(session: AsyncSession, settings: Settings, beheerders: list[Beheerder],
                             wall: WallDisplay) -> dict[str, Any]:
    credentials: dict[str, Any] = {}
    for username, display_name, role, wijkcodes in STAFF:
        password = generate_password()
        user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
        if user is None:
            user = StaffUser(username=username, display_name=display_name, role=role, wijkcodes=wijkcodes,
                             password_hash="")
            session.add(user)
        user.password_hash = hash_password(password)
        user.failed_logins, user.locked_until = 0, None
        credentials[username] = {"username": username, "password": password}
    credentials["wall_token"] = auth_service.issue_wall_token(session, settings, wall, label="demo").token
    credentials["beheerders"] = []
    for beheerder in beheerders:
        await session.refresh(beheerder, ["groups"])
        token = auth_service.issue_beheerder_token(session, settings, beheerder, label="demo").token
        wijk_ids = {g.wijk_id for g in beheerder.groups}
        wijkcodes = sorted((await session.scalars(select(Wijk.code).where(Wijk.id.in_(wijk_ids)))).all())
        credentials["beheerders"].append({
            "id": beheerder.id, "name": beheerder.name, "phone": beheerder.phone, "token": token,
            "group_ids": sorted(g.id for g in beheerder.groups), "wijkcodes": wijkcodes,
        })
    return credentials
