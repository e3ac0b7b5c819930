"""The operators' queue, incident actions, and hotspot/signalement management."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.core.database import utcnow
from app.core.deps import SessionDep, allow
from app.core.principal import Principal
from app.core.schemas import IdPath, Offset, Page
from app.triage import queue, service
from app.triage.models import HotspotRecord, SignalementRecord
from app.triage.schemas import (
    HotspotIn,
    HotspotOut,
    HotspotPatch,
    IncidentOut,
    IncidentPatch,
    MergeIn,
    QueueReport,
    ReasonOut,
    SignalementIn,
    SignalementOut,
    SignalementPatch,
    SplitIn,
    Urgency,
)

router = APIRouter(tags=["wachtrij en incidenten"])
knowledge_router = APIRouter(tags=["hotspots en signalementen"])
QUEUE_READERS = ("operator", "specialist", "wijkagent", "analyst")
DECIDERS = ("operator", "specialist")
KNOWLEDGE_EDITORS = ("wijkagent", "analyst")
Limit = Annotated[int, Query(ge=1, le=200)]


async def incident_out(session: SessionDep, incident: queue.Incident) -> IncidentOut:
    view = await queue.incident_view(session, incident)
    reports = [
        QueueReport(
            id=r.id, case_number=r.case_number, received_at=r.received_at, group_id=r.group_id,
            group_name=view.group_names.get(r.group_id, ""), text=r.text, called_112=r.called_112,
            urgency=r.urgency, category=r.category, offence=r.offence, in_progress=r.in_progress,
            appearance_only=r.appearance_only, wijkcode=r.wijk_code, lat=r.point_lat, lon=r.point_lon,
            reasons=[ReasonOut(**reason) for reason in (r.triage or {}).get("reasons", [])], suggestion=r.triage,
            photo_ids=[p.id for p in r.photos if p.status == "stored"], follow_up=r.follow_up, result=r.result,
            status=r.status,
        )
        for r in view.reports
    ]
    i = incident
    return IncidentOut(
        id=i.id, status=i.status, urgency=i.urgency, urgency_override=i.urgency_override,
        override_reason=i.override_reason, overridden=list(i.overridden or []), category=i.category,
        offence=i.offence, wijkcode=i.wijk_code, lat=i.lat, lon=i.lon, first_report_at=i.first_report_at,
        last_report_at=i.last_report_at, report_count=len(reports), group_count=len(view.group_names),
        claimed_by=view.claimed_by, claim_expires_at=i.claim_expires_at if view.claimed_by else None,
        follow_up=i.follow_up, result=i.result, appearance_only=any(r.appearance_only for r in reports),
        reports=reports,
    )


@router.get("/queue", response_model=Page[IncidentOut], summary="Wachtrij: open incidenten, urgentste en oudste eerst")
async def get_queue(session: SessionDep, status: str | None = "open", urgency: Urgency | None = None,
                    wijk: str | None = None, limit: Limit = 50, offset: Offset = 0,
                    principal: Principal = allow(*QUEUE_READERS, "wall")) -> Page[IncidentOut]:
    """A wall sees its own region's P1 and P2 incidents only."""
    is_wall = principal.kind == "wall"
    incidents, total = await queue.list_queue(
        session, status=status or None, urgency=urgency, wijk=wijk, limit=limit, offset=offset,
        region_id=principal.region_id if is_wall else None, urgencies=("P1", "P2") if is_wall else ())
    return Page(items=[await incident_out(session, i) for i in incidents], total=total, limit=limit, offset=offset)


@router.get("/incidents/{incident_id}", response_model=IncidentOut)
async def get_incident(incident_id: IdPath, session: SessionDep, _: Principal = allow(*QUEUE_READERS)) -> IncidentOut:
    return await incident_out(session, await queue.get_incident(session, incident_id))


@router.post("/incidents/{incident_id}/claim", response_model=IncidentOut, summary="Claimen (vervalt vanzelf)")
async def claim(incident_id: IdPath, session: SessionDep, actor: Principal = allow(*DECIDERS)) -> IncidentOut:
    return await incident_out(session, await queue.claim(session, actor, incident_id))


@router.delete("/incidents/{incident_id}/claim", response_model=IncidentOut, summary="Claim loslaten")
async def release(incident_id: IdPath, session: SessionDep, actor: Principal = allow(*DECIDERS)) -> IncidentOut:
    return await incident_out(session, await queue.release(session, actor, incident_id))


@router.patch("/incidents/{incident_id}", response_model=IncidentOut,
              summary="Beoordelen: urgentie, categorie, delict, locatie, opvolging, resultaat, terugkoppeling, sluiten")
async def update(incident_id: IdPath, body: IncidentPatch, session: SessionDep,
                 actor: Principal = allow(*DECIDERS)) -> IncidentOut:
    fields = frozenset(body.model_fields_set - {"reason"}) | ({"wijk_code"} if "wijkcode" in body.model_fields_set
                                                              else frozenset())
    change = queue.IncidentChange(
        urgency=body.urgency, reason=body.reason, category=body.category, offence=body.offence,
        wijk_code=body.wijkcode, lat=body.lat, lon=body.lon, follow_up=body.follow_up, result=body.result,
        note_for_reporter=body.note_for_reporter, close=body.close, fields=fields - {"wijkcode"},
    )
    return await incident_out(session, await queue.update_incident(session, actor, incident_id, change))


@router.post("/incidents/{incident_id}/merge", response_model=IncidentOut, summary="Incidenten samenvoegen")
async def merge(incident_id: IdPath, body: MergeIn, session: SessionDep,
                actor: Principal = allow(*DECIDERS)) -> IncidentOut:
    return await incident_out(session, await queue.merge(session, actor, incident_id, body.incident_ids))


@router.post("/incidents/{incident_id}/split", response_model=IncidentOut, status_code=201,
             summary="Meldingen afsplitsen naar een nieuw incident")
async def split(incident_id: IdPath, body: SplitIn, session: SessionDep,
                actor: Principal = allow(*DECIDERS)) -> IncidentOut:
    return await incident_out(session, await queue.split(session, actor, incident_id, body.report_ids))


# ---- hotspots and signalementen ------------------------------------------------------------------


def _invalidate(request: Request) -> None:
    request.app.state.triage_runner.invalidate()


@knowledge_router.get("/hotspots", response_model=list[HotspotOut])
async def list_hotspots(session: SessionDep, active: bool = False,
                        _: Principal = allow(*KNOWLEDGE_EDITORS, "operator", "specialist", "wall")) -> list[HotspotOut]:
    rows = await service.list_hotspots(session, active_on=utcnow().date() if active else None)
    return [HotspotOut.model_validate(r) for r in rows]


@knowledge_router.post("/hotspots", response_model=HotspotOut, status_code=201)
async def create_hotspot(body: HotspotIn, request: Request, session: SessionDep,
                         actor: Principal = allow(*KNOWLEDGE_EDITORS)) -> HotspotOut:
    values = body.model_dump()
    values["wijk_code"] = values.pop("wijkcode")
    record = await service.create_hotspot(session, actor, values)
    _invalidate(request)
    return HotspotOut.model_validate(record)


@knowledge_router.patch("/hotspots/{code}", response_model=HotspotOut)
async def update_hotspot(code: str, body: HotspotPatch, request: Request, session: SessionDep,
                         actor: Principal = allow(*KNOWLEDGE_EDITORS)) -> HotspotOut:
    record = await service.update_hotspot(session, actor, code, body.model_dump(exclude_unset=True))
    _invalidate(request)
    return HotspotOut.model_validate(record)


@knowledge_router.delete("/hotspots/{code}", status_code=204)
async def delete_hotspot(code: str, request: Request, session: SessionDep,
                         actor: Principal = allow(*KNOWLEDGE_EDITORS)) -> Response:
    await service.delete_knowledge(session, actor, HotspotRecord, code)
    _invalidate(request)
    return Response(status_code=204)


@knowledge_router.get("/signalementen", response_model=list[SignalementOut])
async def list_signalementen(session: SessionDep, active: bool = False,
                             _: Principal = allow(*KNOWLEDGE_EDITORS, *DECIDERS)) -> list[SignalementOut]:
    rows = await service.list_signalementen(session, active_at=utcnow() if active else None)
    return [SignalementOut.model_validate(r) for r in rows]


@knowledge_router.post("/signalementen", response_model=SignalementOut, status_code=201)
async def create_signalement(body: SignalementIn, request: Request, session: SessionDep,
                             actor: Principal = allow(*KNOWLEDGE_EDITORS)) -> SignalementOut:
    record = await service.create_signalement(session, actor, body.model_dump())
    _invalidate(request)
    return SignalementOut.model_validate(record)


@knowledge_router.patch("/signalementen/{code}", response_model=SignalementOut)
async def update_signalement(code: str, body: SignalementPatch, request: Request, session: SessionDep,
                             actor: Principal = allow(*KNOWLEDGE_EDITORS)) -> SignalementOut:
    record = await service.update_signalement(session, actor, code, body.model_dump(exclude_unset=True))
    _invalidate(request)
    return SignalementOut.model_validate(record)


@knowledge_router.delete("/signalementen/{code}", status_code=204)
async def delete_signalement(code: str, request: Request, session: SessionDep,
                             actor: Principal = allow(*KNOWLEDGE_EDITORS)) -> Response:
    await service.delete_knowledge(session, actor, SignalementRecord, code)
    _invalidate(request)
    return Response(status_code=204)
