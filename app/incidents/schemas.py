"""Incidents and their reports as the queue, the console and the wall read them, and operator decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from app.core.schemas import EntityId
from app.core.vocabulary import Category, FollowUp, Result, Urgency


class ReasonOut(BaseModel):
    code: str
    text: str


class GroupChoice(BaseModel):
    id: int
    name: str


class QueueReport(BaseModel):
    id: int
    case_number: str
    received_at: datetime
    group_id: int | None
    group_name: str
    group_pending: bool = False
    group_choices: list[GroupChoice] = Field(
        default=[], description="Zolang de groep open is: de groepen van de beheerder (kies met PATCH /reports/{id})")
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
    photos_failed: int = Field(default=0, description="foto's die niet konden worden opgehaald of opgeslagen")
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
    claim_seconds_left: int | None = Field(
        default=None, description="seconden tot de claim vervalt, naar de klok van de server")
    follow_up: str | None
    result: str | None
    appearance_only: bool
    lead_reason: ReasonOut | None = Field(
        default=None, description="de ernstigste reden uit een van de meldingen (wapen, letsel, brand), voor de kaart")
    reports: list[QueueReport]


class IncidentPatch(BaseModel):
    """Only the fields sent are changed. Lowering a P1 needs a reason."""

    model_config = ConfigDict(extra="forbid")
    urgency: Urgency | None = None
    reason: str | None = Field(default=None, max_length=500)
    category: Category | None = None
    offence: str | None = Field(default=None, max_length=32, description="een delict uit GET /api/v1/meta")
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


class IncidentBrief(BaseModel):
    """An incident as one row of the queue, without its reports (search results, merge suggestions)."""

    id: int
    status: str
    urgency: str
    category: str | None
    offence: str | None
    wijkcode: str | None
    lat: float | None
    lon: float | None
    first_report_at: datetime
    last_report_at: datetime
    report_count: int
    group_count: int
    text: str = Field(description="de tekst van de eerste melding")
    claimed_by: str | None
    follow_up: str | None
    result: str | None
    appearance_only: bool
    unrecognised: bool
    has_photo: bool


MatchSource = Literal["melding", "zaaknummer", "terugkoppeling", "reden"]


class SearchMatch(BaseModel):
    """Where a search word was found: a report's text or case number, feedback to its reporter, or the reason
    an operator gave for the urgency."""

    source: MatchSource
    report_id: int | None
    case_number: str | None
    snippet: str


class SearchHit(BaseModel):
    incident: IncidentBrief
    matches: list[SearchMatch]


TimelineKind = Literal["melding", "voorstel", "claim", "besluit", "terugkoppeling", "alarm", "samenvoeging",
                       "afsplitsing"]


class TimelineEntry(BaseModel):
    at: datetime
    kind: TimelineKind
    title: str = Field(description="wat er gebeurde, in het Nederlands")
    actor: str | None = Field(default=None, description="wie: een centralist, een groep, of het systeem")
    text: str | None = Field(default=None, description="de tekst: melding, terugkoppeling of alarm")
    reason: str | None = None
    case_number: str | None = None
    status: str | None = Field(default=None, description="afleverstatus van een terugkoppeling of alarm")
    incident_ids: list[int] = Field(default_factory=list, description="andere incidenten (samenvoegen, afsplitsen)")


class TimelineOut(BaseModel):
    incident_id: int
    entries: list[TimelineEntry] = Field(description="oudste eerst; bij heel veel alleen de nieuwste")
    total: int


class DuplicateOut(BaseModel):
    """An open incident that is probably the same event: close in place and time, with similar text, reported
    by other groups."""

    incident: IncidentBrief
    score: float = Field(ge=0, le=1)
    distance_m: float | None
    minutes_apart: float
    text_similarity: float = Field(ge=0, le=1)
    reasons: list[str]
