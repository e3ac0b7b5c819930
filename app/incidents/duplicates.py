"""Merge suggestions: open incidents that are probably the same event as this one, reported by other groups.

The automatic grouping (app.incidents.grouping) joins reports within 30 minutes and 500 m with compatible
offences; what it leaves apart (a second group that names a different offence, a point a little further
away, a report an hour later) an operator can merge. The database finds the few open incidents near in place
and time; rapidfuzz compares their texts with this one's, and the closer and more alike, the higher the score."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from rapidfuzz import fuzz, utils
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.incidents.brief import briefs
from app.incidents.models import Incident
from app.incidents.schemas import DuplicateOut
from app.intake.models import Report
from app.triage.geo import haversine_m

WINDOW = timedelta(hours=2)
MAX_METRES = 1500.0
MIN_SCORE = 0.6
MIN_TEXT_SIMILARITY = 0.6  # texts about different events in one street share about half their words
MAX_SUGGESTIONS = 5
CANDIDATE_ROWS = 50
TEXTS_PER_INCIDENT = 10
_METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class Closeness:
    distance_m: float | None  # None: no two points to measure, the same wijk
    minutes_apart: float
    text_similarity: float

    @property
    def score(self) -> float:
        place = 0.6 if self.distance_m is None else max(0.0, 1 - self.distance_m / MAX_METRES)
        time = max(0.0, 1 - self.minutes_apart / (WINDOW.total_seconds() / 60))
        return round(0.5 * self.text_similarity + 0.25 * place + 0.25 * time, 3)


def _near(incident: Incident) -> ColumnElement[bool] | None:
    """Same wijk, or within MAX_METRES (a box; the real distance is measured afterwards)."""
    places: list[ColumnElement[bool]] = []
    if incident.wijk_code:
        places.append(Incident.wijk_code == incident.wijk_code)
    if incident.lat is not None and incident.lon is not None:
        dlat = MAX_METRES / _METRES_PER_DEGREE
        dlon = dlat / max(0.1, math.cos(math.radians(incident.lat)))
        places.append(and_(Incident.lat.between(incident.lat - dlat, incident.lat + dlat),
                           Incident.lon.between(incident.lon - dlon, incident.lon + dlon)))
    return or_(*places) if places else None


async def _candidates(session: AsyncSession, incident: Incident) -> list[Incident]:
    near = _near(incident)
    if near is None or incident.status != "open":
        return []
    region = (Incident.region_id == incident.region_id if incident.region_id is not None
              else Incident.region_id.is_(None))
    rows = await session.scalars(
        select(Incident).where(Incident.status == "open", Incident.id != incident.id, region, near,
                               Incident.last_report_at >= incident.first_report_at - WINDOW,
                               Incident.first_report_at <= incident.last_report_at + WINDOW,
                               Incident.appearance_only.is_(False))
        .order_by(Incident.last_report_at.desc(), Incident.id.desc()).limit(CANDIDATE_ROWS))
    own_groups = set(incident.group_ids or [])
    return [c for c in rows if set(c.group_ids or []) - own_groups
            and (c.category == "vermissing") == (incident.category == "vermissing")]


async def _texts(session: AsyncSession, incident_ids: Sequence[int]) -> dict[int, list[str]]:
    rows = await session.execute(select(Report.incident_id, Report.text).where(Report.incident_id.in_(incident_ids))
                                 .order_by(Report.received_at, Report.id)
                                 .limit(len(incident_ids) * TEXTS_PER_INCIDENT))
    texts: dict[int, list[str]] = {}
    for incident_id, text in rows.tuples():
        if incident_id is not None and len(texts.setdefault(incident_id, [])) < TEXTS_PER_INCIDENT:
            texts[incident_id].append(text)
    return texts


def text_similarity(ours: Sequence[str], theirs: Sequence[str]) -> float:
    """The best match between any report of one and any of the other, 0..1 (word order and repeats ignored)."""
    best = max((fuzz.token_set_ratio(a, b, processor=utils.default_process) for a in ours for b in theirs),
               default=0.0)
    return round(best / 100, 3)


def closeness(incident: Incident, other: Incident, texts: dict[int, list[str]]) -> Closeness:
    distance = None
    if None not in (incident.lat, incident.lon, other.lat, other.lon):
        distance = haversine_m(incident.lat or 0, incident.lon or 0, other.lat or 0, other.lon or 0)
    gap = max(other.first_report_at - incident.last_report_at, incident.first_report_at - other.last_report_at,
              timedelta(0))
    return Closeness(distance_m=None if distance is None else round(distance),
                     minutes_apart=round(gap.total_seconds() / 60, 1),
                     text_similarity=text_similarity(texts.get(incident.id, []), texts.get(other.id, [])))


def reasons(incident: Incident, other: Incident, near: Closeness) -> list[str]:
    """Why it is suggested, in the words the console shows."""
    said = ["zelfde wijk" if near.distance_m is None else f"{near.distance_m:.0f} m van elkaar",
            "gelijktijdig" if near.minutes_apart < 1 else f"{near.minutes_apart:.0f} min na elkaar",
            f"tekst {near.text_similarity:.0%} gelijk"]
    others = len(set(other.group_ids or []) - set(incident.group_ids or []))
    said.append(f"uit {others} andere {'groep' if others == 1 else 'groepen'}")
    if incident.offence and other.offence and incident.offence != other.offence:
        said.append("ander delict")
    return said


async def suggest_duplicates(session: AsyncSession, incident: Incident) -> list[DuplicateOut]:
    """At most MAX_SUGGESTIONS open incidents, the likeliest first, that score at least MIN_SCORE and whose texts
    are alike."""
    candidates = await _candidates(session, incident)
    if not candidates:
        return []
    texts = await _texts(session, [incident.id, *(c.id for c in candidates)])
    scored = [(closeness(incident, c, texts), c) for c in candidates]
    likely = sorted(((near, c) for near, c in scored if near.score >= MIN_SCORE
                     and near.text_similarity >= MIN_TEXT_SIMILARITY
                     and (near.distance_m is None or near.distance_m <= MAX_METRES)),
                    key=lambda pair: (-pair[0].score, pair[1].id))[:MAX_SUGGESTIONS]
    rows = await briefs(session, [c for _, c in likely])
    return [DuplicateOut(incident=row, score=near.score, distance_m=near.distance_m, minutes_apart=near.minutes_apart,
                         text_similarity=near.text_similarity, reasons=reasons(incident, c, near))
            for row, (near, c) in zip(rows, likely, strict=True)]
