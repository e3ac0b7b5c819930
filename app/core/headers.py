"""Security headers: every HTML page (the dashboards, /docs, and whatever lies under /static) gets a
Content-Security-Policy that allows only the relay's own scripts, styles and connections and forbids framing;
every response gets nosniff."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",  # photos chosen for upload are previewed from blob: URLs
    "connect-src 'self'",  # the API and the event websocket, same origin
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HTML_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),  # for browsers without frame-ancestors
    (b"referrer-policy", b"no-referrer"),  # a token in a page's URL fragment must not leave as a referrer
)
NOSNIFF = (b"x-content-type-options", b"nosniff")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": _with_security_headers(list(message.get("headers", [])))}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
    extra = [NOSNIFF]
    if content_type.startswith(b"text/html"):
        extra += HTML_HEADERS
    return headers + [(name, value) for name, value in extra if name not in present]
