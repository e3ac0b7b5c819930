"""Privacy endpoints: keep an incident, export what the system holds about a phone number, erase a beheerder."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator

from app.core.deps import SessionDep, SettingsDep, allow
from app.core.principal import Principal
from app.core.pseudonym import audit_key
from app.core.schemas import IdPath
from app.core.vocabulary import DECIDERS, QUEUE_READERS
from app.privacy import access, keeping
from app.privacy.erasure import erase_beheerder
from app.privacy.schemas import EraseIn, EraseOut, KeepIn, KeepOut, KeepStatusOut
from app.registry.schemas import normalise_phone

router = APIRouter(tags=["privacy"])


@router.post("/incidents/{incident_id}/keep", response_model=KeepOut,
             summary="Incident bewaren na de gewone bewaartermijn (Wet politiegegevens); wordt gelogd")
async def keep(incident_id: IdPath, body: KeepIn, session: SessionDep, settings: SettingsDep,
               actor: Principal = allow(*DECIDERS)) -> KeepOut:
    hold = await keeping.keep_incident(session, settings, actor, incident_id, body.reason)
    return KeepOut(incident_id=hold.incident_id, reason=hold.reason, marked_at=hold.marked_at,
                   keep_until=hold.keep_until)


@router.get("/incidents/{incident_id}/keep", response_model=KeepStatusOut,
            summary="Of het incident bewaard wordt (Wet politiegegevens), tot wanneer en waarom")
async def keep_status(incident_id: IdPath, session: SessionDep, settings: SettingsDep,
                      _: Principal = allow(*QUEUE_READERS)) -> KeepStatusOut:
    return await keeping.keep_status(session, settings, incident_id)


PhoneQuery = Annotated[str, Query(max_length=32, description="Telefoonnummer (E.164 of 06-...)"),
                       AfterValidator(normalise_phone)]


@router.get("/privacy/subject", response_class=Response,
            summary="Inzageverzoek: alles over één telefoonnummer als zip (JSON en foto's); wordt gelogd",
            responses={200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "Een zip met JSON-bestanden en de foto's"}})
async def subject_access(phone: PhoneQuery, session: SessionDep, settings: SettingsDep,
                         actor: Principal = allow("admin")) -> Response:
    key = audit_key(settings)
    content = await access.export_subject(session, settings.photo_dir, actor, phone, key)
    name = f"inzage-{access.phone_reference(key, phone)}.zip"
    return Response(content, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.post("/privacy/erase", response_model=EraseOut,
             summary="Beheerder wissen op verzoek: naam, nummer en tokens weg, de cijfers blijven; wordt gelogd")
async def erase(body: EraseIn, request: Request, settings: SettingsDep, actor: Principal = allow("admin")) -> EraseOut:
    return await erase_beheerder(request.app.state.sessionmaker, settings, actor, phone=body.phone,
                                 beheerder_id=body.beheerder_id)
