"""Channel adapters: WhatsApp Cloud API, a signed webhook for partner apps, in-app, and e-mail.

An adapter sends one message and says what happened; it never touches the database. The outcomes:
sent / delivered (done), retry (temporary; counts towards the maximum), throttled (a rate limit; wait and
try again, never counted), reengage (WhatsApp's 24-hour window is closed: send the template), failed
(permanent), unknown (the request may have reached the provider: reconcile from status callbacks before
sending again), released (the worker's lease ran out before sending; nothing was sent)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol

import httpx
from pydantic import SecretStr

from app.broadcast.config import WhatsAppTemplate
from app.broadcast.http import LeanTransport, Poster
from app.core.settings import Settings

logger = logging.getLogger("app.broadcast.channels")

Outcome = Literal["sent", "delivered", "retry", "throttled", "reengage", "failed", "unknown", "released"]
CONNECTIONS = 8  # keep-alive connections per adapter; a few carry the provider's whole rate limit
WEBHOOK_SIGNATURE = "X-Meldkamer-Signature"
WEBHOOK_TIMESTAMP = "X-Meldkamer-Timestamp"
WEBHOOK_DELIVERY = "X-Meldkamer-Delivery"

# WhatsApp Cloud API error codes (developers.facebook.com, "WhatsApp error codes").
THROUGHPUT_CODES = frozenset({4, 80007, 130429})  # too many calls / rate limit: slow down
PAIR_RATE_CODE = 131056  # too many messages to the same person in a short time
REENGAGE_CODES = frozenset({131047, 470})  # more than 24 hours since the person last wrote: template only
TEMPORARY_CODES = frozenset({0, 1, 2, 3, 10, 190, 131000, 131016, 131048, 133004})


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    attempt_id: str
    purpose: str  # alert | feedback
    channel: str
    beheerder_id: int | None  # None: a public participant of an operation (WhatsApp only)
    name: str
    phone: str | None
    email: str | None
    text: str
    kind: str | None = None
    broadcast_id: int | None = None
    report_id: int | None = None
    template: bool = False  # WhatsApp: the 24-hour window is closed, send the approved template


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    provider_message_id: str | None = None
    error_code: int | None = None
    error: str | None = None
    retry_after: float | None = None


class ChannelAdapter(Protocol):
    name: str

    async def send(self, message: Outgoing) -> SendResult: ...

    async def aclose(self) -> None: ...


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def one_line(text: str, limit: int = 1000) -> str:
    """Template parameters may not contain newlines, tabs or long runs of spaces."""
    return " ".join(text.split())[:limit]


@dataclass
class WhatsAppChannel:
    http: Poster
    api_base: str
    phone_number_id: str
    access_token: str
    templates: dict[str, WhatsAppTemplate]
    pair_seconds: float = 6.0
    name: str = "whatsapp"
    _url: httpx.URL = field(init=False)

    def __post_init__(self) -> None:
        self._url = httpx.URL(f"{self.api_base.rstrip('/')}/{self.phone_number_id}/messages")  # parsed once

    def payload(self, message: Outgoing) -> dict[str, Any]:
        body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                                "to": (message.phone or "").lstrip("+"), "biz_opaque_callback_data": message.attempt_id}
        template = self.templates.get(message.purpose)
        if message.template and template is not None:
            body["type"] = "template"
            body["template"] = {"name": template.name, "language": {"code": template.language}, "components": [
                {"type": "body", "parameters": [{"type": "text", "text": one_line(message.text)}]}]}
        else:
            body["type"] = "text"
            body["text"] = {"preview_url": False, "body": message.text}
        return body

    async def send(self, message: Outgoing) -> SendResult:
        if not message.phone:
            return SendResult("failed", error="Geen telefoonnummer bekend.")
        content = json.dumps(self.payload(message), ensure_ascii=False).encode()
        headers = {"Authorization": f"Bearer {self.access_token}", "Content-Type": "application/json"}
        try:
            response = await self.http.post(self._url, content=content, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return SendResult("retry", error=f"geen verbinding: {exc!r}"[:300])  # the request never left
        except httpx.HTTPError as exc:
            return SendResult("unknown", error=f"onbekende afloop: {exc!r}"[:300])
        return self.interpret(response)

    def interpret(self, response: httpx.Response) -> SendResult:
        data = _json(response)
        if response.is_success:
            messages = data.get("messages") if isinstance(data, dict) else None
            if isinstance(messages, list) and messages and isinstance(messages[0], dict) and messages[0].get("id"):
                return SendResult("sent", provider_message_id=str(messages[0]["id"]))
            return SendResult("unknown", error="antwoord zonder bericht-id")
        code, error = _graph_error(data, response.status_code)
        return self.classify(code, error, response.status_code, _retry_after(response))

    def classify(self, code: int | None, error: str, status: int | None, retry_after: float | None) -> SendResult:
        return classify_whatsapp_error(code, error, status, retry_after, self.pair_seconds)

    async def aclose(self) -> None:
        await self.http.aclose()


def classify_whatsapp_error(code: int | None, error: str, status: int | None, retry_after: float | None,
                            pair_seconds: float) -> SendResult:
    """What a Cloud API error means for the delivery, from the HTTP answer or a failed status callback."""
    if code in THROUGHPUT_CODES or (status == 429 and code != PAIR_RATE_CODE):
        return SendResult("throttled", error_code=code, error=error, retry_after=retry_after or 1.0)
    if code == PAIR_RATE_CODE:
        return SendResult("throttled", error_code=code, error=error, retry_after=max(retry_after or 0, pair_seconds))
    if code in REENGAGE_CODES:
        return SendResult("reengage", error_code=code, error=error)
    if status is not None and status >= 500:
        return SendResult("unknown", error_code=code, error=error)  # it may have been accepted
    if code in TEMPORARY_CODES or status in (408, 425):
        return SendResult("retry", error_code=code, error=error, retry_after=retry_after)
    return SendResult("failed", error_code=code, error=error)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _graph_error(data: Any, status: int) -> tuple[int | None, str]:
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, f"HTTP {status}"
    code = error.get("code")
    details = error.get("error_data", {}).get("details") if isinstance(error.get("error_data"), dict) else None
    text = str(details or error.get("message") or f"HTTP {status}")
    return (code if isinstance(code, int) else None), text[:300]


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The same scheme as inbound partner webhooks: HMAC-SHA256 over "<timestamp>.<body>"."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@dataclass
class WebhookChannel:
    """Alerts for partner apps, signed. Resending after an unknown outcome is safe: the partner drops a
    repeated X-Meldkamer-Delivery id."""

    http: Poster
    url: str
    secret: str
    name: str = "webhook"
    _url: httpx.URL = field(init=False)

    def __post_init__(self) -> None:
        self._url = httpx.URL(self.url)

    async def send(self, message: Outgoing) -> SendResult:
        body = json.dumps({
            "delivery_id": message.delivery_id, "attempt_id": message.attempt_id, "purpose": message.purpose,
            "kind": message.kind, "broadcast_id": message.broadcast_id, "report_id": message.report_id,
            "beheerder": {"id": message.beheerder_id, "name": message.name, "phone": message.phone},
            "text": message.text,
        }, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", WEBHOOK_TIMESTAMP: timestamp,
                   WEBHOOK_SIGNATURE: webhook_signature(self.secret, timestamp, body),
                   WEBHOOK_DELIVERY: str(message.delivery_id)}
        try:
            response = await self.http.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return SendResult("retry", error=f"webhook: {exc!r}"[:300])
        if response.is_success:
            return SendResult("delivered", provider_message_id=f"webhook:{message.delivery_id}")
        if response.status_code in (408, 425, 429) or response.status_code >= 500:
            return SendResult("retry", error=f"webhook HTTP {response.status_code}",
                              retry_after=_retry_after(response))
        return SendResult("failed", error=f"webhook HTTP {response.status_code}")

    async def aclose(self) -> None:
        await self.http.aclose()


class AppChannel:
    """In-app: the worker writes the "alert"/"feedback" event on the beheerder's stream in the same
    transaction that records the delivery, so it is there exactly once."""

    name = "app"

    async def send(self, message: Outgoing) -> SendResult:
        return SendResult("delivered", provider_message_id=f"app:{message.delivery_id}")

    async def aclose(self) -> None:
        return None


class EmailSender(Protocol):
    async def send(self, *, to: str, subject: str, body: str, message_id: str) -> None: ...


class LogEmailSender:
    """No SMTP server here: logs that a mail would go out and keeps it for inspection."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []

    async def send(self, *, to: str, subject: str, body: str, message_id: str) -> None:
        self.sent.append({"to": to, "subject": subject, "body": body, "message_id": message_id})
        logger.info("e-mail (log only)", extra={"to_domain": to.rpartition("@")[2], "message_id": message_id})


@dataclass
class EmailChannel:
    sender: EmailSender
    name: str = "email"

    async def send(self, message: Outgoing) -> SendResult:
        if not message.email:
            return SendResult("failed", error="Geen e-mailadres bekend.")
        subject = "Bericht van de politie" if message.purpose == "alert" else "Terugkoppeling van de politie"
        try:
            # The delivery id as Message-ID lets a resend after an unknown outcome be recognised as the same mail.
            await self.sender.send(to=message.email, subject=subject, body=message.text,
                                   message_id=f"<delivery-{message.delivery_id}@meldkamer>")
        except Exception as exc:  # an adapter error is a retry, never a crash of the worker
            return SendResult("retry", error=f"e-mail: {exc!r}"[:300])
        return SendResult("delivered", provider_message_id=f"email:{message.delivery_id}")

    async def aclose(self) -> None:
        return None


def http_poster(settings: Settings) -> Poster:
    return Poster(LeanTransport(CONNECTIONS), settings.broadcast_http_timeout_seconds)


def build_channels(settings: Settings, templates: dict[str, WhatsAppTemplate],
                   email_sender: EmailSender | None = None) -> dict[str, ChannelAdapter]:
    """The adapters this configuration can use; a delivery for a channel that is missing falls back."""
    channels: dict[str, ChannelAdapter] = {"app": AppChannel(), "email": EmailChannel(email_sender or LogEmailSender())}
    available = available_channels(settings)
    if "whatsapp" in available:
        channels["whatsapp"] = WhatsAppChannel(
            http_poster(settings), settings.whatsapp_api_base, str(settings.whatsapp_phone_number_id),
            _secret(settings.whatsapp_access_token), templates, pair_seconds=settings.broadcast_whatsapp_pair_seconds)
    if "webhook" in available:
        channels["webhook"] = WebhookChannel(http_poster(settings), str(settings.broadcast_webhook_url),
                                             _secret(settings.broadcast_webhook_secret))
    return channels


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def available_channels(settings: Settings) -> frozenset[str]:
    """Channels this configuration can send on; in-app and e-mail (log adapter) always work."""
    names = {"app", "email"}
    if _secret(settings.whatsapp_access_token) and settings.whatsapp_phone_number_id:
        names.add("whatsapp")
    if settings.broadcast_webhook_url and _secret(settings.broadcast_webhook_secret):
        names.add("webhook")
    return frozenset(names)
