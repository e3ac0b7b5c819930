"""Shared API shapes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from fastapi import Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from app.core.errors import ProblemError
from app.core.guard import InputRefused, check_json_text

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

# Every integer a request may carry is bounded by the database's integer: PostgreSQL's is 32 bits (SQLite's 64),
# and a larger number can name no row. Without the bound it reaches the driver and fails there with a 500.
MAX_DB_INT = 2**31 - 1
MAX_DB_BIGINT = 2**63 - 1  # the event ids
EntityId = Annotated[int, Field(ge=1, le=MAX_DB_INT, strict=True)]  # strict: `true` is not the id 1
IdPath = Annotated[int, Path(ge=1, le=MAX_DB_INT)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_DB_INT)]
Offset = Annotated[int, Query(ge=0, le=MAX_DB_INT)]


def _iso_text_only(value: Any) -> Any:
    """Pydantic reads a number as a Unix time; the API documents an ISO 8601 date and time, and takes only that."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise ValueError("moet een datum en tijd zijn (ISO 8601, bijvoorbeeld 2026-05-01T21:30:00+02:00)")
    return value


def _representable_in_utc(value: datetime) -> datetime:
    """Times are stored in UTC: one that falls outside the calendar there (year 1 at +23:59) is refused here."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("ligt buiten het bereik van de kalender") from None
    return value


_NUMBER = re.compile(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text_only), AfterValidator(_representable_in_utc)]


class PatchModel(BaseModel):
    """A partial update: only the fields sent change. A field sent as null is cleared only when it is listed in
    `clearable`; any other null is refused, since its column must keep a value. Declare the other fields as
    `X | SkipJsonSchema[None] = None`, so that the OpenAPI document does not offer null for them."""

    model_config = ConfigDict(extra="forbid")
    clearable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_clearable(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.clearable:
            raise ValueError("mag niet leeg (null) zijn")
        return value


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
    # True when `total` is a lower bound: a list over a year of history counts only up to a cap ("10.000+")
    total_capped: bool = False


def parse_json_body(model: type[M], raw: str | bytes, field: str = "body") -> M:
    """Validates a JSON body read by hand (multipart parts, signed webhooks) with the same problem+json
    answer as FastAPI's own body validation, and the same input guard as every JSON request."""
    try:
        check_json_text(raw.encode() if isinstance(raw, str) else raw, field=field)
    except InputRefused as refused:
        raise ProblemError(refused.status, refused.title, refused.detail, field=field,
                           code="unstorable_input") from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError([{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]) from exc
