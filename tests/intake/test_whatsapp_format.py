import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from app.intake.whatsapp import (
    MalformedWebhook,
    compute_signature,
    parse_webhook,
    verify_handshake,
    verify_signature,
)

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
SENDER = "31612345678"
TS = "1749416383"
TS_DT = datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC)


def envelope(value_extra: dict[str, Any], *, field: str = "messages") -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "31850001234", "phone_number_id": PHONE_NUMBER_ID},
        **value_extra,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": field}]}],
    }


def inbound(message: dict[str, Any], *, name: str = "Beheerder Westwijk 3") -> dict[str, Any]:
    base = {
        "from": SENDER,
        "id": "wamid.HBgLMzE2MTIzNDU2NzgVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
        "timestamp": TS,
    }
    return envelope(
        {"contacts": [{"profile": {"name": name}, "wa_id": SENDER}], "messages": [{**base, **message}]}
    )


# --- messages ---------------------------------------------------------------------------------------


def test_text_message() -> None:
    payload = inbound({"type": "text", "text": {"body": "Man kijkt in auto's op de Bovenkerkerweg"}})

    batch = parse_webhook(payload)

    assert batch.statuses == () and batch.errors == ()
    (message,) = batch.messages
    assert message.message_id.startswith("wamid.")
    assert message.from_phone_e164 == "+31612345678"
    assert message.timestamp == TS_DT
    assert message.timestamp.tzinfo is not None
    assert message.kind == "text" and message.raw_type == "text"
    assert message.text == "Man kijkt in auto's op de Bovenkerkerweg"
    assert message.media_id is None and message.lat is None
    assert message.forwarded is False
    assert message.reply_to_message_id is None
    assert message.profile_name == "Beheerder Westwijk 3"
    assert message.phone_number_id == PHONE_NUMBER_ID


def test_forwarded_text() -> None:
    payload = inbound(
        {"type": "text", "text": {"body": "Doorgestuurd uit de groep"}, "context": {"forwarded": True}}
    )

    (message,) = parse_webhook(payload).messages

    assert message.forwarded is True
    assert message.reply_to_message_id is None


def test_frequently_forwarded_counts_as_forwarded() -> None:
    payload = inbound({"type": "text", "text": {"body": "x"}, "context": {"frequently_forwarded": True}})

    assert parse_webhook(payload).messages[0].forwarded is True


def test_reply_context() -> None:
    payload = inbound(
        {"type": "text", "text": {"body": "ja, nu"}, "context": {"from": "31850001234", "id": "wamid.ORIG"}}
    )

    (message,) = parse_webhook(payload).messages

    assert message.reply_to_message_id == "wamid.ORIG"
    assert message.forwarded is False


def test_image_with_caption() -> None:
    image = {
        "caption": "Deze man probeerde deuren",
        "mime_type": "image/jpeg",
        "sha256": "i1b4Ya1u1zMMRtdHPGWuNN+JbUcN7bMe+Km3L1GDGok=",
        "id": "1013859600285441",
    }
    payload = inbound({"type": "image", "image": image, "context": {"forwarded": True}})

    (message,) = parse_webhook(payload).messages

    assert message.kind == "image"
    assert message.text == "Deze man probeerde deuren"
    assert message.media_id == "1013859600285441"
    assert message.media_mime == "image/jpeg"
    assert message.forwarded is True


def test_image_without_caption() -> None:
    payload = inbound({"type": "image", "image": {"mime_type": "image/webp", "id": "42"}})

    (message,) = parse_webhook(payload).messages

    assert message.kind == "image" and message.text is None and message.media_id == "42"


def test_location() -> None:
    location = {
        "latitude": 52.2903,
        "longitude": 4.8448,
        "name": "Winkelcentrum Westwijk",
        "address": "Westwijkplein 1, Amstelveen",
    }
    payload = inbound({"type": "location", "location": location})

    (message,) = parse_webhook(payload).messages

    assert message.kind == "location"
    assert (message.lat, message.lon) == (52.2903, 4.8448)
    assert message.location_name == "Winkelcentrum Westwijk"
    assert message.location_address == "Westwijkplein 1, Amstelveen"
    assert message.text is None


def test_location_without_name_or_address() -> None:
    payload = inbound({"type": "location", "location": {"latitude": "52.1", "longitude": "4.9"}})

    (message,) = parse_webhook(payload).messages

    assert message.kind == "location"
    assert (message.lat, message.lon) == (52.1, 4.9)
    assert message.location_name is None and message.location_address is None


def test_location_with_impossible_coordinates_is_other() -> None:
    payload = inbound({"type": "location", "location": {"latitude": 200, "longitude": 4.9}})

    (message,) = parse_webhook(payload).messages

    assert message.kind == "other" and message.raw_type == "location" and message.lat is None


@pytest.mark.parametrize(
    "message",
    [
        {"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "\U0001f44d"}},
        {
            "type": "sticker",
            "sticker": {"mime_type": "image/webp", "sha256": "abc", "id": "77", "animated": False},
        },
        {
            "type": "unsupported",
            "errors": [{"code": 131051, "title": "Message type unknown", "error_data": {"details": "x"}}],
        },
        {"type": "audio", "audio": {"mime_type": "audio/ogg; codecs=opus", "id": "9", "voice": True}},
        {
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": "b", "title": "Ja"}},
        },
        {"type": "brand_new_type_2031", "brand_new_type_2031": "whatever"},
    ],
    ids=lambda m: m["type"],
)
def test_other_message_types_become_other(message: dict[str, Any]) -> None:
    (parsed,) = parse_webhook(inbound(message)).messages

    assert parsed.kind == "other"
    assert parsed.raw_type == message["type"]
    assert parsed.media_id is None
    assert parsed.from_phone_e164 == "+31612345678"


def test_reaction_carries_its_emoji_and_the_reacted_to_message() -> None:
    payload = inbound({"type": "reaction", "reaction": {"message_id": "wamid.ALERT1", "emoji": "\U0001f44d"}})

    (message,) = parse_webhook(payload).messages

    assert message.kind == "other" and message.raw_type == "reaction"
    assert message.text == "\U0001f44d"
    assert message.reply_to_message_id == "wamid.ALERT1"


def test_removed_reaction_has_no_text() -> None:
    payload = inbound({"type": "reaction", "reaction": {"message_id": "wamid.ALERT1", "emoji": ""}})

    (message,) = parse_webhook(payload).messages

    assert message.text is None and message.reply_to_message_id == "wamid.ALERT1"


def test_video_caption_is_kept_as_text() -> None:
    payload = inbound(
        {"type": "video", "video": {"caption": "camerabeelden", "id": "5", "mime_type": "video/mp4"}}
    )

    (message,) = parse_webhook(payload).messages

    assert message.kind == "other" and message.text == "camerabeelden"


def test_username_sender_without_phone_number() -> None:
    payload = envelope(
        {
            "contacts": [{"profile": {"name": "Anoniem"}, "user_id": "NL.1234567890"}],
            "messages": [
                {
                    "from_user_id": "NL.1234567890",
                    "id": "wamid.U",
                    "timestamp": TS,
                    "type": "text",
                    "text": {"body": "hoi"},
                }
            ],
        }
    )

    (message,) = parse_webhook(payload).messages

    assert message.from_phone_e164 is None
    assert message.from_user_id == "NL.1234567890"
    assert message.profile_name == "Anoniem"


def test_several_messages_and_entries() -> None:
    first = inbound({"type": "text", "text": {"body": "een"}, "id": "wamid.1"})
    second = inbound({"type": "text", "text": {"body": "twee"}, "id": "wamid.2"}, name="Ander")
    second["entry"][0]["changes"][0]["value"]["messages"][0]["from"] = "31687654321"
    second["entry"][0]["changes"][0]["value"]["contacts"][0]["wa_id"] = "31687654321"
    first["entry"][0]["changes"][0]["value"]["messages"].append(
        {"from": SENDER, "id": "wamid.3", "timestamp": TS, "type": "text", "text": {"body": "drie"}}
    )
    payload = {"object": "whatsapp_business_account", "entry": first["entry"] + second["entry"]}

    batch = parse_webhook(payload)

    assert [m.message_id for m in batch.messages] == ["wamid.1", "wamid.3", "wamid.2"]
    assert [m.profile_name for m in batch.messages] == [
        "Beheerder Westwijk 3",
        "Beheerder Westwijk 3",
        "Ander",
    ]
    assert batch.messages[2].from_phone_e164 == "+31687654321"


def test_non_message_fields_are_ignored() -> None:
    template_update = envelope({}, field="message_template_status_update")
    template_update["entry"][0]["changes"][0]["value"] = {"event": "APPROVED", "message_template_id": 1}

    batch = parse_webhook(template_update)

    assert batch.messages == () and batch.statuses == ()


def test_value_level_errors() -> None:
    error = {
        "code": 130429,
        "title": "Rate limit hit",
        "message": "(#130429) Rate limit hit",
        "error_data": {"details": "Cloud API message throughput has been reached."},
    }

    (parsed,) = parse_webhook(envelope({"errors": [error]})).errors

    assert parsed.code == 130429
    assert parsed.details == "Cloud API message throughput has been reached."
    assert parsed.phone_number_id == PHONE_NUMBER_ID


# --- statuses ---------------------------------------------------------------------------------------


def status(value: str, **extra: Any) -> dict[str, Any]:
    return {"id": "wamid.OUT1", "status": value, "timestamp": TS, "recipient_id": SENDER, **extra}


@pytest.mark.parametrize("value", ["sent", "delivered", "read"])
def test_status_updates(value: str) -> None:
    item = status(
        value,
        biz_opaque_callback_data="alert:17:beheerder:4",
        conversation={"id": "c1", "origin": {"type": "utility"}},
        pricing={"billable": True, "pricing_model": "PMP", "category": "utility"},
    )

    (update,) = parse_webhook(envelope({"statuses": [item]})).statuses

    assert update.message_id == "wamid.OUT1"
    assert update.status == value
    assert update.recipient_phone_e164 == "+31612345678"
    assert update.timestamp == TS_DT
    assert update.biz_opaque_callback_data == "alert:17:beheerder:4"
    assert update.error_code is None and update.error_title is None


def test_failed_status_with_errors() -> None:
    errors = [
        {
            "code": 131026,
            "title": "Message undeliverable",
            "message": "Message undeliverable",
            "error_data": {"details": "Message Undeliverable."},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }
    ]
    item = status("failed", errors=errors, biz_opaque_callback_data="alert:18:beheerder:9")

    (update,) = parse_webhook(envelope({"statuses": [item]})).statuses

    assert update.status == "failed"
    assert update.error_code == 131026
    assert update.error_title == "Message undeliverable"
    assert update.error_details == "Message Undeliverable."
    assert update.biz_opaque_callback_data == "alert:18:beheerder:9"


def test_unknown_status_values_are_skipped() -> None:
    batch = parse_webhook(envelope({"statuses": [status("deleted"), status("read")]}))

    assert [s.status for s in batch.statuses] == ["read"]


def test_messages_and_statuses_in_one_batch() -> None:
    payload = inbound({"type": "text", "text": {"body": "x"}})
    payload["entry"][0]["changes"][0]["value"]["statuses"] = [status("delivered")]

    batch = parse_webhook(payload)

    assert len(batch.messages) == 1 and len(batch.statuses) == 1


# --- malformed ----------------------------------------------------------------------------------------


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    payload = copy.deepcopy(inbound({"type": "text", "text": {"body": "x"}}))
    target: Any = payload
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return payload


MESSAGE = ["entry", 0, "changes", 0, "value", "messages", 0]


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "x",
        {"object": "page", "entry": []},
        {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": {"id": "1"}},
        {"object": "whatsapp_business_account", "entry": ["nope"]},
        _broken(["entry", 0, "changes"], {"field": "messages"}),
        _broken(["entry", 0, "changes", 0, "value"], None),
        _broken(["entry", 0, "changes", 0, "value", "messages"], {"id": "x"}),
    ],
)
def test_malformed_payloads_raise(payload: Any) -> None:
    with pytest.raises(MalformedWebhook):
        parse_webhook(payload)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (MESSAGE, "text"),
        ([*MESSAGE, "id"], KeyError),
        ([*MESSAGE, "id"], "w" * 300),
        ([*MESSAGE, "from"], KeyError),
        ([*MESSAGE, "type"], KeyError),
        ([*MESSAGE, "timestamp"], "gisteren"),
        ([*MESSAGE, "timestamp"], KeyError),
    ],
)
def test_a_malformed_message_is_rejected_alone_and_the_others_are_kept(path: list[Any], value: Any) -> None:
    payload = _broken(path, value)
    messages = payload["entry"][0]["changes"][0]["value"]["messages"]
    good = copy.deepcopy(inbound({"type": "text", "text": {"body": "goed"}}))["entry"][0]["changes"][0]["value"]
    messages.append({**good["messages"][0], "id": "wamid.good"})

    batch = parse_webhook(payload)

    assert [m.message_id for m in batch.messages] == ["wamid.good"]
    [rejected] = batch.rejected
    assert rejected.external_id.startswith("wa:") and len(rejected.external_id) <= 200 and rejected.reason


def test_a_status_without_recipient_is_dropped_alone() -> None:
    item = status("sent")
    del item["recipient_id"]

    batch = parse_webhook(envelope({"statuses": [item, status("read")]}))

    assert [s.status for s in batch.statuses] == ["read"]


def test_entry_without_changes_is_empty() -> None:
    payload = {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID}]}

    assert parse_webhook(payload).messages == ()


# --- signature and handshake ------------------------------------------------------------------------

SECRET = "app-secret-123"
BODY = json.dumps(inbound({"type": "text", "text": {"body": "x"}})).encode()


def test_good_signature() -> None:
    header = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()

    assert verify_signature(BODY, header, SECRET) is True
    assert compute_signature(BODY, SECRET) == header


def test_signature_is_case_insensitive_in_hex() -> None:
    assert verify_signature(
        BODY, compute_signature(BODY, SECRET).upper().replace("SHA256=", "sha256="), SECRET
    )


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha256=nothex",
        "sha1=" + hashlib.sha1(BODY).hexdigest(),
        hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest(),  # prefix missing
        "sha256=" + hmac.new(b"wrong-secret", BODY, hashlib.sha256).hexdigest(),
        "sha256=" + hmac.new(SECRET.encode(), BODY + b" ", hashlib.sha256).hexdigest(),
    ],
)
def test_bad_signatures(header: str | None) -> None:
    assert verify_signature(BODY, header, SECRET) is False


def test_signature_with_empty_secret_is_refused() -> None:
    assert verify_signature(BODY, compute_signature(BODY, ""), "") is False


def test_handshake() -> None:
    assert verify_handshake("subscribe", "verify-me", "1158201444", "verify-me") == "1158201444"
    assert verify_handshake("subscribe", "wrong", "1158201444", "verify-me") is None
    assert verify_handshake("unsubscribe", "verify-me", "1158201444", "verify-me") is None
    assert verify_handshake(None, None, None, "verify-me") is None
    assert verify_handshake("subscribe", "", "c", "") is None
