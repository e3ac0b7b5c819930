"""The OpenAPI document declares what every operation can answer, so that clients (and schemathesis) know the
problem+json errors as well as the successes: 400 and 422 everywhere (the input guard reads every URL), 401
and 403 wherever a token is needed, 404 where a path names an object, 409 and 413 where something is written.
A route adds what is particular to it (429, 503, ...) with `responses=problems(...)`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

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
# Models of bodies that a route reads by hand (multipart, signed webhooks) and declares with request_body().
_BODY_MODELS: dict[str, type[BaseModel]] = {}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    _BODY_MODELS[model.__name__] = model
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def request_body(model: type[BaseModel] | None = None, *, multipart: dict[str, Any] | None = None,
                 multipart_encoding: dict[str, Any] | None = None, media: dict[str, dict[str, Any]] | None = None,
                 description: str | None = None) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its body itself: a JSON body of `model`, a multipart form with
    the given properties, and/or other media types."""
    content: dict[str, Any] = {}
    if model is not None:
        content["application/json"] = {"schema": _ref(model)}
    if multipart is not None:
        content["multipart/form-data"] = {"schema": multipart}
        if multipart_encoding:
            content["multipart/form-data"]["encoding"] = multipart_encoding
    content.update(media or {})
    body: dict[str, Any] = {"required": True, "content": content}
    if description:
        body["description"] = description
    return {"requestBody": body}


def _add_body_models(schemas: dict[str, Any]) -> None:
    for name, model in _BODY_MODELS.items():
        if name in schemas:
            continue
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Route `responses` for problem+json answers particular to that route."""
    return {status: {"description": STATUS_TITLES.get(status, "Fout")} for status in statuses}


def _statuses_for(method: str, operation: dict[str, Any]) -> set[int]:
    statuses = {400, 422}
    if operation.get("security"):
        statuses |= {401, 403}
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
        statuses.add(404)
    if method in WRITE_METHODS or "requestBody" in operation:
        statuses |= {409, 413}
    return statuses


def _as_problem(response: dict[str, Any], status: int) -> dict[str, Any]:
    description = response.get("description")
    if not description or description == "Validation Error":
        description = STATUS_TITLES.get(status, "Fout")
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}


# Text that cannot be stored (a NUL, see app.core.guard) is refused: said in every plain string's schema.
NO_NUL = "^[^\\u0000]*$"
_FORMATTED = {"binary", "date", "date-time", "email", "uri", "uuid"}


def _forbid_nul(node: Any) -> None:
    """Adds the no-NUL pattern to every string schema in the document that has no pattern or format."""
    if isinstance(node, dict):
        if node.get("type") == "string" and "pattern" not in node and node.get("format") not in _FORMATTED \
                and "enum" not in node and "const" not in node:
            node["pattern"] = NO_NUL
        for value in node.values():
            _forbid_nul(value)
    elif isinstance(node, list):
        for value in node:
            _forbid_nul(value)


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
    _add_body_models(schemas)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    _forbid_nul(schema["paths"])
    _forbid_nul({name: value for name, value in schemas.items() if name != "Problem"})  # problems echo input
    return schema


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_problems(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
