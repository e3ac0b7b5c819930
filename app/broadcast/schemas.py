"""API shapes for alerts (broadcasts), their progress, and the beheerder's view of them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.schemas import EntityId
from app.core.vocabulary import BroadcastKind as Kind
from app.intake.schemas import normalise_text

WarningCode = Literal["naam", "telefoonnummer", "emailadres", "kenteken", "huisnummer", "bsn", "uiterlijk"]
CODE = r"^[A-Z]{2}[0-9]{4,8}$"


class CircleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=50.5, le=53.8, description="WGS84, in Nederland")
    lon: float = Field(ge=3.2, le=7.3)
    radius_m: float = Field(gt=0, le=50_000, description="Straal in meters")


class TargetIn(BaseModel):
    """Any combination of wijken, gemeenten and a circle (every wijk it touches). `lat`, `lon` and
    `radius_m` may also be given directly instead of as `circle`."""

    model_config = ConfigDict(extra="forbid")
    wijkcodes: list[str] = Field(default_factory=list, max_length=500)
    gemeentecodes: list[str] = Field(default_factory=list, max_length=100)
    circle: CircleIn | None = None
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None

    @field_validator("wijkcodes", "gemeentecodes")
    @classmethod
    def _codes(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(value.strip().upper() for value in values))

    @model_validator(mode="after")
    def _one_circle(self) -> TargetIn:
        flat = (self.lat, self.lon, self.radius_m)
        if any(value is not None for value in flat):
            if self.circle is not None or any(value is None for value in flat):
                raise ValueError("geef lat, lon en radius_m samen, of een circle")
            self.circle = CircleIn(lat=self.lat, lon=self.lon, radius_m=self.radius_m)
            self.lat = self.lon = self.radius_m = None
        if not (self.wijkcodes or self.gemeentecodes or self.circle):
            raise ValueError("kies wijkcodes, gemeentecodes of een cirkel (lat, lon, radius_m)")
        return self


class BroadcastIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind
    text: str = Field(min_length=1, max_length=1000)
    target: TargetIn
    incident_id: EntityId | None = None
    confirm_warnings: list[WarningCode] = Field(default_factory=list,
                                                description="Privacywaarschuwingen die de afzender bewust negeert")

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        cleaned = normalise_text(value)
        if not cleaned:
            raise ValueError("de tekst is leeg")
        return cleaned


class WarningOut(BaseModel):
    code: str
    message: str
    matches: list[str]


class PrivacyCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=1000)


class PrivacyCheckOut(BaseModel):
    warnings: list[WarningOut]


class RecipientOut(BaseModel):
    beheerder_id: int
    name: str
    channel: str


class PreviewOut(BaseModel):
    kind: str
    message: str
    wijkcodes: list[str]
    gemeentecodes: list[str]
    recipients: int
    per_channel: dict[str, int]
    recipient_list: list[RecipientOut]
    recipient_list_truncated: bool
    warnings: list[WarningOut]
    needs_specialist: bool


class ProgressOut(BaseModel):
    recipients: int
    pending: int
    sent: int
    delivered: int
    read: int
    forwarded: int
    failed: int
    done: bool


class FailedDeliveryOut(BaseModel):
    delivery_id: int
    beheerder_id: int
    beheerder_name: str
    channel: str
    attempts: int
    error_code: int | None
    error: str | None
    failed_at: datetime | None


class BroadcastOut(BaseModel):
    id: int
    kind: str
    text: str
    message: str
    wijkcodes: list[str]
    gemeentecodes: list[str]
    incident_id: int | None
    created_at: datetime
    created_by: str
    confirmed_warnings: list[str]
    per_channel: dict[str, int]
    progress: ProgressOut
    finished_at: datetime | None


class BroadcastDetail(BroadcastOut):
    failed_deliveries: list[FailedDeliveryOut] | None = Field(
        default=None, description="Alleen voor de meldkamer: mislukte afleveringen")


class AlertOut(BaseModel):
    delivery_id: int
    broadcast_id: int
    kind: str
    message: str
    channel: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    forwarded_at: datetime | None
    forwarded_via: str | None
