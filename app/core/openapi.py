"""The OpenAPI document declares what every operation can answer, so that clients (and schemathesis) know the
problem+json errors as well as the successes: 400 and 422 everywhere (the input guard reads every URL), 401
and 403 wherever a token is needed, 404 where a path names an object, 409 and 413 where something is written.
A route adds what is particular to it (429, 503, ...) with `responses=problems(...)`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.core.errors import PROBLEM_JSON, STATUS_TITLES

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details, met een Nederlandse titel.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "field": {"type": "string"},
        "code": {"type": "string"},
    },
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Route `responses` for problem+json answers particular to that route."""
    return {status: {"description": STATUS_TITLES.get(status, "Fout")} for status in statuses}


def _statuses_for(method: str, operation: dict[str, Any]) -> set[int]:
    statuses = {400, 422}
    if operation.get("security"):
        statuses |= {401, 403}
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
        statuses.add(404)
    if method in WRITE_METHODS:
        statuses |= {409, 413}
    if "requestBody" in operation:
        statuses |= {413, 415}
    return statuses


def _as_problem(response: dict[str, Any], status: int) -> dict[str, Any]:
    return {"description": response.get("description") or STATUS_TITLES.get(status, "Fout"),
            "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}


def declare_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds the problem+json responses to every operation of a generated OpenAPI document."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for methods in schema.get("paths", {}).values():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            for status in _statuses_for(method, operation):
                responses.setdefault(str(status), {})
            for key, response in list(responses.items()):
                if key.isdigit() and int(key) >= 400:
                    responses[key] = _as_problem(response, int(key))
    schemas = schema["components"]["schemas"]
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return schema


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_problems(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
