"""The operators' queue and incident actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from app.core.database import utcnow
from app.core.deps import SessionDep, SettingsDep, allow
from app.core.principal import Principal
from app.core.schemas import IdPath, IdQuery, Offset, Page
from app.core.vocabulary import DECIDERS, QUEUE_READERS, WALL_URGENCIES, Urgency
from app.events.projection import WallCard, wall_card
from app.incidents import queue, service, undo
from app.incidents.duplicates import suggest_duplicates
from app.incidents.models import Incident
from app.incidents.schemas import (
    DuplicateOut,
    GroupChoice,
    IncidentOut,
    IncidentPatch,
    MergeIn,
    QueueReport,
    ReasonOut,
    SearchHit,
    SplitIn,
    TimelineOut,
)
from app.incidents.search import SearchFilters, search_incidents
from app.incidents.timeline import timeline
from app.intake.models import Report
from app.triage.deps import KnowledgeBaseDep
from app.triage.vocabulary import check_offences, offence_vocabulary

router = APIRouter(tags=["wachtrij en incidenten"])
Limit = Annotated[int, Query(ge=1, le=200)]


async def incident_out(session: SessionDep, incident: Incident) -> IncidentOut:
    return view_out(await service.incident_view(session, incident))


def view_out(view: service.IncidentView) -> IncidentOut:
    reports = [
        QueueReport(
            id=r.id, case_number=r.case_number, received_at=r.received_at, group_id=r.group_id,
            group_name=_group_name(view, r),
            group_pending=r.group_pending, group_choices=_choices(view, r), text=r.text, called_112=r.called_112,
            urgency=r.urgency, category=r.category, offence=r.offence, in_progress=r.in_progress,
            appearance_only=r.appearance_only, wijkcode=r.wijk_code, lat=r.point_lat, lon=r.point_lon,
            reasons=[ReasonOut(**reason) for reason in (r.triage or {}).get("reasons", [])], suggestion=r.triage,
            photo_ids=[p.id for p in r.photos if p.status == "stored"],
            photos_failed=sum(p.status == "failed" for p in r.photos), follow_up=r.follow_up, result=r.result,
            status=r.status,
        )
        for r in view.reports
    ]
    i = view.incident
    expires = i.claim_expires_at if view.claimed_by else None
    return IncidentOut(
        id=i.id, status=i.status, urgency=i.urgency, urgency_override=i.urgency_override,
        override_reason=i.override_reason, overridden=list(i.overridden or []), category=i.category,
        offence=i.offence, wijkcode=i.wijk_code, lat=i.lat, lon=i.lon, first_report_at=i.first_report_at,
        last_report_at=i.last_report_at, report_count=len(reports), group_count=view.group_count,
        claimed_by=view.claimed_by, claim_expires_at=expires,
        claim_seconds_left=max(0, int((expires - utcnow()).total_seconds())) if expires else None,
        follow_up=i.follow_up, result=i.result, appearance_only=any(r.appearance_only for r in reports),
        lead_reason=ReasonOut(**i.lead_reason) if i.lead_reason else None, reports=reports,
    )


def _group_name(view: service.IncidentView, report: Report) -> str:
    if report.group_id is not None:
        return view.group_names.get(report.group_id, "")
    if report.beheerder_id is None:  # a member of the public who joined an operation by its keyword
        return f"publiek (actie #{report.operation_id})"
    return ""


def _choices(view: service.IncidentView, report: Report) -> list[GroupChoice]:
    if not report.group_pending:
        return []
    return [GroupChoice(id=group_id, name=view.group_names.get(group_id, ""))
            for group_id in report.group_choices or []]


@router.get("/queue", response_model=Page[IncidentOut], summary="Wachtrij: open incidenten, urgentste en oudste eerst")
async def get_queue(session: SessionDep, status: str | None = "open", urgency: Urgency | None = None,
                    wijk: str | None = None, limit: Limit = 50, offset: Offset = 0,
                    operation: IdQuery = None,
                    _: Principal = allow(*QUEUE_READERS)) -> Page[IncidentOut]:
    """`total` is exact up to 10,000 incidents (or the end of the page asked for); beyond that `total_capped` is
    true and `total` says "at least this many" (the closed history of a year)."""
    page = await queue.list_queue(session, status=status or None, urgency=urgency, wijk=wijk, limit=limit,
                                  offset=offset, operation_id=operation)
    views = await service.incident_views(session, page.incidents)
    return Page(items=[view_out(view) for view in views], total=page.total, total_capped=page.capped, limit=limit,
                offset=offset)


@router.get("/wall/cards", response_model=Page[WallCard],
            summary="Videowall: de open P1- en P2-incidenten van de eigen regio als kaarten")
async def get_wall_cards(session: SessionDep, limit: Limit = 200, offset: Offset = 0,
                         principal: Principal = allow("wall")) -> Page[WallCard]:
    """The wall's snapshot: the same cards, with the same fields, as its event stream carries."""
    page = await queue.list_queue(
        session, status="open", urgency=None, wijk=None, limit=limit, offset=offset, region_id=principal.region_id,
        urgencies=WALL_URGENCIES)
    cards = [wall_card(await service.incident_event(session, incident)) for incident in page.incidents]
    return Page(items=cards, total=page.total, total_capped=page.capped, limit=limit, offset=offset)
@router.get("/incidents/search", response_model=Page[SearchHit],
            summary="Zoeken in alle meldingen, terugkoppelingen en redenen van incidenten")
async def search(session: SessionDep,
                 q: Annotated[str | None, Query(max_length=200, description="woorden die alle voorkomen")] = None,
                 status: Annotated[str | None, Query(max_length=16)] = "open", urgency: Urgency | None = None,
                 wijk: Annotated[str | None, Query(max_length=16)] = None, limit: Limit = 50, offset: Offset = 0,
                 _: Principal = allow(*QUEUE_READERS)) -> Page[SearchHit]:
    """Every word must occur in a report, a case number, feedback to a reporter or an operator's reason of the
    incident. The most recent incidents first; each with the texts that matched."""
    filters = SearchFilters(status=status or None, urgency=urgency, wijk=wijk or None)
    hits, total = await search_incidents(session, q or "", filters, limit=limit, offset=offset)
    return Page(items=hits, total=total, limit=limit, offset=offset)


@router.get("/incidents/{incident_id}", response_model=IncidentOut)
async def get_incident(incident_id: IdPath, session: SessionDep, _: Principal = allow(*QUEUE_READERS)) -> IncidentOut:
    return await incident_out(session, await service.get_incident(session, incident_id))


@router.post("/incidents/{incident_id}/claim", response_model=IncidentOut, summary="Claimen (vervalt vanzelf)")
async def claim(incident_id: IdPath, session: SessionDep, settings: SettingsDep,
                actor: Principal = allow(*DECIDERS)) -> IncidentOut:
    """Claiming an incident one holds already extends the claim."""
    ttl = timedelta(seconds=settings.claim_seconds)
    return await incident_out(session, await service.claim(session, actor, incident_id, ttl))


@router.delete("/incidents/{incident_id}/claim", response_model=IncidentOut, summary="Claim loslaten")
async def release(incident_id: IdPath, session: SessionDep, actor: Principal = allow(*DECIDERS)) -> IncidentOut:
    return await incident_out(session, await service.release(session, actor, incident_id))


@router.patch("/incidents/{incident_id}", response_model=IncidentOut,
              summary="Beoordelen: urgentie, categorie, delict, locatie, opvolging, resultaat, terugkoppeling, sluiten")
async def update(incident_id: IdPath, body: IncidentPatch, session: SessionDep, kb: KnowledgeBaseDep,
                 actor: Principal = allow(*DECIDERS)) -> IncidentOut:
    check_offences(kb.lexicon, [body.offence], "offence")
    fields = frozenset(body.model_fields_set - {"reason"}) | ({"wijk_code"} if "wijkcode" in body.model_fields_set
                                                              else frozenset())
    change = service.IncidentChange(
        urgency=body.urgency, reason=body.reason, category=body.category, offence=body.offence,
        wijk_code=body.wijkcode, lat=body.lat, lon=body.lon, follow_up=body.follow_up, result=body.result,
        note_for_reporter=body.note_for_reporter, close=body.close, fields=fields - {"wijkcode"},
    )
    return await incident_out(session, await service.update_incident(session, actor, incident_id, change))


@router.post("/incidents/{incident_id}/merge", response_model=IncidentOut, summary="Incidenten samenvoegen")
async def merge(incident_id: IdPath, body: MergeIn, session: SessionDep,
                actor: Principal = allow(*DECIDERS)) -> IncidentOut:
    return await incident_out(session, await undo.merge(session, actor, incident_id, body.incident_ids))


@router.post("/incidents/{incident_id}/merge/undo", response_model=IncidentOut,
             summary="Samenvoegen ongedaan maken (tot een minuut erna)")
async def undo_merge(incident_id: IdPath, session: SessionDep, actor: Principal = allow(*DECIDERS)) -> IncidentOut:
    """The incidents merged into this one are apart again, exactly as before the merge."""
    target, _ = await undo.undo_merge(session, actor, incident_id)
    return await incident_out(session, target)


@router.post("/incidents/{incident_id}/split", response_model=IncidentOut, status_code=201,
             summary="Meldingen afsplitsen naar een nieuw incident")
async def split(incident_id: IdPath, body: SplitIn, session: SessionDep,
                actor: Principal = allow(*DECIDERS)) -> IncidentOut:
    return await incident_out(session, await service.split(session, actor, incident_id, body.report_ids))


@router.get("/incidents/{incident_id}/timeline", response_model=TimelineOut,
            summary="Tijdlijn: meldingen, voorstellen, besluiten, terugkoppeling, alarmen, samenvoegen en afsplitsen")
async def get_timeline(incident_id: IdPath, session: SessionDep, kb: KnowledgeBaseDep,
                       _: Principal = allow(*QUEUE_READERS)) -> TimelineOut:
    incident = await service.get_incident(session, incident_id)
    offences = offence_vocabulary(kb.lexicon)
    entries, total = await timeline(session, incident, offences.label)
    return TimelineOut(incident_id=incident.id, entries=entries, total=total)


@router.get("/incidents/{incident_id}/duplicates", response_model=list[DuplicateOut],
            summary="Mogelijk dezelfde gebeurtenis: open incidenten dichtbij in plaats en tijd, uit andere groepen")
async def get_duplicates(incident_id: IdPath, session: SessionDep,
                         _: Principal = allow(*QUEUE_READERS)) -> list[DuplicateOut]:
    return await suggest_duplicates(session, await service.get_incident(session, incident_id))
