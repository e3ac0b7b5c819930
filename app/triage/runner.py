"""Runs the pure engine for new reports: builds the knowledge base from the database (and the lexicon
file), keeps it cached, and rebuilds it when any of its sources changes, without a restart."""

from __future__ import annotations

import time
from collections.abc import Hashable
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core.settings import config_dir
from app.hotspots.models import HotspotRecord, SignalementRecord
from app.intake.models import Report
from app.registry.models import Street as StreetRecord
from app.registry.models import Wijk as WijkRecord
from app.triage.engine import ReportFacts, TriageResult
from app.triage.knowledge import (
    Hotspot,
    KnowledgeBase,
    KnowledgeBaseCache,
    Signalement,
    Wijk,
    build_knowledge_base,
    load_lexicon,
)
from app.triage.location import Street

FINGERPRINT_CHECK_SECONDS = 2.0


async def _fingerprint(session: AsyncSession) -> Hashable:
    """Changes whenever a wijk, street, hotspot, signalement or the lexicon file changes."""
    rows: list[Any] = []
    for model in (WijkRecord, StreetRecord):
        rows.append(tuple((await session.execute(select(func.count(), func.max(model.id)))).one()))
    for knowledge in (HotspotRecord, SignalementRecord):
        rows.append(tuple((await session.execute(
            select(func.count(), func.max(knowledge.updated_at), func.max(knowledge.id)))).one()))
    lexicon = config_dir() / "triage.yaml"
    rows.append(lexicon.stat().st_mtime_ns if lexicon.exists() else 0)
    return tuple(str(item) for item in rows)


async def load_knowledge_base(session: AsyncSession) -> KnowledgeBase:
    wijken = (await session.scalars(select(WijkRecord).options(selectinload(WijkRecord.gemeente)))).all()
    streets = (await session.execute(select(StreetRecord.name, WijkRecord.code, StreetRecord.lat, StreetRecord.lon)
                                     .join(WijkRecord, StreetRecord.wijk_id == WijkRecord.id))).all()
    hotspots = (await session.scalars(select(HotspotRecord))).all()
    signalementen = (await session.scalars(select(SignalementRecord))).all()
    return build_knowledge_base(
        wijken=[Wijk(code=w.code, name=w.name, gemeentecode=w.gemeente.code, gemeentenaam=w.gemeente.name,
                     polygon=shape(w.geometry)) for w in wijken if w.geometry],
        streets=[Street(name=name, wijkcode=code, lat=lat, lon=lon) for name, code, lat, lon in streets],
        hotspots=[Hotspot(id=h.code, name=h.name, wijkcode=h.wijk_code, lat=h.lat, lon=h.lon, radius_m=h.radius_m,
                          offences=tuple(h.offences), hot_times=tuple(h.hot_times), note=h.note,
                          valid_until=h.valid_until, valid_from=h.valid_from) for h in hotspots],
        signalementen=[Signalement(id=s.code, issued_at=s.issued_at, valid_until=s.valid_until,
                                   wijkcodes=tuple(s.wijkcodes), offence=s.offence, description=s.description,
                                   keywords=tuple(s.keywords)) for s in signalementen],
        lexicon=load_lexicon(config_dir() / "triage.yaml"),
    )


class TriageRunner:
    """The knowledge base the intake triages with. One per process; checks the sources at most every few
    seconds."""

    def __init__(self) -> None:
        self._cache: KnowledgeBaseCache | None = None
        self._fingerprint: Hashable = None
        self._checked_at = 0.0

    def invalidate(self) -> None:
        self._checked_at = 0.0

    async def knowledge_base(self, session: AsyncSession) -> KnowledgeBase:
        now = time.monotonic()
        if self._cache is None or now - self._checked_at >= FINGERPRINT_CHECK_SECONDS:
            self._fingerprint = await _fingerprint(session)
            self._checked_at = now
            if self._cache is None or self._cache.fingerprint != self._fingerprint:
                kb = await load_knowledge_base(session)
                self._cache = KnowledgeBaseCache(lambda: kb)
                self._cache.get(self._fingerprint)
        return self._cache.get(self._fingerprint)


def facts_for(report: Report) -> ReportFacts:
    received = report.received_at or datetime.now(UTC)
    return ReportFacts(text=report.text, received_at=received, source_wijk=report.source_wijk_code,
                       lat=report.lat, lon=report.lon, street=report.street, house_number=report.house_number,
                       place=report.place)


def suggestion_json(result: TriageResult) -> dict[str, Any]:
    location = result.location
    return {
        "labels": result.labels(),
        "reasons": [reason.as_dict() for reason in result.reasons],
        "hotspot_ids": list(result.hotspot_ids),
        "signalement_ids": list(result.signalement_ids),
        "location": {"wijk": location.wijk, "lat": location.lat, "lon": location.lon, "method": location.method,
                     "confidence": location.confidence, "street": location.street},
    }


def apply_suggestion(report: Report, result: TriageResult) -> None:
    report.triage = suggestion_json(result)
    report.urgency, report.category, report.offence = result.urgency, result.category, result.offence
    report.in_progress, report.appearance_only = result.in_progress, result.appearance_only
    report.wijk_code = result.wijk
    report.point_lat, report.point_lon = result.location.lat, result.location.lon
    if report.called_112 is None and result.called_112:
        report.called_112 = True
    advice = list(result.advice)
    if report.called_112 and "Gebeurt het nu? Bel 112." in advice:
        advice.remove("Gebeurt het nu? Bel 112.")
    report.advice = advice
