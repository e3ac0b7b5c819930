"""Alerts (broadcasts) for the meldkamer and the wijkagent; the beheerder's alerts and "doorgestuurd"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.broadcast import service
from app.broadcast.privacy import check_text
from app.broadcast.schemas import (
    AlertOut,
    BroadcastDetail,
    BroadcastIn,
    BroadcastOut,
    PreviewOut,
    PrivacyCheckIn,
    PrivacyCheckOut,
    WarningOut,
)
from app.core.deps import SessionDep, SettingsDep, allow
from app.core.principal import Principal
from app.core.schemas import IdPath, Offset, Page
from app.core.vocabulary import ALERT_SENDERS

router = APIRouter(prefix="/broadcasts", tags=["alarmering"])
alerts_router = APIRouter(prefix="/alerts", tags=["beheerder"])
Limit = Annotated[int, Query(ge=1, le=200)]


@router.post("/preview", response_model=PreviewOut,
             summary="Ontvangers per kanaal en privacywaarschuwingen, zonder te versturen")
async def preview(body: BroadcastIn, session: SessionDep, settings: SettingsDep,
                  principal: Principal = allow(*ALERT_SENDERS)) -> PreviewOut:
    return await service.preview(session, principal, body, settings)


@router.post("/privacy-check", response_model=PrivacyCheckOut,
             summary="Privacywaarschuwingen voor een tekst in wording (namen, huisnummers, ...), zonder ontvangers")
async def privacy_check(body: PrivacyCheckIn, _: Principal = allow(*ALERT_SENDERS)) -> PrivacyCheckOut:
    """What the preview would warn about, for the text alone: the console asks while the alert is typed."""
    return PrivacyCheckOut(warnings=[WarningOut(code=w.code, message=w.message, matches=list(w.matches))
                                     for w in check_text(body.text)])


@router.post("", response_model=BroadcastOut, status_code=201, summary="Alarm versturen naar de beheerders",
             responses={403: {"description": "Rol mag deze soort of dit gebied niet"},
                        422: {"description": "Ongeldig, of privacywaarschuwingen niet bevestigd"}})
async def send(body: BroadcastIn, request: Request, session: SessionDep, settings: SettingsDep,
               principal: Principal = allow(*ALERT_SENDERS)) -> BroadcastOut:
    broadcast = await service.create_broadcast(session, principal, body, settings)
    worker = getattr(request.app.state, "delivery_worker", None)
    if worker is not None:
        worker.wake()
    (out,) = await service.broadcasts_out(session, [broadcast])
    return out


@router.get("", response_model=Page[BroadcastOut], summary="Verstuurde alarmen met voortgang")
async def list_broadcasts(session: SessionDep, limit: Limit = 50, offset: Offset = 0,
                          principal: Principal = allow(*ALERT_SENDERS, "admin")) -> Page[BroadcastOut]:
    items, total = await service.list_broadcasts(session, principal, limit=limit, offset=offset)
    return Page(items=items, total=total, limit=limit, offset=offset)


# ":int" so that /broadcasts/preview is not taken for an id (a GET there is 405, not 422).
@router.get("/{broadcast_id:int}", response_model=BroadcastDetail,
            summary="Eén alarm met voortgang; de meldkamer ziet ook mislukte afleveringen")
async def get_broadcast(broadcast_id: IdPath, session: SessionDep,
                        principal: Principal = allow(*ALERT_SENDERS, "admin")) -> BroadcastDetail:
    return await service.get_broadcast(session, principal, broadcast_id)


@alerts_router.get("", response_model=Page[AlertOut], summary="Mijn ontvangen alarmen")
async def my_alerts(session: SessionDep, limit: Limit = 50, offset: Offset = 0,
                    principal: Principal = allow("beheerder")) -> Page[AlertOut]:
    items, total = await service.list_alerts(session, principal.id, limit=limit, offset=offset)
    return Page(items=items, total=total, limit=limit, offset=offset)


@alerts_router.post("/{delivery_id}/forwarded", response_model=AlertOut,
                    summary="Alarm doorgestuurd naar mijn groep(en)")
async def forwarded(delivery_id: IdPath, session: SessionDep, settings: SettingsDep,
                    principal: Principal = allow("beheerder")) -> AlertOut:
    return await service.mark_alert_forwarded(session, principal.id, delivery_id, settings)
