"""Shared API shapes."""

from __future__ import annotations

from typing import Generic, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def parse_json_body(model: type[M], raw: str | bytes) -> M:
    """Validates a JSON body read by hand (multipart parts, signed webhooks) with the same problem+json
    answer as FastAPI's own body validation."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError([{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]) from exc
