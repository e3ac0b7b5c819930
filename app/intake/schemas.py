from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from app.core.database import utcnow
from app.core.schemas import EntityId, IsoDateTime
from app.core.settings import config_dir

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CLOCK_SKEW = timedelta(minutes=2)
OLDEST_OBSERVATION = timedelta(days=366)  # a report is about something recent; year 1 is a typing error
_KEEP_CONTROLS = {"\n", "\t"}
TEXT_MAX_CHARS = 4096  # a WhatsApp text message's limit: whatever arrives there must fit


ZERO_WIDTH_JOINER = "\u200d"
_EMOJI_CATEGORIES = ("So", "Sk", "Mn")  # pictographs, skin tone modifiers, variation selector 16


def normalise_text(text: str) -> str:
    """NFC, without control or invisible format characters (newlines and tabs stay), trimmed. A zero-width
    joiner between two emoji stays: it is part of one emoji ("👨‍👩‍👧", "🏳️‍🌈")."""
    composed = unicodedata.normalize("NFC", text)
    kept: list[str] = []
    for index, ch in enumerate(composed):
        if _is_visible(ch) or (ch == ZERO_WIDTH_JOINER and _joins_emoji(kept, composed[index + 1:index + 2])):
            kept.append(ch)
    return "".join(kept).strip()


def _is_visible(ch: str) -> bool:
    return ch in _KEEP_CONTROLS or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")


def _joins_emoji(before: list[str], after: str) -> bool:
    return (bool(before and after) and unicodedata.category(before[-1]) in _EMOJI_CATEGORIES
            and unicodedata.category(after) == "So")


@lru_cache
def netherlands_outline() -> BaseGeometry:
    """A coarse outline of the Netherlands (land and inland water), a few km generous at the borders."""
    data = json.loads((config_dir() / "geo" / "nederland.geojson").read_text(encoding="utf-8"))
    return shape(data["features"][0]["geometry"])


def inside_netherlands(lat: float, lon: float) -> bool:
    return bool(netherlands_outline().contains(Point(lon, lat)))


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    street: str | None = Field(default=None, max_length=200)
    house_number: str | None = Field(default=None, max_length=16)
    place: str | None = Field(default=None, max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _coordinates(self) -> LocationIn:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat en lon horen samen")
        if self.lat is not None and self.lon is not None and not inside_netherlands(self.lat, self.lon):
            raise ValueError("de coördinaten liggen niet in Nederland (zee of buitenland)")
        if not any((self.street, self.place, self.lat is not None)):
            raise ValueError("geef een straat, een plaats of coördinaten")
        return self


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=TEXT_MAX_CHARS)
    group_id: EntityId | None = None
    observed_at: IsoDateTime | None = None
    called_112: StrictBool | None = None  # "yes" or 1 is refused, not guessed
    location: LocationIn | None = None

    @field_validator("text")
    @classmethod
    def _text_has_content(cls, value: str) -> str:
        if not normalise_text(value):
            raise ValueError("de tekst is leeg")
        return value

    @field_validator("observed_at")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=AMSTERDAM)  # a time without zone is Dutch local time
        if value > utcnow() + CLOCK_SKEW:
            raise ValueError("het tijdstip ligt in de toekomst")
        if value < utcnow() - OLDEST_OBSERVATION:
            raise ValueError("het tijdstip ligt meer dan een jaar terug")
        return value.astimezone(UTC)


class ReportGroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group_id: EntityId = Field(description="Een van de groepen van de beheerder die de melding stuurde")


class PhotoOut(BaseModel):
    id: int
    status: str
    media_type: str | None
    width: int | None
    height: int | None


class LocationOut(BaseModel):
    street: str | None
    house_number: str | None
    place: str | None
    lat: float | None
    lon: float | None
    source: str | None


class FeedbackOut(BaseModel):
    at: datetime
    text: str


class ReportOut(BaseModel):
    id: int
    case_number: str
    status: str
    channel: str
    received_at: datetime
    observed_at: datetime | None
    group_id: int | None = Field(description="Leeg zolang de groep nog gekozen moet worden (group_pending)")
    group_pending: bool = False
    wijkcode: str | None
    text: str
    called_112: bool | None
    location: LocationOut | None
    photos: list[PhotoOut]
    advice: list[str]
    feedback: list[FeedbackOut] = []


class QuarantineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    channel: str
    external_id: str
    sender: str | None
    sender_name: str | None
    kind: str
    text: str | None
    received_at: datetime
    reason: str
