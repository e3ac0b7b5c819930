"""WhatsApp Business Cloud API inbound format: signature, verification handshake and webhook parsing.

Pure functions only; the HTTP endpoint lives elsewhere. The payload shape is Meta's `messages` webhook:
``{"object": "whatsapp_business_account", "entry": [{"id", "changes": [{"field": "messages",
"value": {"messaging_product", "metadata", "contacts", "messages", "statuses", "errors"}}]}]}``.

Changes with another `field` (template status, account updates, ...) are ignored. Message types other
than text, image and location become kind ``"other"`` with their `raw_type` (a reaction keeps its emoji as
`text` and the reacted-to message as `reply_to_message_id`; a quick-reply button its title as `text` and its
payload as `button_payload`); status values other than
sent/delivered/read/failed are skipped. A payload that does not have the documented shape raises
`MalformedWebhook`.

WhatsApp usernames (2026): every message carries the sender's business-scoped user id ("BSUID", e.g.
``NL.1234567890123456``) as ``messages[].from_user_id`` and ``contacts[].user_id``; a sender who hides their
number has no ``from``/``wa_id``. Such messages have ``from_phone_e164 = None`` and ``from_user_id`` set. An id
missing from the message is taken from its contact entry when that entry links the two.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

logger = logging.getLogger("app.intake.whatsapp")
SIGNATURE_HEADER = "X-Hub-Signature-256"
# A business-scoped user id: the user's ISO country code, a dot, up to 128 letters and digits; a parent BSUID
# (shared by linked business portfolios) has "ENT." after the country code.
BSUID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")
_SIGNATURE_PREFIX = "sha256="

MessageKind = Literal["text", "image", "location", "other"]
DeliveryStatus = Literal["sent", "delivered", "read", "failed"]
_DELIVERY_STATUSES: frozenset[str] = frozenset({"sent", "delivered", "read", "failed"})


class MalformedWebhook(ValueError):
    """The payload is not a WhatsApp Business Account webhook of the documented shape."""


@dataclass(frozen=True, kw_only=True)
class InboundMessage:
    message_id: str
    from_phone_e164: str | None
    timestamp: datetime
    kind: MessageKind
    text: str | None
    media_id: str | None
    media_mime: str | None
    lat: float | None
    lon: float | None
    location_name: str | None
    location_address: str | None
    forwarded: bool
    reply_to_message_id: str | None
    profile_name: str | None
    raw_type: str
    from_user_id: str | None = None
    phone_number_id: str | None = None
    button_payload: str | None = None  # a quick-reply button's payload (its title is `text`)


@dataclass(frozen=True, kw_only=True)
class StatusUpdate:
    message_id: str
    recipient_phone_e164: str | None
    status: DeliveryStatus
    timestamp: datetime
    error_code: int | None
    error_title: str | None
    biz_opaque_callback_data: str | None
    error_details: str | None = None
    recipient_user_id: str | None = None
    phone_number_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class WebhookError:
    """A system- or account-level error reported in ``value.errors`` (not tied to one message)."""

    code: int | None
    title: str | None
    message: str | None
    details: str | None
    phone_number_id: str | None


@dataclass(frozen=True, kw_only=True)
class RejectedMessage:
    """A message of the batch that does not have the documented shape: quarantined, the rest goes on."""

    external_id: str  # "wa:<id>", or for a message without a usable id "wa:ongeldig:<digest of the message>"
    sender: str | None
    text: str | None
    reason: str


@dataclass(frozen=True)
class WebhookBatch:
    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()
    errors: tuple[WebhookError, ...] = ()
    rejected: tuple[RejectedMessage, ...] = ()


# --- signature and handshake -------------------------------------------------------------------


def compute_signature(raw_body: bytes, app_secret: str) -> str:
    """The header value Meta would send for `raw_body` (handy for tests and the fake)."""
    digest = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return f"{_SIGNATURE_PREFIX}{digest}"


def verify_signature(raw_body: bytes, header_value: str | None, app_secret: str) -> bool:
    """Check ``X-Hub-Signature-256: sha256=<hex>`` against an HMAC-SHA256 of the raw request body."""
    if not header_value or not app_secret or not header_value.startswith(_SIGNATURE_PREFIX):
        return False
    received = header_value[len(_SIGNATURE_PREFIX) :].strip().lower()
    if len(received) != 64 or any(c not in "0123456789abcdef" for c in received):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(received, expected)


def verify_handshake(
    mode: str | None, token: str | None, challenge: str | None, expected_token: str
) -> str | None:
    """The challenge to echo for ``GET ?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..``."""
    if mode != "subscribe" or token is None or challenge is None or not expected_token:
        return None
    if not hmac.compare_digest(token.encode(), expected_token.encode()):
        return None
    return challenge


# --- small typed accessors ------------------------------------------------------------------------


def _obj(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedWebhook(f"{where}: expected an object")
    return cast(Mapping[str, Any], value)


def _list(value: object, where: str, *, optional: bool = True) -> list[Any]:
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise MalformedWebhook(f"{where}: expected a list")
    return value


MAX_ID_LENGTH = 128  # Meta's ids are far shorter; ours are stored in columns of 128-200 characters


def _str(value: object, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise MalformedWebhook(f"{where}: expected a non-empty string")
    if len(str(value)) > MAX_ID_LENGTH:
        raise MalformedWebhook(f"{where}: longer than {MAX_ID_LENGTH} characters")
    return str(value)


def _opt_str(value: object) -> str | None:
    if isinstance(value, str) and value != "":
        return value
    return None


def _opt_id(value: object, where: str) -> str | None:
    return _str(value, where) if _opt_str(value) is not None else None


def _opt_float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value) if isinstance(value, int | float | str) else None
    except ValueError:
        return None


def _opt_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value) if isinstance(value, int | str) else None
    except ValueError:
        return None


def _timestamp(value: object, where: str) -> datetime:
    seconds = _opt_int(value)
    if seconds is None or seconds < 0:
        raise MalformedWebhook(f"{where}: expected a unix timestamp")
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedWebhook(f"{where}: timestamp out of range") from exc


def _e164(wa_id: object) -> str | None:
    if not isinstance(wa_id, str | int) or isinstance(wa_id, bool):
        return None
    digits = "".join(ch for ch in str(wa_id) if ch.isdigit())
    return f"+{digits}" if digits else None


# --- messages -------------------------------------------------------------------------------------


def _profile_names(contacts: list[Any]) -> dict[str, str]:
    """wa_id and user_id -> profile name."""
    names: dict[str, str] = {}
    for index, raw in enumerate(contacts):
        contact = _obj(raw, f"contacts[{index}]")
        profile = contact.get("profile")
        name = _opt_str(profile.get("name")) if isinstance(profile, Mapping) else None
        if name is None:
            continue
        for key in ("wa_id", "user_id"):
            ident = contact.get(key)
            if isinstance(ident, str | int) and not isinstance(ident, bool):
                names[str(ident)] = name
    return names


def _linked_ids(contacts: list[Any]) -> dict[str, str]:
    """wa_id -> user_id and user_id -> wa_id, for the contacts that carry both."""
    links: dict[str, str] = {}
    for contact in contacts:
        if not isinstance(contact, Mapping):
            continue
        wa_id, user_id = contact.get("wa_id"), _opt_str(contact.get("user_id"))
        if isinstance(wa_id, str | int) and not isinstance(wa_id, bool) and user_id is not None:
            links[str(wa_id)], links[user_id] = user_id, str(wa_id)
    return links


def _profile_name(names: Mapping[str, str], sender: object, user_id: str | None) -> str | None:
    name = names.get(str(sender)) if sender is not None else None
    if name is None and user_id is not None:
        name = names.get(user_id)
    return name


@dataclass(frozen=True)
class _Content:
    kind: MessageKind
    text: str | None = None
    media_id: str | None = None
    media_mime: str | None = None
    lat: float | None = None
    lon: float | None = None
    location_name: str | None = None
    location_address: str | None = None
    button_payload: str | None = None


def _button_reply(raw_type: str, part: Mapping[str, Any]) -> _Content:
    """A template's quick-reply button ({"text", "payload"}) or an interactive button reply ({"id", "title"})."""
    if raw_type == "interactive":
        reply = part.get("button_reply")
        part = cast(Mapping[str, Any], reply) if isinstance(reply, Mapping) else {}
        return _Content("other", text=_opt_str(part.get("title")), button_payload=_opt_str(part.get("id")))
    return _Content("other", text=_opt_str(part.get("text")), button_payload=_opt_str(part.get("payload")))


def _content(message: Mapping[str, Any], raw_type: str) -> _Content:
    body = message.get(raw_type)
    part: Mapping[str, Any] = cast(Mapping[str, Any], body) if isinstance(body, Mapping) else {}
    if raw_type == "text":
        return _Content("text", text=_opt_str(part.get("body")))
    if raw_type == "image":
        return _Content(
            "image",
            text=_opt_str(part.get("caption")),
            media_id=_opt_id(part.get("id"), "image.id"),
            media_mime=_opt_str(part.get("mime_type")),
        )
    if raw_type == "location":
        lat, lon = _opt_float(part.get("latitude")), _opt_float(part.get("longitude"))
        if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
            return _Content("other")
        return _Content(
            "location",
            lat=lat,
            lon=lon,
            location_name=_opt_str(part.get("name")),
            location_address=_opt_str(part.get("address")),
        )
    if raw_type in ("button", "interactive"):  # kind "other": an answer, never a report
        return _button_reply(raw_type, part)
    if raw_type == "reaction":  # kind "other"; the emoji as text, the reacted-to message as reply_to_message_id
        return _Content("other", text=_opt_str(part.get("emoji")))
    return _Content("other", text=_opt_str(part.get("caption")))


def _parse_message(
    raw: object, where: str, names: Mapping[str, str], links: Mapping[str, str], phone_number_id: str | None
) -> InboundMessage:
    message = _obj(raw, where)
    raw_type = _str(message.get("type"), f"{where}.type")
    sender = message.get("from")
    user_id = _opt_str(message.get("from_user_id")) or (links.get(str(sender)) if sender is not None else None)
    if sender is None and user_id is not None:
        sender = links.get(user_id)
    phone = _e164(sender)
    if phone is None and user_id is None:
        raise MalformedWebhook(f"{where}: no sender ('from' or 'from_user_id')")
    context = message.get("context")
    ctx: Mapping[str, Any] = cast(Mapping[str, Any], context) if isinstance(context, Mapping) else {}
    content = _content(message, raw_type)
    reply_to = _opt_str(ctx.get("id"))
    reaction = message.get("reaction")
    if raw_type == "reaction" and isinstance(reaction, Mapping):
        reply_to = _opt_str(reaction.get("message_id")) or reply_to
    return InboundMessage(
        message_id=_str(message.get("id"), f"{where}.id"),
        from_phone_e164=phone,
        from_user_id=user_id,
        timestamp=_timestamp(message.get("timestamp"), f"{where}.timestamp"),
        kind=content.kind,
        text=content.text,
        media_id=content.media_id,
        media_mime=content.media_mime,
        lat=content.lat,
        lon=content.lon,
        location_name=content.location_name,
        location_address=content.location_address,
        forwarded=ctx.get("forwarded") is True or ctx.get("frequently_forwarded") is True,
        reply_to_message_id=reply_to,
        profile_name=_profile_name(names, sender, user_id),
        raw_type=raw_type,
        phone_number_id=phone_number_id,
        button_payload=content.button_payload,
    )


# --- statuses and errors --------------------------------------------------------------------------


def _first_error(errors: list[Any]) -> Mapping[str, Any]:
    for item in errors:
        if isinstance(item, Mapping):
            return cast(Mapping[str, Any], item)
    return {}


def _error_details(error: Mapping[str, Any]) -> str | None:
    data = error.get("error_data")
    if isinstance(data, Mapping):
        return _opt_str(data.get("details"))
    return _opt_str(error.get("details"))


def _parse_status(raw: object, where: str, phone_number_id: str | None) -> StatusUpdate | None:
    status = _obj(raw, where)
    value = _str(status.get("status"), f"{where}.status")
    if value not in _DELIVERY_STATUSES:
        return None
    recipient = _e164(status.get("recipient_id"))
    recipient_user_id = _opt_str(status.get("recipient_user_id"))
    if recipient is None and recipient_user_id is None:
        raise MalformedWebhook(f"{where}: no recipient")
    error = _first_error(_list(status.get("errors"), f"{where}.errors"))
    return StatusUpdate(
        message_id=_str(status.get("id"), f"{where}.id"),
        recipient_phone_e164=recipient,
        recipient_user_id=recipient_user_id,
        status=cast(DeliveryStatus, value),
        timestamp=_timestamp(status.get("timestamp"), f"{where}.timestamp"),
        error_code=_opt_int(error.get("code")),
        error_title=_opt_str(error.get("title")) or _opt_str(error.get("message")),
        error_details=_error_details(error),
        biz_opaque_callback_data=_opt_str(status.get("biz_opaque_callback_data")),
        phone_number_id=phone_number_id,
    )


def _parse_error(raw: object, where: str, phone_number_id: str | None) -> WebhookError:
    error = _obj(raw, where)
    return WebhookError(
        code=_opt_int(error.get("code")),
        title=_opt_str(error.get("title")),
        message=_opt_str(error.get("message")),
        details=_error_details(error),
        phone_number_id=phone_number_id,
    )


# --- the batch ------------------------------------------------------------------------------------


def _rejected(raw: object, reason: str) -> RejectedMessage:
    message: Mapping[str, Any] = cast(Mapping[str, Any], raw) if isinstance(raw, Mapping) else {}
    ident = message.get("id")
    if isinstance(ident, str) and 0 < len(ident) <= MAX_ID_LENGTH:
        external_id = f"wa:{ident}"
    else:  # the same broken message, sent again by Meta, gets the same id and is quarantined once
        digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:40]
        external_id = f"wa:ongeldig:{digest}"
    sender = _opt_str(message.get("from")) or _opt_str(message.get("from_user_id"))
    text = message.get("text")
    body = _opt_str(text.get("body")) if isinstance(text, Mapping) else None
    return RejectedMessage(external_id=external_id, sender=sender[:160] if sender else None, text=body,
                           reason=reason)


@dataclass
class _Collector:
    messages: list[InboundMessage]
    statuses: list[StatusUpdate]
    errors: list[WebhookError]
    rejected: list[RejectedMessage]


def _parse_value(value: Mapping[str, Any], where: str, batch: _Collector) -> None:
    """One bad message or status does not cost the others: the message is kept as rejected, the status dropped."""
    metadata = value.get("metadata")
    phone_number_id = _opt_str(metadata.get("phone_number_id")) if isinstance(metadata, Mapping) else None
    contacts = _list(value.get("contacts"), f"{where}.contacts")
    names, links = _profile_names(contacts), _linked_ids(contacts)
    for i, raw in enumerate(_list(value.get("messages"), f"{where}.messages")):
        try:
            batch.messages.append(_parse_message(raw, f"{where}.messages[{i}]", names, links, phone_number_id))
        except MalformedWebhook as exc:
            batch.rejected.append(_rejected(raw, str(exc)))
    for i, raw in enumerate(_list(value.get("statuses"), f"{where}.statuses")):
        try:
            status = _parse_status(raw, f"{where}.statuses[{i}]", phone_number_id)
        except MalformedWebhook as exc:
            logger.warning("dropped a malformed status callback: %s", exc)
            continue
        if status is not None:
            batch.statuses.append(status)
    for i, raw in enumerate(_list(value.get("errors"), f"{where}.errors")):
        batch.errors.append(_parse_error(raw, f"{where}.errors[{i}]", phone_number_id))


def parse_webhook(payload: object) -> WebhookBatch:
    """Turn a decoded webhook body into typed messages, delivery statuses and errors."""
    root = _obj(payload, "payload")
    if root.get("object") != "whatsapp_business_account":
        raise MalformedWebhook("payload.object: expected 'whatsapp_business_account'")
    batch = _Collector([], [], [], [])
    for e, raw_entry in enumerate(_list(root.get("entry"), "payload.entry", optional=False)):
        entry = _obj(raw_entry, f"entry[{e}]")
        for c, raw_change in enumerate(_list(entry.get("changes"), f"entry[{e}].changes")):
            change = _obj(raw_change, f"entry[{e}].changes[{c}]")
            if change.get("field") != "messages":
                continue
            where = f"entry[{e}].changes[{c}].value"
            _parse_value(_obj(change.get("value"), where), where, batch)
    return WebhookBatch(tuple(batch.messages), tuple(batch.statuses), tuple(batch.errors), tuple(batch.rejected))
