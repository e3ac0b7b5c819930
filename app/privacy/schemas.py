"""Requests and answers of the privacy endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.registry.schemas import normalise_phone


class KeepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=300, description="Waarom het incident bewaard blijft (Wpg-doel)")


class KeepOut(BaseModel):
    incident_id: int
    reason: str
    marked_at: datetime
    keep_until: datetime


class EraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(max_length=32, description="Telefoonnummer van de beheerder (E.164 of 06-...)")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalise_phone(value)


class EraseOut(BaseModel):
    beheerder_ids: list[int]
    tokens_revoked: int
    phone_numbers_removed: int
    quarantined_removed: int
