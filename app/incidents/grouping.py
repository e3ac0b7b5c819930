"""Incident grouping: reports of one event (often from several groups) join one incident. Pure functions."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.core.vocabulary import URGENCY
from app.triage.geo import haversine_m

# Reports of one event: received within this many minutes of each other, and this close when both have a point.
GROUPING_MINUTES = 30.0
GROUPING_METRES = 500.0


@dataclass(frozen=True)
class IncidentCandidate:
    id: Hashable
    received_at: datetime
    lat: float | None
    lon: float | None
    wijk: str | None
    category: str
    offence: str | None
    urgency: str


def is_noise(c: IncidentCandidate) -> bool:
    return c.urgency == "none" or c.category == "overig"


def _distance(a: IncidentCandidate, b: IncidentCandidate) -> float | None:
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return None
    return haversine_m(a.lat, a.lon, b.lat, b.lon)


def compatible(a: IncidentCandidate, b: IncidentCandidate) -> bool:
    """Same offence, or one of them names none; never noise; a missing person only joins a missing person."""
    if is_noise(a) or is_noise(b):
        return False
    if (a.category == "vermissing") != (b.category == "vermissing"):
        return False
    return a.offence is None or b.offence is None or a.offence == b.offence


def find_incident(
    report: IncidentCandidate,
    open_incidents: Sequence[IncidentCandidate],
    *,
    max_minutes: float = GROUPING_MINUTES,
    max_metres: float = GROUPING_METRES,
) -> Hashable | None:
    """The id of the open incident this report belongs to, or None.

    Close in time (within `max_minutes`, either way) and in space (within `max_metres` when both have a
    point; otherwise the same wijk), with compatible content. The closest match wins.
    """
    best: tuple[float, float, Hashable] | None = None
    for other in open_incidents:
        if other.id == report.id or not compatible(report, other):
            continue
        minutes = abs((report.received_at - other.received_at).total_seconds()) / 60.0
        if minutes > max_minutes:
            continue
        distance = _distance(report, other)
        if distance is None:
            if report.wijk is None or report.wijk != other.wijk:
                continue
            distance = max_metres  # same wijk, no points: a weaker match than any measured distance
        elif distance > max_metres:
            continue
        key = (distance, minutes, other.id)
        if best is None or key[:2] < best[:2]:
            best = key
    return best[2] if best is not None else None


def highest_urgency(urgencies: Iterable[str]) -> str:
    """P1 > P2 > P3 > none; "none" for an empty list."""
    return min(urgencies, key=URGENCY.rank, default="none")
