"""Photos are decoded off the event loop, in a bounded pool, within a per-image and a per-beheerder pixel cap.

Responsiveness is asserted structurally, never with timings: a test double of the pool holds a decode until
the test lets it go, and the test shows that other requests are answered meanwhile."""

from __future__ import annotations

import asyncio
import io
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.core.settings import Settings
from app.intake.models import Report
from app.intake.photo_pool import PhotoPool
from app.intake.photos import PhotoRejected, SanitisedUpload
from tests.support.http import bearer, problem

GATE_SECONDS = 60  # only a safety net against a hang: a blocked event loop would never open the gate


class GatedExecutor(ThreadPoolExecutor):
    """Runs each job on a thread of its own, but only after the test opens the gate."""

    def __init__(self) -> None:
        super().__init__(4)
        self.started = threading.Event()
        self.gate = threading.Event()
        self.threads: list[int] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        def gated() -> Any:
            self.threads.append(threading.get_ident())
            self.started.set()
            if not self.gate.wait(GATE_SECONDS):
                raise TimeoutError("the test never opened the gate")
            return fn(*args, **kwargs)

        return super().submit(gated)


def _jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 40).convert("RGB").save(buffer, "JPEG")
    return buffer.getvalue()


def _png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _beheerders(demo) -> list[dict]:
    return [b for b in demo["beheerders"] if len(b["group_ids"]) == 1]


def _upload(client, beheerder: dict, *photos: bytes):
    files = [("report", (None, '{"text": "Verdachte man bij de auto\'s"}', "application/json"))]
    files += [("photos", (f"foto{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
    return client.post("/api/v1/reports", headers=bearer(beheerder["token"]), files=files)


def _gated_pool(settings: Settings, capacity: int) -> tuple[PhotoPool, GatedExecutor]:
    executor = GatedExecutor()
    pool = PhotoPool(lambda: executor, capacity=capacity, max_bytes=settings.photo_max_bytes,
                     max_pixels=settings.photo_max_pixels)
    return pool, executor


async def _reports(app) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count(Report.id))) or 0)


async def test_health_checks_and_text_reports_are_answered_while_a_photo_is_decoding(app, client, demo, settings):
    pool, executor = _gated_pool(settings, capacity=8)
    app.state.photo_pool = pool
    sender, other = _beheerders(demo)[:2]
    upload = asyncio.create_task(_upload(client, sender, _jpeg()))
    assert await asyncio.to_thread(executor.started.wait, GATE_SECONDS)

    health = await client.get("/healthz")
    text = await client.post("/api/v1/reports", headers=bearer(other["token"]), json={"text": "Inbraak nu"})

    assert health.status_code == 200 and text.status_code == 201
    assert not upload.done() and not executor.gate.is_set()  # the decode was still going on meanwhile
    executor.gate.set()
    assert (await upload).status_code == 201
    assert threading.get_ident() not in executor.threads  # never decoded on the event loop's thread
    await pool.aclose()


async def test_a_full_pool_refuses_an_upload_with_503_and_retry_after(app, client, demo, settings):
    pool, executor = _gated_pool(settings, capacity=4)
    app.state.photo_pool = pool
    first, second = _beheerders(demo)[:2]
    busy_upload = asyncio.create_task(_upload(client, first, _jpeg(), _jpeg(), _jpeg(), _jpeg()))
    assert await asyncio.to_thread(executor.started.wait, GATE_SECONDS)

    refused = await _upload(client, second, _jpeg())

    assert refused.status_code == 503
    body = problem(refused)
    assert body["title"] == "Fotoverwerking bezet" and body["code"] == "photos_busy"
    assert int(refused.headers["Retry-After"]) >= 1
    executor.gate.set()
    assert (await busy_upload).status_code == 201
    assert await _reports(app) == 1
    assert (await _upload(client, second, _jpeg())).status_code == 201  # room again once it is done
    await pool.aclose()


async def test_the_default_pool_decodes_in_another_process_and_brings_rejections_back():
    pool = PhotoPool.from_settings(Settings(environment="test"))
    try:
        [good, bad] = await pool.sanitise([_jpeg((40, 30)), b"%PDF-1.4 not a photo"])
        worker_pid = await asyncio.wrap_future(pool.executor.submit(os.getpid))
    finally:
        await pool.aclose()
    assert worker_pid != os.getpid()
    assert isinstance(good, SanitisedUpload) and (good.photo.width, good.photo.height) == (40, 30)
    assert isinstance(bad, PhotoRejected) and bad.code == "not_an_image" and bad.detail_nl
    assert pool.in_use == 0


class TestPixelCaps:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        # 0.5 MP per image, 1 MP per beheerder per minute
        return settings.model_copy(update={"photo_max_pixels": 500_000, "photo_megapixels_per_minute": 1})

    async def test_an_image_over_the_pixel_cap_is_refused_before_it_is_decoded(self, app, client, demo):
        response = await _upload(client, _beheerders(demo)[0], _png((1000, 600)))
        assert response.status_code == 422
        body = problem(response)
        assert body["code"] == "decompression_bomb" and body["field"] == "photos[0]"
        assert "megapixel" in body["detail"]
        assert await _reports(app) == 0

    async def test_over_the_pixel_budget_a_beheerder_gets_429_and_others_are_not_affected(self, app, client, demo):
        sender, other = _beheerders(demo)[:2]
        near_cap = _png((700, 700))  # 0.49 MP each
        assert (await _upload(client, sender, near_cap, near_cap)).status_code == 201

        refused = await _upload(client, sender, near_cap)

        assert refused.status_code == 429
        body = problem(refused)
        assert body["title"] == "Te veel foto's" and body["code"] == "photo_budget"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert await _reports(app) == 1
        text_only = await client.post("/api/v1/reports", headers=bearer(sender["token"]), json={"text": "Update"})
        assert text_only.status_code == 201  # the budget is for decoding photos only
        assert (await _upload(client, other, near_cap)).status_code == 201
