"""Operations: the police create, invite, message and close them; beheerders join and leave."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.deps import SessionDep, SettingsDep, allow
from app.core.openapi import problems
from app.core.principal import Principal
from app.core.schemas import IdPath, Offset, Page
from app.core.vocabulary import DECIDERS, OPERATION_READERS, OPERATION_RUNNERS, OperationKind, OperationStatus
from app.events.projection import WallOperation
from app.operations import participation, public, quick, report, service
from app.operations.models import Operation
from app.operations.schemas import (
    CloseIn,
    DayReportOut,
    InvitedOut,
    OperationCreated,
    OperationDetail,
    OperationIn,
    OperationOut,
    OperationPatch,
    ParticipantCounts,
    ParticipantOut,
    ParticipationOut,
    PreviewIn,
    PreviewOut,
    PublicCounts,
    QuickIn,
    QuickOut,
    SentOut,
    TextIn,
)
from app.operations.times import Clock, local

router = APIRouter(prefix="/operations", tags=["acties"])
incident_router = APIRouter(prefix="/incidents", tags=["acties"])
Limit = Annotated[int, Query(ge=1, le=200)]


async def _now(request: Request) -> datetime:
    clock: Clock = request.app.state.operations_clock
    return clock()


Now = Annotated[datetime, Depends(_now)]


def _wake_delivery(request: Request) -> None:
    worker = getattr(request.app.state, "delivery_worker", None)
    if worker is not None:
        worker.wake()


def _local(value: datetime | None) -> datetime | None:
    return local(value) if value is not None else None


async def _outs(session: AsyncSession, operations: list[Operation]) -> list[OperationOut]:
    ids = [o.id for o in operations]
    counts = await service.count_participants(session, ids)
    public_counts = await public.counts(session, ids)
    incidents = await service.incident_ids(session, ids)
    return [OperationOut(
        id=o.id, name=o.name, kind=o.kind, status=o.status, keyword=o.keyword, area=o.area,
        wijkcodes=o.wijkcodes, gemeentecodes=o.gemeentecodes, starts_at=local(o.starts_at), ends_at=local(o.ends_at),
        briefing=o.briefing, incident_ids=incidents[o.id], created_by=o.created_by_name, created_at=local(o.created_at),
        opened_at=_local(o.opened_at), closed_at=_local(o.closed_at), closed_by=o.closed_by_name,
        participants=ParticipantCounts.of(counts[o.id]), public_participants=PublicCounts.of(public_counts[o.id]))
        for o in operations]


@router.post("", response_model=OperationCreated, status_code=201, summary="Actie aanmaken",
             responses=problems(403, 409, 422))
async def create(body: OperationIn, session: SessionDep, settings: SettingsDep, now: Now,
                 actor: Principal = allow(*OPERATION_RUNNERS)) -> OperationCreated:
    return await service.create_operation(session, actor, body, now, settings)


@router.post("/preview", response_model=PreviewOut, responses=problems(403, 422),
             summary="Voorbeeld van een gebied: wijken, aantal beheerders, overlappende acties (maakt niets aan)")
async def preview(body: PreviewIn, session: SessionDep, settings: SettingsDep,
                  _: Principal = allow(*OPERATION_RUNNERS)) -> PreviewOut:
    return await service.preview(session, body, settings)


@router.get("", response_model=Page[OperationOut], summary="Acties: gepland, open en gesloten")
async def list_operations(session: SessionDep, status: OperationStatus | None = None, kind: OperationKind | None = None,
                          limit: Limit = 50, offset: Offset = 0,
                          _: Principal = allow(*OPERATION_READERS)) -> Page[OperationOut]:
    operations, total = await service.list_operations(session, status=status, kind=kind, limit=limit, offset=offset)
    return Page(items=await _outs(session, operations), total=total, limit=limit, offset=offset)


@router.get("/invitations", response_model=list[ParticipationOut],
            summary="Mijn acties: uitnodigingen en acties in mijn wijken")
async def my_operations(session: SessionDep, principal: Principal = allow("beheerder")) -> list[ParticipationOut]:
    return await participation.my_operations(session, principal.id)


@router.get("/running", response_model=list[WallOperation],
            summary="Videowall: de open acties in de eigen regio (voor de banner \"Actie: <naam>\")")
async def running(session: SessionDep, principal: Principal = allow("wall")) -> list[WallOperation]:
    """The wall's snapshot of its banner; the events operation.opened and operation.closed keep it current."""
    return [WallOperation(operation_id=o.id, name=o.name, kind=o.kind, status=o.status,
                          ends_at=local(o.ends_at).isoformat())
            for o in await service.running_in_region(session, principal.region_id)]


# ":int" so that /operations/invitations is not taken for an id.
@router.get("/{operation_id:int}", response_model=OperationDetail, responses=problems(404),
            summary="Eén actie met wie is uitgenodigd, meedoet, heeft afgeslagen of nog niet antwoordde")
async def get_operation(operation_id: IdPath, session: SessionDep,
                        _: Principal = allow(*OPERATION_READERS)) -> OperationDetail:
    operation = await service.get_operation(session, operation_id)
    (out,) = await _outs(session, [operation])
    participants = [ParticipantOut(**row) for row in await service.participant_rows(session, operation_id)]
    return OperationDetail(**out.model_dump(), participant_list=participants)


@router.patch("/{operation_id:int}", response_model=OperationCreated, responses=problems(403, 404, 409, 422),
              summary="Een geplande actie wijzigen (alleen zolang ze gepland is)")
async def update(operation_id: IdPath, body: OperationPatch, session: SessionDep, settings: SettingsDep, now: Now,
                 actor: Principal = allow(*OPERATION_RUNNERS)) -> OperationCreated:
    return await service.update_operation(session, actor, operation_id, body, now, settings)


@router.post("/{operation_id:int}/invite", response_model=InvitedOut, responses=problems(403, 404, 409, 422),
             summary="De beheerders van het gebied uitnodigen (ieder één keer)")
async def invite(operation_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep,
                 actor: Principal = allow(*OPERATION_RUNNERS)) -> InvitedOut:
    out = await service.invite(session, actor, operation_id, settings)
    _wake_delivery(request)
    return out


@router.post("/{operation_id:int}/messages", response_model=SentOut, status_code=201,
             responses=problems(403, 404, 409, 422), summary="Bericht aan de deelnemers (alleen wie meedoet)")
async def message(operation_id: IdPath, body: TextIn, request: Request, session: SessionDep, settings: SettingsDep,
                  actor: Principal = allow(*OPERATION_RUNNERS)) -> SentOut:
    out = await service.send_message(session, actor, operation_id, body, settings)
    _wake_delivery(request)
    return out


@router.post("/{operation_id:int}/close", response_model=OperationOut, responses=problems(403, 404, 409, 422),
             summary="Actie sluiten; de deelnemers krijgen het slotbericht")
async def close(operation_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep, now: Now,
                body: CloseIn | None = None, actor: Principal = allow(*OPERATION_RUNNERS)) -> OperationOut:
    operation = await service.close(session, actor, operation_id, body or CloseIn(), now, settings)
    _wake_delivery(request)
    (out,) = await _outs(session, [operation])
    return out


@router.get("/{operation_id:int}/report", response_model=DayReportOut, summary="Dagrapport (JSON of CSV)",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "JSON, of met format=csv een CSV-bestand"}, **problems(404)})
async def day_report(operation_id: IdPath, session: SessionDep, format: Literal["json", "csv"] = "json",
                     _: Principal = allow(*OPERATION_READERS)) -> DayReportOut | Response:
    out = await report.day_report(session, await service.get_operation(session, operation_id))
    if format == "json":
        return out
    return Response(report.as_csv(out), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="actie-{operation_id}-dagrapport.csv"'})


@router.post("/{operation_id:int}/join", response_model=ParticipationOut, responses=problems(403, 404, 409),
             summary="Meedoen aan een actie in mijn wijk")
async def join(operation_id: IdPath, session: SessionDep, now: Now,
               principal: Principal = allow("beheerder")) -> ParticipationOut:
    return await participation.answer_in_portal(session, principal, operation_id, "join", now)


@router.post("/{operation_id:int}/leave", response_model=ParticipationOut, responses=problems(403, 404, 409),
             summary="Niet (meer) meedoen")
async def leave(operation_id: IdPath, session: SessionDep, now: Now,
                principal: Principal = allow("beheerder")) -> ParticipationOut:
    return await participation.answer_in_portal(session, principal, operation_id, "leave", now)


@incident_router.post("/{incident_id}/operation", response_model=QuickOut, status_code=201,
                      responses=problems(403, 404, 409, 422),
                      summary="Snelle heterdaad of vermissing vanuit een incident: openen en de beheerders uitnodigen")
async def open_from_incident(incident_id: IdPath, body: QuickIn, request: Request, session: SessionDep,
                             settings: SettingsDep, now: Now,
                             actor: Principal = allow(*DECIDERS)) -> QuickOut:
    out = await quick.open_from_incident(session, actor, incident_id, body, now, settings)
    _wake_delivery(request)
    return out
