"""Requests and answers of the privacy endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.schemas import EntityId
from app.registry.schemas import normalise_phone


class KeepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=300, description="Waarom het incident bewaard blijft (Wpg-doel)")


class KeepOut(BaseModel):
    incident_id: int
    reason: str
    marked_at: datetime
    keep_until: datetime


class KeepStatusOut(BaseModel):
    """Whether an incident is kept beyond the ordinary retention, until when, why and by whom."""

    incident_id: int
    kept: bool  # a hold that lasts beyond now
    reason: str | None = None
    marked_at: datetime | None = None
    marked_by: str | None = None
    keep_until: datetime | None = None
    retention_days: int = Field(description="De gewone bewaartermijn van meldingsteksten (dagen)")
    kept_days: int = Field(description="Hoe lang een bewaard incident blijft, vanaf het bewaren (dagen)")


class EraseIn(BaseModel):
    """The beheerder by number; or by id, to finish an erasure that stopped after the number was gone."""

    model_config = ConfigDict(extra="forbid")
    phone: str | None = Field(default=None, max_length=32, description="Telefoonnummer (E.164 of 06-...)")
    beheerder_id: EntityId | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value) if value is not None else None

    @model_validator(mode="after")
    def _one_of(self) -> EraseIn:
        if (self.phone is None) == (self.beheerder_id is None):
            raise ValueError("geef een telefoonnummer of een beheerder_id, niet allebei")
        return self


class EraseOut(BaseModel):
    beheerder_id: int
    tokens_removed: int
    phone_numbers_removed: int
    quarantined_removed: int
    events_scrubbed: int
    report_texts_purged: int
    photos_removed: int
