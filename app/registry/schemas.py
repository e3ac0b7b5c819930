from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import phonenumbers
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictBool, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

from app.core.schemas import EntityId, PatchModel
from app.core.vocabulary import Channel

# WhatsApp's business-scoped user id (BSUID), e.g. NL.1234567890123456 (app.intake.whatsapp.BSUID)
WhatsAppUserId = Annotated[str, StringConstraints(max_length=160, pattern=r"^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$")]


def normalise_phone(value: str) -> str:
    """Returns the number in E.164; Dutch numbers may be written nationally (06-12345678)."""
    try:
        parsed = phonenumbers.parse(value, "NL")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("is geen geldig telefoonnummer") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("is geen geldig telefoonnummer")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class RegionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=2, max_length=32, pattern=r"^[A-Z0-9-]+$")
    name: str = Field(min_length=1, max_length=200)
    gemeentecodes: list[str] = []


class RegionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str


class GemeenteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    region_id: int | None


class WijkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    gemeente_code: str
    gemeente_name: str
    centroid_lat: float | None
    centroid_lon: float | None
    households: int | None = None  # aantal huishoudens (CBS AANT_HH); None: not known
    group_count: int = 0


class WijkDetail(WijkOut):
    geometry: dict[str, Any] | None


# A wijk has up to some tens of thousands of households; the bound keeps a typo out of the figures.
Households = Annotated[int, Field(ge=0, le=1_000_000, strict=True)]


class WijkPatch(PatchModel):
    """What an admin may correct on an imported wijk; its boundary and name come from the CBS import."""

    clearable = frozenset({"households"})
    households: Households | None = None


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    wijkcode: str = Field(min_length=3, max_length=16)
    member_count: int = Field(default=0, ge=0, le=100_000, strict=True)


class GroupPatch(PatchModel):
    name: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=200)
    wijkcode: str | SkipJsonSchema[None] = Field(default=None, min_length=3, max_length=16)
    member_count: Annotated[int, Field(ge=0, le=100_000, strict=True)] | SkipJsonSchema[None] = None
    active: StrictBool | SkipJsonSchema[None] = None


class MyGroupOut(BaseModel):
    """A group as its own beheerder sees it: not who else runs it."""

    id: int
    name: str
    wijkcode: str
    wijk_name: str
    member_count: int
    active: bool


class GroupOut(MyGroupOut):
    beheerder_ids: list[int] = []


class BeheerderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    whatsapp_user_id: WhatsAppUserId | None = None
    email: EmailStr | None = None
    channels: list[Channel] = Field(default_factory=lambda: list[Channel](["whatsapp"]))
    group_ids: list[EntityId] = []
    active: StrictBool = True

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value) if value else None


class BeheerderPatch(PatchModel):
    clearable = frozenset({"phone", "email", "whatsapp_user_id"})
    name: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    whatsapp_user_id: WhatsAppUserId | None = None  # null unlinks it
    email: EmailStr | None = None
    channels: list[Channel] | SkipJsonSchema[None] = None
    group_ids: list[EntityId] | SkipJsonSchema[None] = None
    active: StrictBool | SkipJsonSchema[None] = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value) if value else None


class BeheerderOut(BaseModel):
    id: int
    name: str
    phone: str | None
    whatsapp_user_id: str | None = None
    email: str | None
    channels: list[str]
    active: bool
    group_ids: list[int]
    wijkcodes: list[str]
    created_at: datetime


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(default=None, max_length=200)
    days: int | None = Field(default=None, ge=1, le=730, strict=True)


class WallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    region_code: str


class WallPatch(PatchModel):
    name: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=200)
    active: StrictBool | SkipJsonSchema[None] = Field(default=None, description="false: het token van de wall werkt "
                                                                        "niet meer en open streams sluiten")


class WallOut(BaseModel):
    id: int
    name: str
    region_code: str
    active: bool
    token: str | None = Field(default=None, description="Alleen bij aanmaken; daarna nooit meer.")


class ImportResult(BaseModel):
    created: int
    updated: int
    unchanged: int = 0
    rows: int


class MeOut(BaseModel):
    id: int
    name: str
    phone: str | None
    channels: list[str]
    groups: list[MyGroupOut]
