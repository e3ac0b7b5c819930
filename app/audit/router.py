"""Admins read the audit log; nobody can change it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from app.audit import service
from app.core.deps import SessionDep, allow
from app.core.principal import Principal
from app.core.schemas import MAX_DB_INT, IdQuery, IsoDateTime

router = APIRouter(prefix="/admin/audit", tags=["audit"])


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor_type: str
    actor_id: int | None
    actor_name: str | None
    action: str
    target_type: str | None
    target_id: str | None
    source_ip: str | None
    detail: dict[str, Any] = Field(description="Persoonlijke velden (vrije tekst, coördinaten) staan erin tot de "
                                               "bewaartermijn voorbij is, daarna 'verwijderd na bewaartermijn'")


@router.get("", response_model=list[AuditEntryOut], summary="Auditlog (nieuwste eerst)")
async def list_audit(
    session: SessionDep,
    action: str | None = None,
    actor_type: str | None = None,
    actor_id: IdQuery = None,
    since: IsoDateTime | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_DB_INT,
                                           description="Voor de volgende pagina: kleinste id van de vorige")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    _: Principal = allow("admin"),
) -> list[AuditEntryOut]:
    entries = await service.list_entries(session, action=action, actor_type=actor_type, actor_id=actor_id,
                                         since=since, before_id=before_id, limit=limit)
    details = await service.full_details(session, entries)
    return [AuditEntryOut.model_validate(e).model_copy(update={"detail": details[e.id]}) for e in entries]
