"""Distances and hot-time windows (Europe/Amsterdam, DST-correct via zoneinfo)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
EARTH_RADIUS_M = 6_371_008.8

_DAYS = {
    "mo": 0, "mon": 0, "ma": 0, "tu": 1, "tue": 1, "di": 1, "we": 2, "wed": 2, "wo": 2,
    "th": 3, "thu": 3, "do": 3, "fr": 4, "fri": 4, "vr": 4, "sa": 5, "sat": 5, "za": 5,
    "su": 6, "sun": 6, "zo": 6,
}
DAY_NAMES_NL = ("ma", "di", "wo", "do", "vr", "za", "zo")
_WINDOW = re.compile(
    r"\s*(?:(?P<days>[A-Za-z]{2,3}(?:\s*[-,]\s*[A-Za-z]{2,3})*)\s+)?"
    r"(?P<sh>\d{1,2}):(?P<sm>\d{2})\s*-\s*(?P<eh>\d{1,2}):(?P<em>\d{2})\s*"
)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class HotWindow:
    """A hot-time window: minutes of the day, optional weekdays (0 = Monday) on which it STARTS."""

    label: str
    start: int
    end: int
    days: frozenset[int] | None = None

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def contains(self, when: datetime) -> bool:
        """Is the aware datetime `when` inside this window, evaluated in Europe/Amsterdam?

        A window that crosses midnight belongs to the day it started: "Sa 22:00-04:00" holds on
        Saturday from 22:00 and on Sunday until 04:00.
        """
        local = when.astimezone(AMSTERDAM)
        minute = local.hour * 60 + local.minute
        weekday = local.weekday()
        if not self.crosses_midnight:
            return self.start <= minute < self.end and (self.days is None or weekday in self.days)
        if minute >= self.start:
            return self.days is None or weekday in self.days
        if minute < self.end:
            return self.days is None or (weekday - 1) % 7 in self.days
        return False


def _parse_days(spec: str) -> frozenset[int]:
    days: set[int] = set()
    for part in re.split(r"\s*,\s*", spec.strip().lower()):
        if "-" in part:
            first, last = (p.strip() for p in part.split("-", 1))
            a, b = _DAYS[first], _DAYS[last]
            day = a
            while True:
                days.add(day)
                if day == b:
                    break
                day = (day + 1) % 7
        else:
            days.add(_DAYS[part])
    return frozenset(days)


def parse_hot_time(spec: str) -> HotWindow:
    """Parse "HH:MM-HH:MM" with an optional weekday prefix ("Sa 20:00-02:00", "Mo-Fr 08:00-18:00")."""
    m = _WINDOW.fullmatch(spec)
    if m is None:
        raise ValueError(f"cannot read hot time {spec!r}")
    try:
        days = _parse_days(m.group("days")) if m.group("days") else None
    except KeyError as exc:
        raise ValueError(f"unknown weekday in hot time {spec!r}") from exc
    start = int(m.group("sh")) * 60 + int(m.group("sm"))
    end = int(m.group("eh")) * 60 + int(m.group("em"))
    if not (0 <= start < 24 * 60 and 0 <= end <= 24 * 60):
        raise ValueError(f"hot time out of range: {spec!r}")
    return HotWindow(spec.strip(), start, end, days)


def matching_window(windows: Iterable[HotWindow], when: datetime) -> HotWindow | None:
    for window in windows:
        if window.contains(when):
            return window
    return None


def local_time_label(when: datetime) -> str:
    local = when.astimezone(AMSTERDAM)
    return f"{DAY_NAMES_NL[local.weekday()]} {local:%H:%M}"


def to_utc_minutes(later: datetime, earlier: datetime) -> float:
    """Minutes between two aware datetimes, computed in UTC (correct across DST changes)."""
    return (later.astimezone(AMSTERDAM).timestamp() - earlier.astimezone(AMSTERDAM).timestamp()) / 60.0


def minus_minutes(when: datetime, minutes: float) -> datetime:
    return (when.astimezone(AMSTERDAM) - timedelta(minutes=minutes)).astimezone(AMSTERDAM)
