"""Every error leaves as application/problem+json (RFC 9457) with a Dutch title."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg.exceptions
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.routes import allowed_methods

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("app.errors")

# Dutch titles for plain HTTP statuses raised by the framework itself.
STATUS_TITLES: dict[int, str] = {
    400: "Ongeldig verzoek",
    401: "Niet aangemeld",
    403: "Geen toegang",
    404: "Niet gevonden",
    405: "Methode niet toegestaan",
    409: "Conflict",
    413: "Verzoek te groot",
    415: "Niet-ondersteund formaat",
    422: "Ongeldige invoer",
    429: "Te veel verzoeken",
    500: "Interne fout",
    503: "Dienst niet beschikbaar",
}


class ProblemError(Exception):
    """A domain error that the API answers as problem+json."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        field: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field
        self.code = code
        self.headers = headers or {}
        self.extra = extra or {}


class NotFound(ProblemError):
    def __init__(self, what: str = "Het gevraagde object") -> None:
        super().__init__(404, "Niet gevonden", f"{what} bestaat niet of is niet van u.", code="not_found")


class Unauthorized(ProblemError):
    def __init__(self, detail: str = "Meld u aan met een geldig token.") -> None:
        super().__init__(
            401, "Niet aangemeld", detail, code="unauthorized", headers={"WWW-Authenticate": "Bearer"}
        )


class Forbidden(ProblemError):
    def __init__(self, detail: str = "Uw rol geeft geen toegang tot deze functie.") -> None:
        super().__init__(403, "Geen toegang", detail, code="forbidden")


class Conflict(ProblemError):
    def __init__(self, detail: str, *, field: str | None = None, code: str = "conflict") -> None:
        super().__init__(409, "Conflict", detail, field=field, code=code)


class InvalidInput(ProblemError):
    def __init__(self, detail: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(422, "Ongeldige invoer", detail, field=field, code=code)


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update({key: value for key, value in extra.items() if value is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_name(location: tuple[Any, ...] | list[Any], kind: str = "") -> str:
    if kind == "json_invalid":
        return "body"
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


_VALIDATION_MESSAGES = {
    "missing": "is verplicht",
    "json_invalid": "is geen geldige JSON",
    "string_too_short": "is te kort",
    "string_too_long": "is te lang",
    "int_parsing": "moet een geheel getal zijn",
    "float_parsing": "moet een getal zijn",
    "bool_parsing": "moet waar of onwaar zijn",
    "datetime_parsing": "is geen geldige datum en tijd",
    "datetime_from_date_parsing": "is geen geldige datum en tijd",
    "literal_error": "heeft geen toegestane waarde",
    "enum": "heeft geen toegestane waarde",
    "string_type": "moet tekst zijn",
    "int_type": "moet een geheel getal zijn",
    "list_type": "moet een lijst zijn",
    "dict_type": "moet een object zijn",
    "model_attributes_type": "moet een object zijn",
    "extra_forbidden": "is geen bekend veld",
    "greater_than_equal": "is te klein",
    "less_than_equal": "is te groot",
    "value_error": "is ongeldig",
}


def _dutch_message(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind == "value_error":
        ctx = error.get("ctx") or {}
        reason = ctx.get("error")
        if reason:
            return str(reason)
    return _VALIDATION_MESSAGES.get(kind, "is ongeldig")


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": _field_name(err.get("loc", ()), str(err.get("type"))),
            "message": _dutch_message(err),
            "type": err.get("type"),
        }
        for err in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "message": "is ongeldig"}
    status = 400 if first.get("type") == "json_invalid" else 422
    title = "Ongeldige JSON" if status == 400 else "Ongeldige invoer"
    return problem_response(
        status,
        title,
        f"Veld '{first['field']}' {first['message']}.",
        instance=request.url.path,
        field=first["field"],
        errors=errors,
    )


async def _problem_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        instance=request.url.path,
        headers=exc.headers,
        field=exc.field,
        code=exc.code,
        **exc.extra,
    )


# The framework's own English details, in Dutch.
_FRAMEWORK_DETAILS = {
    "Not Found": "Deze pagina of dit object bestaat niet.",
    "There was an error parsing the body": "De inhoud van het verzoek kon niet worden gelezen.",
}


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = STATUS_TITLES.get(exc.status_code, "Fout")
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    detail = _FRAMEWORK_DETAILS.get(detail or "", detail)
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        detail = "Deze methode is hier niet toegestaan."
        # Starlette names only the methods of the first route it matched; the path may have more.
        headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
    return problem_response(exc.status_code, title, detail, instance=request.url.path, headers=headers or None)


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", extra={"path": request.url.path})
    return problem_response(
        500, "Interne fout", "Er ging iets mis. Er is niets opgeslagen.", instance=request.url.path
    )


DATABASE_UNAVAILABLE = ("De database is even niet bereikbaar. Probeer het over enkele seconden opnieuw; een melding "
                        "met dezelfde Idempotency-Key wordt niet dubbel opgeslagen.")
RETRY_AFTER_SECONDS = "5"


def database_unavailable(exc: BaseException) -> bool:
    """A lost or refused database connection, or no pooled connection free in time: transient, so 503, not 500."""
    if isinstance(exc, PoolTimeoutError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    return isinstance(exc, ASYNCPG_UNAVAILABLE)


# While connecting, asyncpg's own errors reach us unwrapped: "the database system is starting up" or "shutting
# down" (operator intervention), a connection that failed or was lost, too many connections.
ASYNCPG_UNAVAILABLE = (asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
                       asyncpg.exceptions.TooManyConnectionsError)


async def _database_handler(request: Request, exc: Exception) -> JSONResponse:
    if not database_unavailable(exc):
        return await _unhandled_handler(request, exc)
    logger.warning("database unavailable: %s", type(exc).__name__, extra={"path": request.url.path})
    return problem_response(503, "Dienst niet beschikbaar", DATABASE_UNAVAILABLE, instance=request.url.path,
                            headers={"Retry-After": RETRY_AFTER_SECONDS}, code="database_unavailable")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    for unavailable in (SQLAlchemyError, ConnectionError, TimeoutError, *ASYNCPG_UNAVAILABLE):
        app.add_exception_handler(unavailable, _database_handler)
    app.add_exception_handler(ProblemError, _problem_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Exception, _unhandled_handler)
