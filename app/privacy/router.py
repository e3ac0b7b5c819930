"""Privacy endpoints: keep an incident, export what the system holds about a phone number, erase a beheerder."""

from __future__ import annotations

from fastapi import APIRouter

from app.core.deps import SessionDep, SettingsDep, allow
from app.core.principal import Principal
from app.core.schemas import IdPath
from app.core.vocabulary import DECIDERS
from app.privacy import keeping
from app.privacy.schemas import KeepIn, KeepOut

router = APIRouter(tags=["privacy"])


@router.post("/incidents/{incident_id}/keep", response_model=KeepOut,
             summary="Incident bewaren na de gewone bewaartermijn (Wet politiegegevens); wordt gelogd")
async def keep(incident_id: IdPath, body: KeepIn, session: SessionDep, settings: SettingsDep,
               actor: Principal = allow(*DECIDERS)) -> KeepOut:
    hold = await keeping.keep_incident(session, settings, actor, incident_id, body.reason)
    return KeepOut(incident_id=hold.incident_id, reason=hold.reason, marked_at=hold.marked_at,
                   keep_until=hold.keep_until)
