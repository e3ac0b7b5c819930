"""Figures for the wall, the console and analysts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from app.core.deps import SessionDep, allow
from app.core.principal import Principal
from app.core.schemas import MAX_DB_INT, IdQuery
from app.core.vocabulary import STAFF
from app.stats import service
from app.stats.evaluation import evaluation
from app.stats.export import to_csv
from app.stats.period import period_of
from app.stats.scope import AreaFilter, areas, resolve_scope
from app.stats.wijkmap import wijk_map
from app.triage.deps import KnowledgeBaseDep
from app.triage.vocabulary import offence_vocabulary

router = APIRouter(prefix="/stats", tags=["cijfers"])

EVALUATION_READERS = ("analyst", "specialist", "admin", "wijkagent")  # a wijkagent: only the own wijken
SEPARATORS = {"comma": ",", "semicolon": ";", ",": ",", ";": ";"}
Code = Annotated[str | None, Query(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


class Overview(BaseModel):
    open_p1: int
    open_p2: int
    open_p3: int
    reports_today: int


@router.get("/overview", response_model=Overview, summary="Tellers: open incidenten per urgentie, meldingen vandaag")
async def overview(session: SessionDep, principal: Principal = allow(*STAFF, "wall")) -> Overview:
    region = principal.region_id if principal.kind == "wall" else None
    return Overview(**await service.overview(session, region))


class Areas(BaseModel):
    regions: list[dict[str, Any]]
    gemeenten: list[dict[str, Any]]
    wijken: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    operations: list[dict[str, Any]]


@router.get("/areas", response_model=Areas, summary="Waarop de evaluatie kan filteren: regio's, gemeenten, wijken, "
                                                    "groepen en acties (een wijkagent: de eigen wijken)")
async def filter_areas(session: SessionDep, principal: Principal = allow(*EVALUATION_READERS)) -> Areas:
    return Areas(**await areas(session, principal))


class EvaluationOut(BaseModel):
    """The evaluation; every section is described in `definitions` (Dutch)."""

    period: dict[str, Any]
    filters: dict[str, Any]
    labels: dict[str, list[dict[str, str]]]
    definitions: dict[str, str]
    reports_by_category: dict[str, Any] = Field(description="Tabel 3.1: per groep per maand, per wijk, per gemeente")
    follow_up: dict[str, Any] = Field(description="Tabel 3.4: doorgegeven, opvolging, resultaten")
    per_month: dict[str, Any] = Field(description="Tabel 3.5: meldingen per maand per groep")
    per_week: list[dict[str, Any]]
    times: dict[str, Any]
    alerts: dict[str, Any]
    appearance_only: dict[str, Any]


@router.get("", response_model=None, summary="Evaluatie: meldingen, opvolging, tijden, alarmen (JSON of CSV)",
            responses={200: {"model": EvaluationOut, "content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "De cijfers als JSON, of met format=csv als CSV (UTF-8 met BOM)"}})
async def evaluation_figures(
    session: SessionDep,
    kb: KnowledgeBaseDep,
    first: Annotated[date | None, Query(alias="from", description="eerste dag (JJJJ-MM-DD, Amsterdamse tijd)")] = None,
    last: Annotated[date | None, Query(alias="to", description="laatste dag, inclusief (JJJJ-MM-DD)")] = None,
    region: Code = None,
    gemeente: Code = None,
    wijk: Code = None,
    group: IdQuery = None,
    operation: Annotated[int | None, Query(ge=1, le=MAX_DB_INT, description="alleen deze actie: de meldingen met "
                                           "haar label en haar berichten aan beheerders")] = None,
    output: Annotated[Literal["json", "csv"], Query(alias="format", description="json (standaard) of csv")] = "json",
    sep: Annotated[Literal["comma", "semicolon", ",", ";"],
                   Query(description="scheidingsteken van de CSV; semicolon geeft ook decimale komma's")] = "comma",
    principal: Principal = allow(*EVALUATION_READERS),
) -> Response:
    area = AreaFilter(region=region, gemeente=gemeente, wijk=wijk, group=group, operation=operation)
    scope = await resolve_scope(session, principal, period_of(first, last), area)
    data = await evaluation(session, scope, offence_vocabulary(kb.lexicon))
    if output == "csv":
        name = f"meldkamer-cijfers-{scope.period.first_day}-{scope.period.last_day}.csv"
        return Response(to_csv(data, SEPARATORS[sep]).encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return JSONResponse(data)


class WijkMapOut(BaseModel):
    crs: str = Field(description="De coördinaten van de paden: RD New in hele meters, y omgekeerd (SVG)")
    gemeenten: list[dict[str, Any]] = Field(description="Per gemeente: view_box [x, y, breedte, hoogte] en de wijken "
                                                        "(wijkcode, wijk, households, path: SVG-paddata)")


@router.get("/map", response_model=WijkMapOut,
            summary="Vereenvoudigde wijkgrenzen voor de kaart van de evaluatie, met het aantal huishoudens")
async def evaluation_map(session: SessionDep, region: Code = None, gemeente: Code = None, wijk: Code = None,
                         group: IdQuery = None, principal: Principal = allow(*EVALUATION_READERS)) -> WijkMapOut:
    area = AreaFilter(region=region, gemeente=gemeente, wijk=wijk, group=group)
    scope = await resolve_scope(session, principal, period_of(None, None), area)
    return WijkMapOut(**await wijk_map(session, scope))
