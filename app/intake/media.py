"""Fetches WhatsApp media after the webhook has been answered. Pending photo rows are the queue, so a
restart resumes where it stopped; on PostgreSQL several processes share the work (SKIP LOCKED). Photos are
decoded in the photo pool, within the sending beheerder's budget of decoded pixels: a photo over the budget
waits (it is not a failed attempt)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.database import utcnow
from app.core.retry import next_attempt_delay
from app.core.settings import Settings
from app.events.service import emit
from app.intake import service
from app.intake.graph_media import GraphMediaClient, MediaPermanentError, MediaTemporaryError
from app.intake.models import Report, ReportPhoto
from app.intake.photo_pool import PhotoPool
from app.intake.photos import PhotoRejected, SanitisedPhoto, store_photo
from app.intake.ratelimit import PixelBudget

logger = logging.getLogger("app.intake.media")
LEASE = timedelta(minutes=2)  # a claimed row is retried by another worker if this one dies
MIN_POSTPONE_SECONDS = 5.0  # a photo over its sender's budget is not claimed again sooner than this
IDLE_POLL_SECONDS = 5.0
PhotoStored = Callable[[AsyncSession, Report, int], Awaitable[None]]
RETRY_BASE_SECONDS = 15.0  # a failed download is tried again after 7.5 to 15 s, the step doubling up to an hour
RETRY_CAP_SECONDS = 3600.0


class MediaFetcher:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 client: GraphMediaClient, pool: PhotoPool, budget: PixelBudget,
                 on_photo_stored: PhotoStored | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.on_photo_stored = on_photo_stored  # the incident's card (app.flows.report_intake)
        self.settings = settings
        self.client = client
        self.pool = pool
        self.budget = budget
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="media-fetcher")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.aclose()

    async def _run(self) -> None:
        while True:
            try:
                while await self.fetch_one():
                    pass
            except Exception:  # keep the worker alive; the row's lease makes it come back
                logger.exception("media fetch loop failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_POLL_SECONDS)
            self._wake.clear()

    async def drain(self) -> int:
        """Fetches every photo that is due now; returns how many rows it handled."""
        handled = 0
        while await self.fetch_one():
            handled += 1
        return handled

    async def fetch_one(self) -> bool:
        claimed = await self._claim()
        if claimed is None:
            return False
        photo_id, media_id, beheerder_id = claimed
        key, reserved = f"beheerder:{beheerder_id}", self.settings.photo_max_pixels
        wait = self.budget.reserve(key, reserved)
        if wait is not None:
            await self._postpone(photo_id, wait)
            return True
        used = 0
        try:
            used = await self._fetch(photo_id, media_id)
        finally:
            self.budget.settle(key, reserved, used)
        return True

    async def _fetch(self, photo_id: int, media_id: str) -> int:
        """Downloads, decodes and stores one photo, or records why not; returns the pixels decoded."""
        try:
            media = await self.client.download(media_id)
            [outcome] = await self.pool.sanitise([media.content], wait=True)
        except MediaTemporaryError as exc:
            await self._failed(photo_id, str(exc), permanent=False)
            return 0
        except MediaPermanentError as exc:
            await self._failed(photo_id, str(exc), permanent=True)
            return 0
        if isinstance(outcome, PhotoRejected):
            await self._failed(photo_id, str(outcome), permanent=True)
            return outcome.pixels
        photo = outcome.photo
        try:
            name = await asyncio.to_thread(store_photo, photo.content, self.settings.photo_dir, photo.extension)
        except OSError as exc:  # disk full or read-only: tried again later, like a failed download
            await self._failed(photo_id, f"opslag mislukt: {exc.strerror or exc}", permanent=False)
            return photo.width * photo.height
        await self._stored(photo_id, photo, name)
        return photo.width * photo.height

    async def _claim(self) -> tuple[int, str, int] | None:
        async with self.sessionmaker() as session:
            row = await session.scalar(
                select(ReportPhoto)
                .where(ReportPhoto.status == "pending", ReportPhoto.next_attempt_at <= utcnow())
                .order_by(ReportPhoto.id).limit(1).with_for_update(skip_locked=True)
            )
            if row is None or row.media_id is None:
                return None
            row.attempts += 1
            row.next_attempt_at = utcnow() + LEASE
            claimed = (row.id, row.media_id, await session.scalar(
                select(Report.beheerder_id).where(Report.id == row.report_id)) or 0)
            await session.commit()
            return claimed

    async def _postpone(self, photo_id: int, seconds: float) -> None:
        """Over the beheerder's budget: try again when it allows, without counting this as an attempt."""
        async with self.sessionmaker() as session:
            row = await session.get(ReportPhoto, photo_id)
            if row is not None:
                row.attempts = max(0, row.attempts - 1)
                row.next_attempt_at = utcnow() + timedelta(seconds=max(seconds, MIN_POSTPONE_SECONDS))
                await session.commit()

    async def _stored(self, photo_id: int, photo: SanitisedPhoto, name: str) -> None:
        async with self.sessionmaker() as session:
            await service.mark_photo_stored(session, photo_id, photo, name)
            row = await session.get(ReportPhoto, photo_id)
            report = await session.get(Report, row.report_id) if row else None
            if report is not None:
                emit(session, "report.photo_added", {"report_id": report.id, "case_number": report.case_number,
                                                     "photo_id": photo_id, "incident_id": report.incident_id},
                     region_id=report.region_id, wijk_code=report.source_wijk_code)
                if self.on_photo_stored is not None:
                    await self.on_photo_stored(session, report, photo_id)
            await session.commit()

    async def _failed(self, photo_id: int, error: str, *, permanent: bool) -> None:
        async with self.sessionmaker() as session:
            row = await session.get(ReportPhoto, photo_id)
            if row is None:
                return
            row.last_error = error[:300]
            if permanent or row.attempts >= self.settings.media_max_attempts:
                row.status, row.next_attempt_at = "failed", None
                logger.warning("media download gave up", extra={"photo_id": photo_id, "error": error[:200]})
            else:
                delay = next_attempt_delay(row.attempts, base=RETRY_BASE_SECONDS, cap=RETRY_CAP_SECONDS)
                row.next_attempt_at = utcnow() + timedelta(seconds=delay)
            await session.commit()


def build_media_fetcher(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, pool: PhotoPool,
                        budget: PixelBudget, on_photo_stored: PhotoStored | None = None) -> MediaFetcher | None:
    if settings.whatsapp_access_token is None:
        return None
    client = GraphMediaClient(settings.whatsapp_api_base, settings.whatsapp_access_token.get_secret_value(),
                              max_bytes=settings.photo_max_bytes)
    return MediaFetcher(sessionmaker, settings, client, pool, budget, on_photo_stored)
