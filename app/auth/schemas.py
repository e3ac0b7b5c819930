from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.vocabulary import StaffRole


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: str
    expires_at: datetime
    display_name: str


class WhoAmI(BaseModel):
    kind: str
    id: int
    name: str
    role: str
    wijkcodes: list[str] = []
    region_id: int | None = None


class StaffUserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9._-]+$")
    display_name: str = Field(min_length=1, max_length=200)
    role: StaffRole
    password: str = Field(min_length=12, max_length=256)
    wijkcodes: list[str] = []


class StaffUserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: str
    wijkcodes: list[str]
    active: bool
    created_at: datetime


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    prefix: str
    kind: str
    label: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class IssuedTokenOut(TokenOut):
    token: str = Field(description="Wordt maar één keer getoond; alleen een hash wordt bewaard.")
