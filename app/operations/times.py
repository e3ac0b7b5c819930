"""Start and end times: given and shown in Europe/Amsterdam, stored in UTC.

A time without an offset is Dutch wall-clock time. Around the DST changes two wall-clock times are not one
moment: on the last Sunday of March 02:30 does not exist, and on the last Sunday of October 02:30 happens
twice. Both are refused with a question for the offset instead of guessed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from app.core.errors import InvalidInput

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
Clock = Callable[[], datetime]  # aware UTC now; the lifecycle of operations runs on an injectable one


def to_utc(value: datetime, field: str) -> datetime:
    """The moment meant by `value`: its own offset if it has one, else Amsterdam wall-clock time."""
    try:
        return _to_utc(value, field)
    except OverflowError:
        raise InvalidInput("Dit tijdstip ligt buiten het bereik van de kalender.", field=field,
                           code="out_of_range") from None


def _to_utc(value: datetime, field: str) -> datetime:
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    earlier, later = value.replace(tzinfo=AMSTERDAM, fold=0), value.replace(tzinfo=AMSTERDAM, fold=1)
    if earlier.astimezone(UTC).astimezone(AMSTERDAM).replace(tzinfo=None) != value:
        raise InvalidInput(f"{value:%d-%m-%Y %H:%M} bestaat niet in Nederlandse tijd (de klok gaat dan een uur "
                           "vooruit).", field=field, code="nonexistent_time")
    if earlier.utcoffset() != later.utcoffset():
        raise InvalidInput(f"{value:%d-%m-%Y %H:%M} komt twee keer voor (de klok gaat dan een uur terug): geef de "
                           "tijdzone mee, +02:00 voor de eerste keer of +01:00 voor de tweede.", field=field,
                           code="ambiguous_time")
    return earlier.astimezone(UTC)


def local(value: datetime) -> datetime:
    return value.astimezone(AMSTERDAM)


def shown(value: datetime) -> str:
    """For texts to beheerders: "za 24-10 22:00"."""
    days = ("ma", "di", "wo", "do", "vr", "za", "zo")
    moment = local(value)
    return f"{days[moment.weekday()]} {moment:%d-%m %H:%M}"
