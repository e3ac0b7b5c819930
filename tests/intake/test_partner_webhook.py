"""Partner apps (AlarmApp, WaakSamen, ...) forward reports with an HMAC signature over timestamp and body."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from app.core.settings import Settings
from app.intake.models import QuarantinedMessage, Report
from tests.support import builders
from tests.support.http import problem

PARTNER_SECRET = "partner-secret-for-tests"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"partner_secrets": {"waaksamen": SecretStr(PARTNER_SECRET)}})


def _signed(body: dict, *, secret: str = PARTNER_SECRET, age: int = 0) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    timestamp = str(int(time.time()) - age)
    signature = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Meldkamer-Timestamp": timestamp,
                 "X-Meldkamer-Signature": signature}


def _body(beheerder: builders.BeheerderAccount, message_id: str = "ws-1",
          text: str = "Man trekt aan portieren in de Kerkstraat") -> dict:
    return {"message_id": message_id, "beheerder_phone": beheerder.phone, "report": {"text": text}}


async def _count(app, model) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_signed_partner_report_is_created_once(app, client):
    beheerder = await builders.beheerder(app)
    raw, headers = _signed(_body(beheerder))
    first = await client.post("/webhooks/partner/waaksamen", content=raw, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["channel"] == "partner:waaksamen" and first.json()["case_number"].startswith("MK-")
    raw, headers = _signed(_body(beheerder))  # the partner retries with a fresh signature
    again = await client.post("/webhooks/partner/waaksamen", content=raw, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert await _count(app, Report) == 1


async def test_bad_signature_stale_timestamp_and_unknown_partner(app, client):
    beheerder = await builders.beheerder(app)
    raw, headers = _signed(_body(beheerder), secret="wrong")
    assert problem(await client.post("/webhooks/partner/waaksamen", content=raw, headers=headers))["status"] == 401
    raw, headers = _signed(_body(beheerder), age=3600)
    stale = await client.post("/webhooks/partner/waaksamen", content=raw, headers=headers)
    assert stale.status_code == 401 and "te oud" in problem(stale)["detail"]
    raw, headers = _signed(_body(beheerder))
    unknown = await client.post("/webhooks/partner/alarmapp", content=raw, headers=headers)
    assert unknown.status_code == 404
    no_headers = await client.post("/webhooks/partner/waaksamen", content=raw)
    assert no_headers.status_code == 401
    assert await _count(app, Report) == 0


async def test_unknown_beheerder_is_quarantined_and_bad_body_is_422(app, client):
    beheerder = await builders.beheerder(app)
    body = _body(beheerder)
    body["beheerder_phone"] = "+31611119999"
    raw, headers = _signed(body)
    response = await client.post("/webhooks/partner/waaksamen", content=raw, headers=headers)
    assert response.status_code == 202
    assert await _count(app, QuarantinedMessage) == 1
    raw, headers = _signed({"message_id": "x", "beheerder_phone": beheerder.phone, "report": {"text": ""}})
    invalid = await client.post("/webhooks/partner/waaksamen", content=raw, headers=headers)
    assert invalid.status_code == 422 and problem(invalid)["field"] == "report.text"
    assert await _count(app, Report) == 0
