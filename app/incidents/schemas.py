"""Incidents and their reports as the queue, the console and the wall read them, and operator decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
