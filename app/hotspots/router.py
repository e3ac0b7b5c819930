"""Hotspots and wanted signalementen: read by operators, kept by wijkagenten and analysts (a wall or a beheerder
sees the hotspots of its own region on `GET /api/v1/map`)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.core.database import utcnow
from app.core.deps import SessionDep, allow
from app.core.principal import Principal
from app.core.vocabulary import DECIDERS, KNOWLEDGE_EDITORS
from app.hotspots import service
from app.hotspots.models import HotspotRecord, SignalementRecord
from app.hotspots.schemas import (
    HotspotIn,
    HotspotOut,
    HotspotPatch,
    SignalementIn,
    SignalementOut,
    SignalementPatch,
)
from app.triage.deps import KnowledgeBaseDep
from app.triage.vocabulary import check_offences

router = APIRouter(tags=["hotspots en signalementen"])


def _invalidate(request: Request) -> None:
    request.app.state.triage_runner.invalidate()


@router.get("/hotspots", response_model=list[HotspotOut])
async def list_hotspots(session: SessionDep, active: bool = False,
                        _: Principal = allow(*KNOWLEDGE_EDITORS, "operator", "specialist")) -> list[HotspotOut]:
    rows = await service.list_hotspots(session, active_on=utcnow().date() if active else None)
    return [HotspotOut.model_validate(r) for r in rows]


@router.post("/hotspots", response_model=HotspotOut, status_code=201)
async def create_hotspot(body: HotspotIn, request: Request, session: SessionDep, kb: KnowledgeBaseDep,
                         actor: Principal = allow(*KNOWLEDGE_EDITORS)) -> HotspotOut:
    check_offences(kb.lexicon, list(body.offences), "offences")
    values = body.model_dump()
    values["wijk_code"] = values.pop("wijkcode")
    record = await service.create_hotspot(session, actor, values)
    _invalidate(request)
    return HotspotOut.model_validate(record)


@router.patch("/hotspots/{code}", response_model=HotspotOut)
async def update_hotspot(code: str, body: HotspotPatch, request: Request, session: SessionDep, kb: KnowledgeBaseDep,
                         actor: Principal = allow(*KNOWLEDGE_EDITORS)) -> HotspotOut:
    check_offences(kb.lexicon, list(body.offences or []), "offences")
    record = await service.update_hotspot(session, actor, code, body.model_dump(exclude_unset=True))
    _invalidate(request)
    return HotspotOut.model_validate(record)


@router.delete("/hotspots/{code}", status_code=204)
async def delete_hotspot(code: str, request: Request, session: SessionDep,
                         actor: Principal = allow(*KNOWLEDGE_EDITORS)) -> Response:
    await service.delete_knowledge(session, actor, HotspotRecord, code)
    _invalidate(request)
    return Response(status_code=204)


@router.get("/signalementen", response_model=list[SignalementOut])
async def list_signalementen(session: SessionDep, active: bool = False,
                             _: Principal = allow(*KNOWLEDGE_EDITORS, *DECIDERS)) -> list[SignalementOut]:
    rows = await service.list_signalementen(session, active_at=utcnow() if active else None)
    return [SignalementOut.model_validate(r) for r in rows]


@router.post("/signalementen", response_model=SignalementOut, status_code=201)
async def create_signalement(body: SignalementIn, request: Request, session: SessionDep, kb: KnowledgeBaseDep,
                             actor: Principal = allow(*KNOWLEDGE_EDITORS)) -> SignalementOut:
    check_offences(kb.lexicon, [body.offence], "offence")
    record = await service.create_signalement(session, actor, body.model_dump())
    _invalidate(request)
    return SignalementOut.model_validate(record)


@router.patch("/signalementen/{code}", response_model=SignalementOut)
async def update_signalement(code: str, body: SignalementPatch, request: Request, session: SessionDep,
                             actor: Principal = allow(*KNOWLEDGE_EDITORS)) -> SignalementOut:
    record = await service.update_signalement(session, actor, code, body.model_dump(exclude_unset=True))
    _invalidate(request)
    return SignalementOut.model_validate(record)


@router.delete("/signalementen/{code}", status_code=204)
async def delete_signalement(code: str, request: Request, session: SessionDep,
                             actor: Principal = allow(*KNOWLEDGE_EDITORS)) -> Response:
    await service.delete_knowledge(session, actor, SignalementRecord, code)
    _invalidate(request)
    return Response(status_code=204)
