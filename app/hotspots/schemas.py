"""Hotspots and signalementen as the API reads and writes them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from app.core.schemas import IsoDateTime, PatchModel


class HotspotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    wijkcode: str | None = Field(default=None, max_length=16)
    lat: float = Field(ge=50.5, le=53.8)
    lon: float = Field(ge=3.0, le=7.5)
    radius_m: int = Field(ge=10, le=5000, strict=True)
    offences: list[str] = Field(min_length=1)
    hot_times: list[str] = Field(default_factory=list, description="HH:MM-HH:MM, optioneel met dag: 'Sa 20:00-02:00'")
    note: str | None = Field(default=None, max_length=1000)
    valid_from: date | None = None
    valid_until: date | None = None


class HotspotPatch(PatchModel):
    clearable = frozenset({"note", "valid_from", "valid_until"})
    name: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=200)
    radius_m: Annotated[int, Field(ge=10, le=5000, strict=True)] | SkipJsonSchema[None] = None
    offences: list[str] | SkipJsonSchema[None] = None
    hot_times: list[str] | SkipJsonSchema[None] = None
    note: str | None = Field(default=None, max_length=1000)
    valid_from: date | None = None
    valid_until: date | None = None


class HotspotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    wijk_code: str | None
    lat: float
    lon: float
    radius_m: int
    offences: list[str]
    hot_times: list[str]
    note: str | None
    valid_from: date | None
    valid_until: date | None


class SignalementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=32)
    issued_at: IsoDateTime
    valid_until: IsoDateTime
    wijkcodes: list[str] = Field(min_length=1)
    offence: str | None = Field(default=None, max_length=32)
    description: str = Field(min_length=5, max_length=1000)
    keywords: list[str] = Field(min_length=1)


class SignalementPatch(PatchModel):
    valid_until: IsoDateTime | SkipJsonSchema[None] = None
    wijkcodes: list[str] | SkipJsonSchema[None] = None
    description: str | SkipJsonSchema[None] = Field(default=None, min_length=5, max_length=1000)
    keywords: list[str] | SkipJsonSchema[None] = None


class SignalementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    issued_at: datetime
    valid_until: datetime
    wijkcodes: list[str]
    offence: str | None
    description: str
    keywords: list[str]


class WijkName(BaseModel):
    """A wijk as the console's pickers and lists name it: no outline."""
    wijkcode: str
    name: str
    gemeente: str
    gemeentecode: str
