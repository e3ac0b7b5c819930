"""Builders: just the rows a test needs, made through the app's own services, with defaults a test overrides.

Each builder opens its own session on the test app and commits, so what it made is there for the API. Wijken
come from the CBS sample in config/geo/wijken.geojson (their real shapes); build a wijk before the region
that should cover its gemeente. Nothing here seeds the demo registry: a test that needs the six studied
groups, the streets or the hotspots uses the `demo` fixture."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from fastapi import FastAPI
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.auth import service as auth_service
from app.broadcast.models import Broadcast, Delivery
from app.core.principal import SYSTEM
from app.core.settings import Settings, config_dir
from app.demo import REGIONS
from app.incidents.models import Incident
from app.intake.models import Report, ReportFeedback
from app.registry import imports
from app.registry import service as registry
from app.registry.models import Beheerder, Gemeente, Group, Wijk, beheerder_groups
from app.registry.schemas import BeheerderIn, Channel, GroupIn, GroupOut
from app.stats.models import AlertFactChange, FactChange

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


# ---- a scripted history for the evaluation (tests/stats) ---------------------------------------------------


@dataclass(frozen=True)
class ScriptedReport:
    """One report as the evaluation should count it, with what happened to it afterwards (None: never)."""

    group_id: int
    beheerder_id: int
    wijkcode: str
    received_at: datetime
    category: str
    offence: str | None = None
    urgency: str = "P3"  # the engine's suggestion
    called_112: bool = False
    appearance_only: bool = False
    operator: dict[str, str] = field(default_factory=dict)  # labels an operator set on the incident
    follow_up: str | None = None
    result: str | None = None
    first_action_after: timedelta | None = None
    follow_up_after: timedelta | None = None
    feedback_delivered_after: timedelta | None = None


@dataclass(frozen=True)
class ScriptedDelivery:
    beheerder_id: int
    delivered_after: timedelta | None = None
    read_after: timedelta | None = None
    forwarded_after: timedelta | None = None
    failed: bool = False
    superseded: bool = False  # failed, and a fallback channel took over


@dataclass(frozen=True)
class ScriptedAlert:
    created_at: datetime
    wijkcodes: tuple[str, ...]
    deliveries: tuple[ScriptedDelivery, ...]


async def scripted_history(app: FastAPI, reports: Sequence[ScriptedReport], alerts: Sequence[ScriptedAlert] = (),
                           *, operator_id: int | None = None) -> None:
    """Writes the script's rows as they would be after the intake, the operators and the delivery workers did
    their work: an incident per report, audit entries, terugkoppeling and deliveries at the scripted times.
    The figures a test expects are computed from the same script, never read back."""
    async with _session(app) as session:
        for number, script in enumerate(reports):
            await _scripted_report(session, script, number, operator_id)
        for script_alert in alerts:
            await _scripted_alert(session, script_alert)
        await session.commit()


async def _scripted_report(session: AsyncSession, script: ScriptedReport, number: int,
                           operator_id: int | None) -> None:
    operator = script.operator
    incident = Incident(
        region_id=None, status="closed", urgency=operator.get("urgency", script.urgency),
        urgency_override=operator.get("urgency"), category=operator.get("category", script.category),
        offence=operator.get("offence", script.offence), wijk_code=script.wijkcode, report_count=1,
        group_ids=[script.group_id], summary="", overridden=sorted(operator), appearance_only=script.appearance_only,
        first_report_at=script.received_at, last_report_at=script.received_at, follow_up=script.follow_up,
        result=script.result, unrecognised=False)
    session.add(incident)
    await session.flush()
    report = Report(
        case_number=f"MK-T-{next(_numbers)}", beheerder_id=script.beheerder_id, group_id=script.group_id,
        source_wijk_code=script.wijkcode, channel="api", request_hash=f"{number:064d}", text="melding",
        text_original="melding", received_at=script.received_at, called_112=script.called_112 or None,
        forwarded=False, status="afgehandeld", advice=[], urgency=script.urgency, category=script.category,
        offence=script.offence, appearance_only=script.appearance_only, wijk_code=script.wijkcode,
        incident_id=incident.id, follow_up=script.follow_up, result=script.result)
    session.add(report)
    await session.flush()
    session.add(FactChange(report_id=report.id))
    if script.first_action_after is not None:
        session.add(AuditEntry(at=script.received_at + script.first_action_after, actor_type="staff",
                               actor_id=operator_id, action="incident.claim", target_type="incident",
                               target_id=str(incident.id), detail={}))
        # a later action does not make the first one later; a system action is no operator's
        session.add(AuditEntry(at=script.received_at + script.first_action_after + timedelta(minutes=5),
                               actor_type="staff", actor_id=operator_id, action="incident.update",
                               target_type="incident", target_id=str(incident.id), detail={}))
    session.add(AuditEntry(at=script.received_at, actor_type="system", action="incident.claim_expired",
                           target_type="incident", target_id=str(incident.id), detail={}))
    if script.follow_up_after is not None:
        session.add(ReportFeedback(report_id=report.id, at=script.received_at + script.follow_up_after,
                                   kind="follow_up", text="opvolging"))
    if script.feedback_delivered_after is not None:
        at = script.received_at + script.feedback_delivered_after
        session.add(Delivery(purpose="feedback", report_id=report.id, beheerder_id=script.beheerder_id,
                             channel="app", status="delivered", sent_at=at, delivered_at=at, created_at=at))


async def _scripted_alert(session: AsyncSession, script: ScriptedAlert) -> None:
    broadcast = Broadcast(kind="heterdaad", text="alarm", message="alarm", target={"wijkcodes": list(script.wijkcodes)},
                          wijkcodes=list(script.wijkcodes), gemeentecodes=[], created_by_name="test",
                          created_at=script.created_at, recipient_count=len(script.deliveries))
    session.add(broadcast)
    await session.flush()
    for delivery in script.deliveries:
        def at(after: timedelta | None) -> datetime | None:
            return None if after is None else script.created_at + after

        status = "failed" if delivery.failed else "read" if delivery.read_after else \
            "delivered" if delivery.delivered_after else "sent"
        session.add(Delivery(purpose="alert", broadcast_id=broadcast.id, beheerder_id=delivery.beheerder_id,
                             channel="email" if delivery.superseded else "whatsapp", status=status,
                             superseded=delivery.superseded, created_at=script.created_at,
                             delivered_at=at(delivery.delivered_after), read_at=at(delivery.read_after),
                             forwarded_at=at(delivery.forwarded_after), failed_at=script.created_at if delivery.failed
                             else None))
    session.add(AlertFactChange(broadcast_id=broadcast.id))


async def large_registry(app: FastAPI, *, wijken: int, beheerders: int, gemeente: str = "GM9990") -> None:
    """A registry larger than the demo, in bulk (no shapes, no tokens): one gemeente "Grootstad" with `wijken`
    wijken "Grootstad-wijk n" (WK9990nnnn), one group each, and `beheerders` beheerders "Beheerder n van
    Grootstad" (+3169nnnnnnn) spread over those groups."""
    async with _session(app) as session:
        gemeente_id = (await session.execute(insert(Gemeente).values(code=gemeente, name="Grootstad")
                                             .returning(Gemeente.id))).scalar_one()
        await session.execute(insert(Wijk), [{"code": f"WK{gemeente[2:]}{n:04d}", "name": f"Grootstad-wijk {n}",
                                              "gemeente_id": gemeente_id} for n in range(1, wijken + 1)])
        wijk_ids = list(await session.scalars(select(Wijk.id).where(Wijk.gemeente_id == gemeente_id)
                                              .order_by(Wijk.id)))
        await session.execute(insert(Group), [{"name": f"Buurtgroep {n}", "wijk_id": wijk_id, "member_count": 40}
                                              for n, wijk_id in enumerate(wijk_ids, 1)])
        group_ids = list(await session.scalars(select(Group.id).where(Group.wijk_id.in_(wijk_ids))
                                               .order_by(Group.id)))
        await session.execute(insert(Beheerder), [
            {"name": f"Beheerder {n} van Grootstad", "phone": f"+3169{n:07d}", "channels": ["whatsapp"]}
            for n in range(1, beheerders + 1)])
        beheerder_ids = list(await session.scalars(select(Beheerder.id).where(Beheerder.phone.like("+3169%"))
                                                   .order_by(Beheerder.id)))
        await session.execute(insert(beheerder_groups), [
            {"beheerder_id": beheerder_id, "group_id": group_ids[n % len(group_ids)]}
            for n, beheerder_id in enumerate(beheerder_ids)])
        await session.commit()
