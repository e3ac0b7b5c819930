"""The quick heterdaad or vermissing from an incident: an operator or specialist opens it at once for the
wijken within a radius of the incident, with the incident's description as the briefing (edited in the
console's dialog), links the incident and invites the beheerders of the area in the same call.

A description that names only looks or origin is refused outright, not just warned about (domain.md,
sec. 4.3.1: such a message made a group fall apart); the other privacy warnings can be confirmed as usual."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.broadcast.privacy import MESSAGES, check_text
from app.broadcast.schemas import CircleIn, TargetIn
from app.core.errors import InvalidInput, NotFound, ProblemError
from app.core.principal import Principal
from app.core.settings import Settings
from app.core.vocabulary import OPERATION_KIND
from app.incidents.models import Incident
from app.operations import service
from app.operations.schemas import OperationIn, QuickIn, QuickOut
from app.operations.times import local


class AppearanceOnly(ProblemError):
    def __init__(self) -> None:
        super().__init__(422, "Alleen uiterlijk of afkomst",
                         f"{MESSAGES['uiterlijk']} Pas de tekst aan; zo gaat hij niet naar de beheerders.",
                         field="briefing", code="appearance_only")


def _area(incident: Incident, radius_m: int) -> TargetIn:
    if incident.lat is not None and incident.lon is not None:
        return TargetIn(circle=CircleIn(lat=incident.lat, lon=incident.lon, radius_m=radius_m))
    if incident.wijk_code is not None:
        return TargetIn(wijkcodes=[incident.wijk_code])
    raise InvalidInput("Dit incident heeft geen plaats en geen wijk: maak de actie aan in het actieformulier.",
                       field="radius_m", code="no_location")


def _briefing(incident: Incident, body: QuickIn) -> str:
    text = body.briefing or incident.summary
    if not text:
        raise InvalidInput("Het incident heeft geen beschrijving: vul de tekst in.", field="briefing",
                           code="briefing_required")
    if any(warning.code == "uiterlijk" for warning in check_text(text)):
        raise AppearanceOnly()
    return text


async def open_from_incident(session: AsyncSession, actor: Principal, incident_id: int, body: QuickIn,
                             now: datetime, settings: Settings) -> QuickOut:
    """Creates the operation (open from now), links the incident, and invites the area's beheerders."""
    incident = await session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("Dit incident")
    operation = OperationIn(
        name=f"{OPERATION_KIND.label(body.kind)} bij incident {incident.id}", kind=body.kind,
        area=_area(incident, body.radius_m), starts_at=local(now),
        ends_at=local(now + timedelta(minutes=body.minutes)), briefing=_briefing(incident, body),
        incident_ids=[incident.id], confirm_warnings=body.confirm_warnings)
    created = await service.create_operation(session, actor, operation, now, settings)
    invited = await service.invite(session, actor, created.id, settings)
    opened = await service.get_operation(session, created.id)
    return QuickOut(id=created.id, status=created.status, wijkcodes=list(opened.wijkcodes), invited=invited.invited,
                    warnings=created.warnings)
