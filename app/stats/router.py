"""Figures for the wall, the console and analysts."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.core.deps import SessionDep, allow
from app.core.principal import Principal
from app.core.vocabulary import STAFF
from app.stats import service

router = APIRouter(prefix="/stats", tags=["cijfers"])


class Overview(BaseModel):
    open_p1: int
    open_p2: int
    open_p3: int
    reports_today: int


@router.get("/overview", response_model=Overview, summary="Tellers: open incidenten per urgentie, meldingen vandaag")
async def overview(session: SessionDep, principal: Principal = allow(*STAFF, "wall")) -> Overview:
    region = principal.region_id if principal.kind == "wall" else None
    return Overview(**await service.overview(session, region))
