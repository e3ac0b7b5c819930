"""Hotspots and signalementen as the API reads and writes them."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class HotspotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    wijkcode: str | None = Field(default=None, max_length=16)
    lat: float = Field(ge=50.5, le=53.8)
    lon: float = Field(ge=3.0, le=7.5)
    radius_m: int = Field(ge=10, le=5000)
    offences: list[str] = Field(min_length=1)
    hot_times: list[str] = Field(default_factory=list, description="HH:MM-HH:MM, optioneel met dag: 'Sa 20:00-02:00'")
    note: str | None = Field(default=None, max_length=1000)
    valid_from: date | None = None
    valid_until: date | None = None


class HotspotPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    radius_m: int | None = Field(default=None, ge=10, le=5000)
    offences: list[str] | None = None
    hot_times: list[str] | None = None
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
    issued_at: datetime
    valid_until: datetime
    wijkcodes: list[str] = Field(min_length=1)
    offence: str | None = Field(default=None, max_length=32)
    description: str = Field(min_length=5, max_length=1000)
    keywords: list[str] = Field(min_length=1)


class SignalementPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    valid_until: datetime | None = None
    wijkcodes: list[str] | None = None
    description: str | None = Field(default=None, min_length=5, max_length=1000)
    keywords: list[str] | None = None


class SignalementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    issued_at: datetime
    valid_until: datetime
    wijkcodes: list[str]
    offence: str | None
    description: str
    keywords: list[str]
