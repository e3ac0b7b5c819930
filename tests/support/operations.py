"""Operation test helpers: a clock the test moves, creating an operation through the API, and WhatsApp answers
through the signed webhook."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from app.broadcast.models import Delivery
from app.intake.whatsapp import compute_signature
from tests.fakes.graph_api import text_message
from tests.support import builders
from tests.support.settings import TEST_SECRETS

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WESTWIJK, MIDDENHOVEN = "WK036204", "WK036205"


class FakeClock:
    """The operations' clock (app.state.operations_clock); starts at `now`, moves only when told."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set_local(self, text: str) -> None:
        """ "2026-10-25T02:30+01:00": an Amsterdam time, with its offset where it would be ambiguous."""
        moment = datetime.fromisoformat(text)
        self.now = (moment if moment.tzinfo else moment.replace(tzinfo=AMSTERDAM)).astimezone(UTC)


def operation_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "DDO Westwijk", "kind": "ddo", "area": {"wijkcodes": [WESTWIJK]},
        "starts_at": "2026-12-12T17:00:00", "ends_at": "2026-12-12T23:00:00",
        "briefing": "Let op mensen die aan deuren en ramen voelen. Bel 112, spreek niemand aan, maak geen foto's.",
    }
    body.update(overrides)
    return body


async def create(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/operations", headers=headers, json=operation_body(**overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def webhook(client: httpx.AsyncClient, *messages: dict[str, Any]) -> list[str]:
    """Posts the messages as Meta would, signed; the webhook's outcome per message."""
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "messages": list(messages),
                                       "metadata": {"display_phone_number": "31850001234",
                                                    "phone_number_id": TEST_SECRETS["whatsapp_phone_number_id"]}}}]}]}
    raw = json.dumps(payload).encode()
    response = await client.post("/webhooks/whatsapp", content=raw, headers={
        "Content-Type": "application/json",
        "X-Hub-Signature-256": compute_signature(raw, TEST_SECRETS["whatsapp_app_secret"])})
    assert response.status_code == 200, response.text
    outcomes: list[str] = response.json()["messages"]
    return outcomes


def wa_id(beheerder: builders.BeheerderAccount) -> str:
    return str(beheerder.phone).lstrip("+")


def typed(beheerder: builders.BeheerderAccount, text: str, *, reply_to: str | None = None,
          message_id: str | None = None) -> dict[str, Any]:
    message = text_message(wa_id(beheerder), text, message_id=message_id)
    if reply_to is not None:
        message["context"] = {"from": "31850001234", "id": reply_to}
    return message


def button(beheerder: builders.BeheerderAccount, title: str, payload: str, *, reply_to: str) -> dict[str, Any]:
    """A tap on a template's quick-reply button."""
    message = text_message(wa_id(beheerder), "")
    del message["text"]
    message.update(type="button", button={"text": title, "payload": payload},
                   context={"from": "31850001234", "id": reply_to})
    return message


async def deliveries_to(app: Any, beheerder_id: int) -> list[Delivery]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(Delivery).where(Delivery.beheerder_id == beheerder_id)
                                           .order_by(Delivery.id))).all())
