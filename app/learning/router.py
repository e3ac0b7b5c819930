"""GET /api/v1/triage/agreement: how often the engine's suggestion is what the operators decided."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from app.core.deps import SessionDep, allow
from app.core.errors import InvalidInput
from app.core.principal import Principal
from app.core.vocabulary import AGREEMENT_READERS, TIMEZONE
from app.learning import service

router = APIRouter(prefix="/triage", tags=["triage"])
_LOCAL = ZoneInfo(TIMEZONE)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=_LOCAL)


@router.get("/agreement", summary="Overeenstemming tussen de triage en de centralisten, per veld en per dag")
async def agreement(
    session: SessionDep,
    start: Annotated[date | None, Query(alias="from", description="eerste dag (JJJJ-MM-DD)")] = None,
    end: Annotated[date | None, Query(alias="to", description="laatste dag, inclusief (JJJJ-MM-DD)")] = None,
    _: Principal = allow(*AGREEMENT_READERS),
) -> dict[str, Any]:
    if start is not None and end is not None and end < start:
        raise InvalidInput("De einddatum ligt vóór de begindatum.", field="to", code="bad_range")
    examples = await service.examples_between(
        session, _day_start(start) if start else None, _day_start(end + timedelta(days=1)) if end else None)
    return {"from": start.isoformat() if start else None, "to": end.isoformat() if end else None,
            **service.agreement(examples)}
