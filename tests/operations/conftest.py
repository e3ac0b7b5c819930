"""Operation tests: fast worker settings, the fake Graph API with a worker that sends to it (driven by the
test), and the operations' clock under the test's control."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.broadcast.channels import AppChannel, ChannelAdapter, EmailChannel, LogEmailSender, WhatsAppChannel
from app.broadcast.config import broadcast_config
from app.broadcast.http import Poster
from app.broadcast.ratelimit import LocalRateLimiter
from app.broadcast.worker import DeliveryWorker, build_worker
from app.core.settings import Settings
from tests.fakes.graph_api import FakeGraphApi
from tests.support.broadcast import FAST
from tests.support.operations import FakeClock
from tests.support.settings import TEST_SECRETS


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, environment="test", data_dir=tmp_path / "var", log_json=False,
                    **TEST_SECRETS, **{**FAST, "broadcast_whatsapp_pair_seconds": 0.0})  # type: ignore[arg-type]


@pytest.fixture
def clock(app: FastAPI) -> FakeClock:
    fake = FakeClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    app.state.operations_clock = fake
    return fake


@pytest.fixture
def fake(app: FastAPI) -> FakeGraphApi:
    fake = FakeGraphApi(access_token=TEST_SECRETS["whatsapp_access_token"])
    fake.send_status_callbacks("http://testserver/webhooks/whatsapp", TEST_SECRETS["whatsapp_app_secret"],
                               transport=httpx.ASGITransport(app=app), auto=False)
    return fake


@pytest.fixture
async def worker(app: FastAPI, settings: Settings, fake: FakeGraphApi) -> AsyncIterator[DeliveryWorker]:
    whatsapp = WhatsAppChannel(Poster(httpx.ASGITransport(app=fake), 1.0), "http://graph/v21.0",
                               TEST_SECRETS["whatsapp_phone_number_id"], TEST_SECRETS["whatsapp_access_token"],
                               dict(broadcast_config().templates),
                               pair_seconds=settings.broadcast_whatsapp_pair_seconds)
    channels: dict[str, ChannelAdapter] = {"whatsapp": whatsapp, "app": AppChannel(),
                                           "email": EmailChannel(LogEmailSender())}
    worker = build_worker(app.state.sessionmaker, settings, channels=channels, limiter=LocalRateLimiter())
    app.state.delivery_worker = worker
    yield worker
    await worker.stop()
