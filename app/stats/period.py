"""The evaluation's period: Europe/Amsterdam days, cut into months and weeks that SQL can group by.

SQLite knows no time zones, so a row's month is not computed from its timestamp in the database. The period
is cut in Python into buckets whose bounds are UTC instants (Amsterdam midnights, DST included), and a query
groups by `bucket_index`: a CASE over those bounds that both engines evaluate alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, literal

from app.core.errors import ProblemError
from app.core.vocabulary import TIMEZONE

AMSTERDAM = ZoneInfo(TIMEZONE)
MAX_DAYS = 366  # one (leap) year: a longer evaluation is two requests
DEFAULT_DAYS = 30
AVERAGE_MONTH_DAYS = 365.25 / 12
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)  # beyond these the calendar arithmetic could overflow


def local_midnight(day: date) -> datetime:
    """The UTC instant at which this Amsterdam day begins."""
    return datetime.combine(day, time(0), tzinfo=AMSTERDAM).astimezone(UTC)


def today() -> date:
    return datetime.now(AMSTERDAM).date()


@dataclass(frozen=True)
class Bucket:
    label: str  # "2026-03" for a month, "2026-W11" for an ISO week
    first_day: date
    last_day: date  # inclusive, clipped to the period

    @property
    def start(self) -> datetime:
        return local_midnight(self.first_day)


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date  # inclusive

    @property
    def start(self) -> datetime:
        return local_midnight(self.first_day)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day."""
        return local_midnight(self.last_day + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def month_equivalents(self) -> float:
        """The period's length in average months: table 3.5 divides by it."""
        return self.days / AVERAGE_MONTH_DAYS

    def months(self) -> list[Bucket]:
        buckets, day = [], self.first_day
        while day <= self.last_day:
            next_month = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            buckets.append(Bucket(f"{day:%Y-%m}", day, min(self.last_day, next_month - timedelta(days=1))))
            day = next_month
        return buckets

    def weeks(self) -> list[Bucket]:
        """ISO weeks (Monday to Sunday), the first and last clipped to the period."""
        buckets, day = [], self.first_day
        while day <= self.last_day:
            sunday = day + timedelta(days=6 - day.weekday())
            year, week, _ = day.isocalendar()
            buckets.append(Bucket(f"{year}-W{week:02d}", day, min(self.last_day, sunday)))
            day = sunday + timedelta(days=1)
        return buckets

    def as_json(self) -> dict[str, Any]:
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat(), "days": self.days,
                "months": [b.label for b in self.months()], "timezone": TIMEZONE}


DayRange = tuple[date, date]  # first and last day, inclusive


@dataclass(frozen=True)
class Cover:
    """How a period is read from counts kept per day and per month (which add up): the whole months from the
    month rows, plus the days of a partial month from the day rows; or, when a month lies mostly in the period,
    its month row minus the days outside the period. A year from the 5th reads 4 + 4 day rows instead of 27 + 4."""

    months: list[date]  # first days of the months read from the month rows
    plus: list[DayRange]  # days added from the day rows
    minus: list[DayRange]  # days of a month read whole that lie outside the period: subtracted


def _month_end(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1)


def cover(period: Period) -> Cover:
    months: list[date] = []
    plus: list[DayRange] = []
    minus: list[DayRange] = []
    for bucket in period.months():
        first, last = bucket.first_day.replace(day=1), _month_end(bucket.first_day)
        outside = [(first, bucket.first_day - timedelta(days=1))] if bucket.first_day > first else []
        outside += [(bucket.last_day + timedelta(days=1), last)] if bucket.last_day < last else []
        outside_days = sum((end - start).days + 1 for start, end in outside)
        if outside_days < (bucket.last_day - bucket.first_day).days + 1:
            months.append(first)
            minus += outside
        else:
            plus.append((bucket.first_day, bucket.last_day))
    return Cover(months, plus, minus)


def bucket_index(column: Any, buckets: list[Bucket]) -> Any:
    """0 for a time in the first bucket, 1 in the second, ...: for rows already limited to the period."""
    if len(buckets) == 1:
        return literal(0)
    whens = [(column >= bucket.start, index) for index, bucket in reversed(list(enumerate(buckets))) if index]
    return case(*whens, else_=0)


def day_bucket_index(column: Any, buckets: list[Bucket]) -> Any:
    """bucket_index for a column of Amsterdam days."""
    if len(buckets) == 1:
        return literal(0)
    whens = [(column >= bucket.first_day, index) for index, bucket in reversed(list(enumerate(buckets))) if index]
    return case(*whens, else_=0)


def period_of(first: date | None, last: date | None) -> Period:
    """The requested period, or the last DEFAULT_DAYS days up to today; refused when it is back to front or
    longer than MAX_DAYS."""
    for name, day in (("from", first), ("to", last)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise ProblemError(422, "Ongeldige periode", f"De datum {day} ligt buiten {EARLIEST.year}-{LATEST.year}.",
                               field=name, code="date_out_of_range")
    last = last or (min(LATEST, first + timedelta(days=DEFAULT_DAYS - 1)) if first else today())
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise ProblemError(422, "Ongeldige periode", f"De einddatum ({last}) ligt vóór de begindatum ({first}).",
                           field="to", code="bad_range")
    period = Period(first, last)
    if period.days > MAX_DAYS:
        raise ProblemError(422, "Periode te lang", f"Een periode mag hoogstens {MAX_DAYS} dagen beslaan; deze beslaat "
                           f"{period.days} dagen. Vraag de cijfers per jaar op.", field="from", code="range_too_long")
    return period
