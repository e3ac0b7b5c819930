from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic.json_schema import SkipJsonSchema

from app.core.schemas import EntityId, IsoDateTime, PatchModel

Urgency = Literal["P1", "P2", "P3", "none"]
Category = Literal["signalement", "delict", "verdachte_situatie", "informatie", "vermissing", "overig"]
Offence = Literal["autokraak", "woninginbraak", "fietsdiefstal", "diefstal", "vernieling", "oplichting",
                  "brandstichting", "overlast", "drugshandel", "geweld", "aanrijding"]
FollowUp = Literal["ter_plaatse", "surveillance", "doorgezet_gemeente", "actie_wijkagent",
                   "interne_informatiedeling", "geen_opvolging"]
Result = Literal["aanhouding", "geen_verdachte_situatie", "onbekend"]


class ReasonOut(BaseModel):
    code: str
    text: str


class QueueReport(BaseModel):
    id: int
    case_number: str
    received_at: datetime
    group_id: int
    group_name: str
    text: str
    called_112: bool | None
    urgency: str | None
    category: str | None
    offence: str | None
    in_progress: bool | None
    appearance_only: bool
    wijkcode: str | None
    lat: float | None
    lon: float | None
    reasons: list[ReasonOut]
    suggestion: dict[str, Any] | None
    photo_ids: list[int]
    follow_up: str | None
    result: str | None
    status: str


class IncidentOut(BaseModel):
    id: int
    status: str
    urgency: str
    urgency_override: str | None
    override_reason: str | None
    overridden: list[str]
    category: str | None
    offence: str | None
    wijkcode: str | None
    lat: float | None
    lon: float | None
    first_report_at: datetime
    last_report_at: datetime
    report_count: int
    group_count: int
    claimed_by: str | None
    claim_expires_at: datetime | None
    follow_up: str | None
    result: str | None
    appearance_only: bool
    reports: list[QueueReport]


class IncidentPatch(BaseModel):
    """Only the fields sent are changed. Lowering a P1 needs a reason."""

    model_config = ConfigDict(extra="forbid")
    urgency: Urgency | None = None
    reason: str | None = Field(default=None, max_length=500)
    category: Category | None = None
    offence: Offence | None = None
    wijkcode: str | None = Field(default=None, max_length=16)
    lat: float | None = Field(default=None, ge=50.5, le=53.8)
    lon: float | None = Field(default=None, ge=3.0, le=7.5)
    follow_up: FollowUp | None = None
    result: Result | None = None
    note_for_reporter: str | None = Field(default=None, max_length=1000)
    close: StrictBool = False

    @model_validator(mode="after")
    def _something(self) -> IncidentPatch:
        if not self.model_fields_set - {"reason"}:
            raise ValueError("geef minstens één wijziging")
        if ("lat" in self.model_fields_set) != ("lon" in self.model_fields_set):
            raise ValueError("lat en lon horen samen")
        return self


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    incident_ids: list[EntityId] = Field(min_length=1, max_length=50)


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report_ids: list[EntityId] = Field(min_length=1, max_length=50)


class HotspotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    wijkcode: str | None = Field(default=None, max_length=16)
    lat: float = Field(ge=50.5, le=53.8)
    lon: float = Field(ge=3.0, le=7.5)
    radius_m: int = Field(ge=10, le=5000, strict=True)
    offences: list[Offence] = Field(min_length=1)
    hot_times: list[str] = Field(default_factory=list, description="HH:MM-HH:MM, optioneel met dag: 'Sa 20:00-02:00'")
    note: str | None = Field(default=None, max_length=1000)
    valid_from: date | None = None
    valid_until: date | None = None


class HotspotPatch(PatchModel):
    clearable = frozenset({"note", "valid_from", "valid_until"})
    name: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=200)
    radius_m: Annotated[int, Field(ge=10, le=5000, strict=True)] | SkipJsonSchema[None] = None
    offences: list[Offence] | SkipJsonSchema[None] = None
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
    offence: Offence | None = None
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
