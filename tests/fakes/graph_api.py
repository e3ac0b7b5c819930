"""A local fake of the WhatsApp Cloud API (Graph API) for tests.

Usable in-process (``httpx.ASGITransport(app=fake)``) or as a real HTTP server on 127.0.0.1
(`run_fake_graph_server`). Every path may carry a version prefix (``/v21.0/...``) or not.

Endpoints (bearer token required):
* ``GET /{media_id}`` -> ``{"messaging_product", "url", "mime_type", "sha256", "file_size", "id"}``;
  an unknown id answers HTTP 400, code 100, subcode 33 like the real Graph API.
* ``GET /whatsapp_business/attachments/?mid=..&ext=..&hash=..`` -> the media bytes (the short-lived URL).
* ``POST /{phone_number_id}/messages`` (text and template) ->
  ``{"messaging_product": "whatsapp", "contacts": [{"input", "wa_id"}], "messages": [{"id"}]}``.

Failure injection: `fail_next`, `delay_next` (before handling), `slow_answer_next` (after handling), a
throughput limit per phone number id (code 130429) and a pair rate limit per recipient (code 131056).
Errors use Meta's error object ``{"error": {"message", "type", "code", "error_data", "error_subcode"?, "fbtrace_id"}}``.

Status callbacks like Meta's: after `send_status_callbacks(url, app_secret)` every accepted message gets
signed ``statuses`` webhooks (by default "sent" then "delivered", carrying its ``biz_opaque_callback_data``),
posted in small batches by a background task, or on demand with `flush_callbacks()`. `fail_async_next`
makes the next accepted messages fail afterwards (a "failed" status with an error code, e.g. 131047).

Control API without token, for a server in another process:
* ``POST /_fake/fail_next`` ``{"n", "status", "endpoint"?, "retry_after"?}``
* ``POST /_fake/delay_next`` ``{"n", "seconds", "endpoint"?}``
* ``PUT /_fake/media/{media_id}`` (body = the bytes, Content-Type = the mime type)
* ``POST /_fake/webhook`` ``{"url", "app_secret", "statuses"?}``, ``POST /_fake/fail_async_next`` ``{"n", "code"}``
* ``POST /_fake/limits`` ``{"messages_per_second", "pair_limit", "pair_window"?}``
* ``GET /_fake/state``, ``GET /_fake/counts`` (cheap, for polling), ``POST /_fake/reset``
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

Endpoint = Literal["any", "media", "download", "messages"]
DEFAULT_TOKEN = "fake-graph-token"
_VERSION = re.compile(r"^v\d+(\.\d+)?$")
_MEDIA_URL_TTL = 300.0

_ERROR_TEXT = {
    400: (100, "Invalid parameter"),
    401: (190, "Invalid OAuth access token - Cannot parse access token"),
    403: (10, "Application does not have permission for this action"),
    404: (100, "Unsupported get request"),
    429: (130429, "Rate limit hit"),
    500: (1, "An unknown error has occurred."),
    502: (1, "An unknown error has occurred."),
    503: (2, "Service temporarily unavailable"),
}


def graph_error(
    status: int,
    code: int,
    message: str,
    *,
    details: str | None = None,
    subcode: int | None = None,
    error_type: str = "OAuthException",
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    error: dict[str, Any] = {
        "message": f"(#{code}) {message}",
        "type": error_type,
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details or message},
        "fbtrace_id": "A" + secrets.token_urlsafe(16),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return JSONResponse({"error": error}, status_code=status, headers=headers)


@dataclass(frozen=True)
class SentMessage:
    message_id: str
    phone_number_id: str
    to: str
    wa_id: str
    type: str
    biz_opaque_callback_data: str | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class RejectedMessage:
    phone_number_id: str
    to: str
    error_code: int
    biz_opaque_callback_data: str | None


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    endpoint: str
    status: int
    authorized: bool


@dataclass
class _Injection:
    remaining: int
    endpoint: Endpoint
    status: int = 500
    seconds: float = 0.0
    retry_after: float | None = None
    to: str | None = None


@dataclass
class _Blob:
    content: bytes
    mime_type: str


@dataclass
class _State:
    media: dict[str, _Blob] = field(default_factory=dict)
    failures: list[_Injection] = field(default_factory=list)
    delays: list[_Injection] = field(default_factory=list)
    sent: list[SentMessage] = field(default_factory=list)
    rejected: list[RejectedMessage] = field(default_factory=list)
    last_sent_at: float = 0.0  # wall clock (time.time()), for timing from another process
    requests: list[RequestRecord] = field(default_factory=list)
    throughput: dict[str, deque[float]] = field(default_factory=dict)
    pairs: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    async_failures: list[_Injection] = field(default_factory=list)
    slow_answers: list[_Injection] = field(default_factory=list)
    callbacks: list[dict[str, Any]] = field(default_factory=list)  # status items not yet posted
    callbacks_posted: int = 0


@dataclass
class _Webhook:
    url: str
    app_secret: str
    statuses: tuple[str, ...]
    phone_number_id: str
    transport: httpx.AsyncBaseTransport | None
    auto: bool


def _take(queue: list[_Injection], endpoint: str) -> _Injection | None:
    for injection in queue:
        if injection.endpoint in ("any", endpoint):
            injection.remaining -= 1
            if injection.remaining <= 0:
                queue.remove(injection)
            return injection
    return None


def _wa_id(to: str) -> str:
    return "".join(ch for ch in to if ch.isdigit())


class FakeGraphApi:
    """The fake; an ASGI application. All public methods are thread-safe."""

    def __init__(
        self,
        access_token: str = DEFAULT_TOKEN,
        *,
        messages_per_second: int | None = None,
        pair_limit: int | None = None,
        pair_window: float = 6.0,
        rate_limit_status: int = 429,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.access_token = access_token
        self.messages_per_second = messages_per_second
        self.pair_limit = pair_limit
        self.pair_window = pair_window
        self.rate_limit_status = rate_limit_status
        self._clock = clock
        self._lock = threading.Lock()
        self._state = _State()
        self._url_secret = secrets.token_bytes(16)
        self._app = Starlette(routes=[Route("/{path:path}", self._dispatch, methods=["GET", "POST", "PUT"])])
        self._webhook: _Webhook | None = None
        self._sender: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    # --- control ------------------------------------------------------------------------------

    def add_media(self, media_id: str, content: bytes, mime_type: str) -> None:
        with self._lock:
            self._state.media[media_id] = _Blob(content, mime_type)

    def fail_next(
        self, n: int, status: int = 500, *, endpoint: Endpoint = "any", retry_after: float | None = None
    ) -> None:
        """The next `n` matching requests answer `status` with a Graph error body (not processed)."""
        if n <= 0:
            return
        with self._lock:
            self._state.failures.append(_Injection(n, endpoint, status=status, retry_after=retry_after))

    def delay_next(self, n: int, seconds: float, *, endpoint: Endpoint = "any") -> None:
        """The next `n` matching requests wait `seconds` before they are handled (to cause timeouts)."""
        if n <= 0:
            return
        with self._lock:
            self._state.delays.append(_Injection(n, endpoint, seconds=seconds))

    def reset(self) -> None:
        """Forget sent messages, requests, injections and rate-limit windows (media stay)."""
        with self._lock:
            media = self._state.media
            self._state = _State(media=media)

    def send_status_callbacks(
        self,
        url: str,
        app_secret: str,
        *,
        statuses: tuple[str, ...] = ("sent", "delivered"),
        phone_number_id: str = "106540352242922",
        transport: httpx.AsyncBaseTransport | None = None,
        auto: bool = True,
    ) -> None:
        """From now on, accepted messages get signed status webhooks posted to `url` (with `transport`, e.g.
        an ASGITransport of the app, in process). `auto=False` posts only on `flush_callbacks()`."""
        with self._lock:
            self._webhook = _Webhook(url, app_secret, statuses, phone_number_id, transport, auto)

    def slow_answer_next(self, n: int, seconds: float, *, endpoint: Endpoint = "messages") -> None:
        """The next `n` matching requests are processed (a message is accepted), then answered after `seconds`:
        the caller may time out on a message that went out."""
        if n > 0:
            with self._lock:
                self._state.slow_answers.append(_Injection(n, endpoint, seconds=seconds))

    def fail_async_next(self, n: int, code: int = 131047, *, to: str | None = None) -> None:
        """The next `n` accepted messages (to `to`, a wa_id, if given) are answered 200, then fail by a
        "failed" status callback with `code`."""
        if n > 0:
            with self._lock:
                self._state.async_failures.append(_Injection(n, "messages", status=code, to=to))

    @property
    def pending_callbacks(self) -> int:
        with self._lock:
            return len(self._state.callbacks)

    @property
    def callbacks_posted(self) -> int:
        with self._lock:
            return self._state.callbacks_posted

    # --- inspection ---------------------------------------------------------------------------

    @property
    def sent(self) -> list[SentMessage]:
        with self._lock:
            return list(self._state.sent)

    @property
    def rejected(self) -> list[RejectedMessage]:
        with self._lock:
            return list(self._state.rejected)

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._state.requests)

    def count_by_callback_data(self) -> Counter[str]:
        return Counter(m.biz_opaque_callback_data for m in self.sent if m.biz_opaque_callback_data)

    def count_by_recipient(self) -> Counter[str]:
        return Counter(m.wa_id for m in self.sent)

    def distinct_callback_data(self) -> int:
        return len(self.count_by_callback_data())

    def distinct_recipients(self) -> int:
        return len(self.count_by_recipient())

    def state(self) -> dict[str, Any]:
        return {
            "sent": [
                {
                    "id": m.message_id,
                    "phone_number_id": m.phone_number_id,
                    "to": m.to,
                    "type": m.type,
                    "biz_opaque_callback_data": m.biz_opaque_callback_data,
                }
                for m in self.sent
            ],
            "rejected": [{"to": r.to, "error_code": r.error_code} for r in self.rejected],
            "by_callback_data": dict(self.count_by_callback_data()),
            "by_recipient": dict(self.count_by_recipient()),
            "requests": len(self.requests),
            "callbacks_posted": self.callbacks_posted,
            "pending_callbacks": self.pending_callbacks,
        }

    def counts(self) -> dict[str, float]:
        """A cheap summary for polling: messages accepted and refused, distinct and most per recipient, and
        the wall-clock time of the last accepted message."""
        by_recipient = self.count_by_recipient()
        with self._lock:
            last = self._state.last_sent_at
        return {"sent": sum(by_recipient.values()), "rejected": len(self.rejected), "recipients": len(by_recipient),
                "max_per_recipient": max(by_recipient.values(), default=0),
                "distinct_callback_data": self.distinct_callback_data(), "last_sent_at": last}

    # --- dispatch -----------------------------------------------------------------------------

    async def _dispatch(self, request: Request) -> Response:
        parts = [p for p in request.path_params["path"].split("/") if p]
        if parts and parts[0] == "_fake":
            return await self._control(request, parts[1:])
        if parts and _VERSION.match(parts[0]):
            parts = parts[1:]
        endpoint, handler = self._route(request.method, parts)
        authorized = request.headers.get("authorization") == f"Bearer {self.access_token}"
        response = await self._handle(request, endpoint, handler, parts, authorized)
        with self._lock:
            self._state.requests.append(
                RequestRecord(request.method, request.url.path, endpoint, response.status_code, authorized)
            )
        return response

    def _route(self, method: str, parts: list[str]) -> tuple[str, Callable[..., Any] | None]:
        if method == "GET" and parts == ["whatsapp_business", "attachments"]:
            return "download", self._download
        if method == "GET" and len(parts) == 1:
            return "media", self._media_info
        if method == "POST" and len(parts) == 2 and parts[1] == "messages":
            return "messages", self._send_message
        return "unknown", None

    async def _handle(
        self,
        request: Request,
        endpoint: str,
        handler: Callable[..., Any] | None,
        parts: list[str],
        authorized: bool,
    ) -> Response:
        with self._lock:
            delay = _take(self._state.delays, endpoint)
        if delay is not None:
            await asyncio.sleep(delay.seconds)
        if not authorized:
            return graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        with self._lock:
            failure = _take(self._state.failures, endpoint)
        if failure is not None:
            return self._injected_failure(failure)
        if handler is None:
            return graph_error(400, 2500, "Unknown path components", error_type="OAuthException")
        response: Response = await handler(request, parts)
        with self._lock:
            slow = _take(self._state.slow_answers, endpoint)
        if slow is not None:
            await asyncio.sleep(slow.seconds)
        return response

    def _injected_failure(self, failure: _Injection) -> Response:
        code, message = _ERROR_TEXT.get(failure.status, (1, "An unknown error has occurred."))
        headers = {"Retry-After": f"{failure.retry_after:g}"} if failure.retry_after is not None else None
        return graph_error(failure.status, code, message, headers=headers)

    # --- media --------------------------------------------------------------------------------

    def _url_hash(self, media_id: str, expires: str) -> str:
        return hmac.new(self._url_secret, f"{media_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    async def _media_info(self, request: Request, parts: list[str]) -> Response:
        media_id = parts[0]
        with self._lock:
            blob = self._state.media.get(media_id)
        if blob is None:
            message = (
                f"Unsupported get request. Object with ID '{media_id}' does not exist, cannot be loaded "
                "due to missing permissions, or does not support this operation."
            )
            return graph_error(400, 100, message, subcode=33, error_type="GraphMethodException")
        expires = str(int(time.time() + _MEDIA_URL_TTL))
        origin = f"{request.url.scheme}://{request.url.netloc}"
        url = (
            f"{origin}/whatsapp_business/attachments/?mid={media_id}&ext={expires}"
            f"&hash={self._url_hash(media_id, expires)}"
        )
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": url,
                "mime_type": blob.mime_type,
                "sha256": hashlib.sha256(blob.content).hexdigest(),
                "file_size": len(blob.content),
                "id": media_id,
            }
        )

    async def _download(self, request: Request, parts: list[str]) -> Response:
        media_id = request.query_params.get("mid", "")
        expires = request.query_params.get("ext", "")
        given = request.query_params.get("hash", "")
        valid = hmac.compare_digest(given, self._url_hash(media_id, expires))
        with self._lock:
            blob = self._state.media.get(media_id)
        if not valid or blob is None or not expires.isdigit() or int(expires) < time.time():
            return Response(status_code=404)
        return Response(blob.content, media_type=blob.mime_type)

    # --- messages -----------------------------------------------------------------------------

    async def _send_message(self, request: Request, parts: list[str]) -> Response:
        phone_number_id = parts[0]
        try:
            body = await request.json()
        except ValueError:
            return graph_error(400, 100, "Invalid parameter", details="Request body is not valid JSON")
        except ClientDisconnect:  # the caller gave up before we read the request: nothing was sent
            return Response(status_code=499)
        problem = _validate_message(body)
        if problem is not None:
            return graph_error(400, 100, "Invalid parameter", details=problem)
        return self._accept_or_limit(phone_number_id, body)

    def _accept_or_limit(self, phone_number_id: str, body: dict[str, Any]) -> Response:
        to = str(body["to"])
        callback = body.get("biz_opaque_callback_data")
        callback = callback if isinstance(callback, str) else None
        with self._lock:
            limited = self._rate_limited(phone_number_id, _wa_id(to))
            if limited is not None:
                self._state.rejected.append(RejectedMessage(phone_number_id, to, limited[0], callback))
            else:
                message = SentMessage(
                    message_id="wamid." + base64.b64encode(secrets.token_bytes(27)).decode(),
                    phone_number_id=phone_number_id,
                    to=to,
                    wa_id=_wa_id(to),
                    type=body["type"],
                    biz_opaque_callback_data=callback,
                    payload=body,
                )
                self._state.sent.append(message)
                self._state.last_sent_at = time.time()
                self._queue_callbacks(message)
        if limited is not None:
            return graph_error(self.rate_limit_status, limited[0], limited[1], details=limited[2])
        self._ensure_sender()
        return JSONResponse(_send_answer(message))

    def _rate_limited(self, phone_number_id: str, wa_id: str) -> tuple[int, str, str] | None:
        """Check and record one send; caller holds the lock."""
        now = self._clock()
        window = self._state.throughput.setdefault(phone_number_id, deque())
        pair = self._state.pairs.setdefault((phone_number_id, wa_id), deque())
        while window and now - window[0] >= 1.0:
            window.popleft()
        while pair and now - pair[0] >= self.pair_window:
            pair.popleft()
        if self.messages_per_second is not None and len(window) >= self.messages_per_second:
            return 130429, "Rate limit hit", "Cloud API message throughput has been reached."
        if self.pair_limit is not None and len(pair) >= self.pair_limit:
            details = (
                "Message failed to send because there were too many messages sent from this phone "
                "number to the same phone number in a short period of time."
            )
            return 131056, "(Business Account, Consumer Account) pair rate limit hit", details
        window.append(now)
        pair.append(now)
        return None

    # --- status callbacks -----------------------------------------------------------------------

    def _queue_callbacks(self, message: SentMessage) -> None:
        """Caller holds the lock."""
        if self._webhook is None:
            return
        failure = _take([f for f in self._state.async_failures if f.to in (None, message.wa_id)], "messages")
        if failure is not None:
            if failure.remaining <= 0:
                self._state.async_failures.remove(failure)
            self._state.callbacks.append(status_for(message, "failed", error_code=failure.status,
                                                    error_title="Message failed to send"))
            return
        self._state.callbacks.extend(status_for(message, status) for status in self._webhook.statuses)

    def _ensure_sender(self) -> None:
        webhook = self._webhook
        if webhook is None or not webhook.auto or (self._sender is not None and not self._sender.done()):
            return
        self._sender = asyncio.get_running_loop().create_task(self._send_callbacks_forever())

    async def _send_callbacks_forever(self, batch_seconds: float = 0.05) -> None:
        idle = 0
        while idle < 100:  # stops after ~5 s without work; the next accepted message restarts it
            await asyncio.sleep(batch_seconds)
            idle = 0 if await self.flush_callbacks() else idle + 1

    async def flush_callbacks(self, batch: int = 100) -> int:
        """Posts every pending status callback (in batches, like Meta); returns how many were accepted."""
        webhook = self._webhook
        if webhook is None:
            return 0
        posted = 0
        async with httpx.AsyncClient(transport=webhook.transport, timeout=10) as client:
            while True:
                with self._lock:
                    items, self._state.callbacks = self._state.callbacks[:batch], self._state.callbacks[batch:]
                if not items:
                    return posted
                if not await self._post_callbacks(client, webhook, items):
                    with self._lock:  # Meta retries failed webhooks; so do we, a little later
                        self._state.callbacks[:0] = items
                    await asyncio.sleep(0.2)
                    return posted
                posted += len(items)

    async def _post_callbacks(self, client: httpx.AsyncClient, webhook: _Webhook, items: list[dict[str, Any]]) -> bool:
        raw = json.dumps(webhook_payload(statuses=items, phone_number_id=webhook.phone_number_id)).encode()
        signature = "sha256=" + hmac.new(webhook.app_secret.encode(), raw, hashlib.sha256).hexdigest()
        try:
            response = await client.post(webhook.url, content=raw, headers={
                "Content-Type": "application/json", "X-Hub-Signature-256": signature})
        except httpx.HTTPError:
            return False
        if response.status_code != 200:
            return False
        with self._lock:
            self._state.callbacks_posted += len(items)
        return True

    # --- control API --------------------------------------------------------------------------

    async def _control(self, request: Request, parts: list[str]) -> Response:
        action = "/".join(parts[:1])
        if request.method == "GET" and action == "state":
            return JSONResponse(self.state())
        if request.method == "GET" and action == "counts":
            return JSONResponse(self.counts())
        if request.method == "PUT" and action == "media" and len(parts) == 2:
            content_type = request.headers.get("content-type", "application/octet-stream")
            self.add_media(parts[1], await request.body(), content_type)
            return JSONResponse({"ok": True})
        if request.method != "POST":
            return JSONResponse({"error": "unknown control call"}, status_code=404)
        body = await request.json() if action in ("fail_next", "delay_next", "webhook", "fail_async_next",
                                                  "limits") else {}
        if action == "fail_next":
            self.fail_next(
                int(body["n"]),
                int(body.get("status", 500)),
                endpoint=body.get("endpoint", "any"),
                retry_after=body.get("retry_after"),
            )
        elif action == "delay_next":
            self.delay_next(int(body["n"]), float(body["seconds"]), endpoint=body.get("endpoint", "any"))
        elif action == "webhook":
            self.send_status_callbacks(str(body["url"]), str(body["app_secret"]),
                                       statuses=tuple(body.get("statuses", ("sent", "delivered"))))
        elif action == "limits":
            self.messages_per_second = body.get("messages_per_second")
            self.pair_limit = body.get("pair_limit")
            self.pair_window = float(body.get("pair_window", self.pair_window))
        elif action == "fail_async_next":
            self.fail_async_next(int(body["n"]), int(body.get("code", 131047)))
        elif action == "reset":
            self.reset()
        else:
            return JSONResponse({"error": "unknown control call"}, status_code=404)
        return JSONResponse({"ok": True})


def _validate_message(body: object) -> str | None:
    if not isinstance(body, dict):
        return "Request body must be a JSON object"
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be 'whatsapp'"
    if not isinstance(body.get("to"), str) or not _wa_id(body["to"]):
        return "'to' must be a phone number"
    kind = body.get("type", "text")
    body.setdefault("type", kind)
    if kind == "text":
        text = body.get("text")
        if not isinstance(text, dict) or not isinstance(text.get("body"), str) or not text["body"]:
            return "text.body is required"
        return None
    if kind == "template":
        template = body.get("template")
        if not isinstance(template, dict) or not isinstance(template.get("name"), str):
            return "template.name is required"
        language = template.get("language")
        if not isinstance(language, dict) or not isinstance(language.get("code"), str):
            return "template.language.code is required"
        return None
    return f"message type {kind!r} is not supported by the fake"


def _send_answer(message: SentMessage) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": message.message_id}
    if message.type == "template":
        entry["message_status"] = "accepted"
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": message.to, "wa_id": message.wa_id}],
        "messages": [entry],
    }


# --- running as a real server -------------------------------------------------------------------


@contextmanager
def run_fake_graph_server(
    fake: FakeGraphApi | None = None,
    *,
    version: str | None = "v21.0",
    startup_timeout: float = 10.0,
    http: str = "h11",
) -> Iterator[tuple[str, FakeGraphApi]]:
    """Serve `fake` with uvicorn on 127.0.0.1 (free port) in a background thread.

    Yields ``(base_url, fake)``, e.g. ``("http://127.0.0.1:40123/v21.0", fake)``.
    """
    fake = fake if fake is not None else FakeGraphApi()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        fake,
        loop="asyncio",
        http=http,
        ws="none",
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_started(server, thread, startup_timeout)
        origin = f"http://127.0.0.1:{port}"
        yield (f"{origin}/{version}" if version else origin), fake
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("fake Graph API server did not start")
        if time.monotonic() > deadline:
            raise TimeoutError("fake Graph API server did not start in time")
        time.sleep(0.01)


# --- webhook payload builders (what Meta would POST to the relay) --------------------------------


def webhook_payload(
    *,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    contacts: list[dict[str, Any]] | None = None,
    phone_number_id: str = "106540352242922",
    display_phone_number: str = "31850001234",
    waba_id: str = "102290129340398",
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id},
    }
    if contacts:
        value["contacts"] = contacts
    if messages:
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"value": value, "field": "messages"}]}],
    }


def contact(wa_id: str, name: str) -> dict[str, Any]:
    return {"profile": {"name": name}, "wa_id": wa_id}


def text_message(
    wa_id: str,
    body: str,
    *,
    message_id: str | None = None,
    forwarded: bool = False,
    timestamp: int | None = None,
) -> dict[str, Any]:
    message = _message_base(wa_id, "text", message_id, timestamp)
    message["text"] = {"body": body}
    if forwarded:
        message["context"] = {"forwarded": True}
    return message


def image_message(
    wa_id: str,
    media_id: str,
    *,
    caption: str | None = None,
    mime_type: str = "image/jpeg",
    message_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    message = _message_base(wa_id, "image", message_id, timestamp)
    image: dict[str, Any] = {"mime_type": mime_type, "sha256": secrets.token_hex(32), "id": media_id}
    if caption is not None:
        image["caption"] = caption
    message["image"] = image
    return message


def location_message(
    wa_id: str,
    latitude: float,
    longitude: float,
    *,
    name: str | None = None,
    address: str | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    message = _message_base(wa_id, "location", message_id, None)
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if name is not None:
        location["name"] = name
    if address is not None:
        location["address"] = address
    message["location"] = location
    return message


def status_for(
    sent: SentMessage,
    status: str = "delivered",
    *,
    error_code: int | None = None,
    error_title: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """The ``statuses[]`` item Meta would send for a message the fake accepted."""
    item: dict[str, Any] = {
        "id": sent.message_id,
        "status": status,
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "recipient_id": sent.wa_id,
    }
    if sent.biz_opaque_callback_data is not None:
        item["biz_opaque_callback_data"] = sent.biz_opaque_callback_data
    if error_code is not None:
        item["errors"] = [
            {"code": error_code, "title": error_title or "Error", "error_data": {"details": error_title}}
        ]
    return item


def _message_base(wa_id: str, kind: str, message_id: str | None, timestamp: int | None) -> dict[str, Any]:
    return {
        "from": wa_id,
        "id": message_id or "wamid." + base64.b64encode(secrets.token_bytes(27)).decode(),
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "type": kind,
    }


def main() -> None:
    """``python -m tests.fakes.graph_api --port P``: the fake in its own process (benchmarks), controlled
    through the control API."""
    import argparse

    parser = argparse.ArgumentParser(description="Fake WhatsApp Cloud API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--rate", type=int, default=None, help="messages per second per phone number id")
    parser.add_argument("--pair-limit", type=int, default=None)
    args = parser.parse_args()
    fake = FakeGraphApi(args.token, messages_per_second=args.rate, pair_limit=args.pair_limit)
    uvicorn.run(fake, host=args.host, port=args.port, http="httptools", loop="uvloop", lifespan="off",
                log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
