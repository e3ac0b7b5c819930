"""Input that no route can store is refused before any route sees it: a NUL character (PostgreSQL text cannot
hold U+0000) in the path, the query or a JSON body, and JSON nested deeper than any of our shapes (a
10,000-deep array would exhaust the parser's recursion). Both answer problem+json; nothing is written.

Integers are bounded where they are declared (`app.core.schemas`): ids, paging and counts never exceed
PostgreSQL's integer, the narrowest id column of the two engines."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PROBLEM_JSON

MAX_JSON_DEPTH = 32  # our request shapes nest four levels at most (an alert's target circle)
# Signed webhooks whose senders cannot be asked to fix their text: NULs are removed there (strip_nul), not refused.
NUL_TOLERANT_PATHS = ("/webhooks/whatsapp",)

# An escaped NUL: "\u0000" after an even number of backslashes (an odd number escapes the backslash). The
# possessive quantifier keeps the scan linear on a hostile run of backslashes.
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*+\\u0000")


class InputRefused(Exception):
    def __init__(self, status: int, title: str, detail: str, field: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.field = status, title, detail, field

    def body(self, instance: str) -> dict[str, Any]:
        return {"type": "about:blank", "title": self.title, "status": self.status, "detail": self.detail,
                "instance": instance, "field": self.field, "code": "unstorable_input"}


def _nul_refused(field: str) -> InputRefused:
    return InputRefused(422, "Ongeldige invoer", f"Veld '{field}' bevat een NUL-teken (U+0000); dat kan niet "
                                                 "worden opgeslagen.", field)


_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\Z)', re.DOTALL)  # an unterminated one runs to the end
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_STEP = np.zeros(256, dtype=np.int8)  # an opening bracket is one level deeper, a closing one back out
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


def too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests arrays and objects deeper than `limit`, in C-speed passes over the bytes (a
    parse would first build every object). Almost every body has fewer brackets than the limit. Otherwise the
    depth counted over all brackets is an upper bound; only when that exceeds the limit are the strings, which
    may hold brackets of their own, taken out first. Invalid JSON is left to the app to answer."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    return _deepest(raw) > limit and _deepest(_JSON_STRING.sub(b"", raw)) > limit


def _deepest(text: bytes) -> int:
    steps = _STEP[np.frombuffer(text.translate(None, _NOT_BRACKETS), dtype=np.uint8)]
    return int(np.cumsum(steps, dtype=np.int32).max(initial=0))


def check_json_text(raw: bytes, *, allow_nul: bool = False, field: str = "body") -> None:
    """Raises InputRefused for a JSON text that holds a NUL or is nested deeper than MAX_JSON_DEPTH."""
    if not allow_nul and (b"\x00" in raw or (b"\\u0000" in raw and _ESCAPED_NUL.search(raw))):
        raise _nul_refused(field)
    if too_deep(raw):
        raise InputRefused(400, "Ongeldige JSON", f"De JSON is dieper genest dan {MAX_JSON_DEPTH} niveaus.", field)


def check_url(scope: Scope) -> None:
    if "\x00" in scope.get("path", ""):
        raise _nul_refused("path")
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        names = [name for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
                 if "\x00" in value and "\x00" not in name]  # a name with a NUL is not echoed
        raise _nul_refused(names[0] if names else "query")


def strip_nul(value: Any) -> Any:
    """The same JSON value with every NUL removed from its strings and keys."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [strip_nul(item) for item in value]
    if isinstance(value, dict):
        return {strip_nul(key): strip_nul(item) for key, item in value.items()}
    return value


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media_type = value.split(b";", 1)[0].strip().lower()
            return media_type == b"application/json" or media_type.endswith(b"+json")
    return scope.get("method") in ("POST", "PUT", "PATCH")  # FastAPI reads a body without a type as JSON


class RequestGuardMiddleware:
    """Checks the URL of every request and the body of every JSON request before the app sees them. The body
    is read whole (the body size limit sits outside this middleware) and handed on unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_url(scope)
            if not _is_json(scope):
                await self.app(scope, receive, send)
                return
            body, replay = await _read_body(receive)
            if body:
                check_json_text(body, allow_nul=scope.get("path", "").startswith(NUL_TOLERANT_PATHS))
        except InputRefused as refused:
            await _send_problem(send, refused, scope.get("path", ""))
            return
        await self.app(scope, replay, send)


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    chunks: list[bytes] = []
    pending: list[Message] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            pending.append(message)  # a disconnect: the app sees it after the body
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    pending.insert(0, {"type": "http.request", "body": body, "more_body": False})

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return body, replay


async def _send_problem(send: Send, refused: InputRefused, instance: str) -> None:
    payload = json.dumps(refused.body(instance), separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": refused.status,
                "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
