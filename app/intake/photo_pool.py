"""Photo decoding off the event loop: a few worker processes behind a bounded queue.

Decoding, re-orienting and re-encoding a 12 MP phone photo costs about half a second of CPU, a flat 24 MP
PNG two seconds; on the event loop that froze every request, health checks included (issue 12). A worker
process has an interpreter lock of its own, so the loop keeps serving while Pillow works. (A thread pool
helps only while Pillow is inside C; docs/performance.md has the comparison.)

The pool holds at most `capacity` images at a time, running or waiting. An upload that does not fit is
refused at once (`PhotoPoolBusy`, answered 503 with Retry-After) rather than queued without bound; the
WhatsApp media fetcher, for which nobody is waiting, waits for room instead. A worker that dies (a decoder
that crashes) costs only the photos it was decoding: the pool is started again and each image is tried once
more before it is refused as corrupt."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Literal

from app.core.settings import Settings
from app.intake.photos import PhotoRejected, SanitisedUpload, sanitise_upload

BUSY_RETRY_SECONDS = 5
WORKER_NICENESS = 10
logger = logging.getLogger("app.intake.photos")
PoolKind = Literal["process", "thread"]
ExecutorFactory = Callable[[], Executor]
Outcome = SanitisedUpload | PhotoRejected


class PhotoPoolBusy(Exception):
    """No room in the pool for these images now."""

    def __init__(self, retry_after: int = BUSY_RETRY_SECONDS) -> None:
        super().__init__(f"photo pool full; retry after {retry_after} s")
        self.retry_after = retry_after


def executor_factory(kind: PoolKind, workers: int) -> ExecutorFactory:
    def process_pool() -> Executor:
        # spawn, not fork: the server has threads (database drivers), and a forked child inherits their locks.
        # Lower priority: the scheduler gives the cores to the event loop first, so photos wait, requests do not.
        # A worker imports only app.intake.photos (os.nice is no function of this module, which needs settings).
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=os.nice, initargs=(WORKER_NICENESS,))

    def thread_pool() -> Executor:
        return ThreadPoolExecutor(workers, thread_name_prefix="photo")

    return process_pool if kind == "process" else thread_pool


def _crashed() -> PhotoRejected:
    return PhotoRejected("corrupt", "De foto is beschadigd en kan niet worden gelezen.")


class PhotoPool:
    def __init__(self, factory: ExecutorFactory, *, capacity: int, max_bytes: int, max_pixels: int) -> None:
        self.factory = factory
        self.capacity = max(capacity, 1)
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self._executor: Executor | None = None
        self._in_use = 0
        self._room: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> PhotoPool:
        return cls(executor_factory(settings.photo_pool_kind, settings.photo_workers),
                   capacity=max(settings.photo_pool_capacity, settings.photos_per_report),
                   max_bytes=settings.photo_max_bytes, max_pixels=settings.photo_max_pixels)

    @property
    def executor(self) -> Executor:
        """Created on first use, so an app that never sees a photo starts no workers."""
        if self._executor is None:
            self._executor = self.factory()
        return self._executor

    @property
    def in_use(self) -> int:
        return self._in_use

    def start(self) -> None:
        """Starts the workers now rather than on the first photo (a process takes a second to start)."""
        self.executor.submit(int)

    async def aclose(self) -> None:
        if self._executor is not None:
            executor, self._executor = self._executor, None
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    async def sanitise(self, uploads: Sequence[bytes], *, wait: bool = False) -> list[Outcome]:
        """Each upload sanitised in a worker (app.intake.photos.sanitise_upload), or its rejection. Raises
        PhotoPoolBusy when the pool has no room for all of them and `wait` is false (the pool's capacity is
        never below the photos allowed in one report)."""
        await self._take(len(uploads), wait)
        return list(await asyncio.gather(*(self._one(data) for data in uploads)))

    async def _take(self, count: int, wait: bool) -> None:
        self._loop = asyncio.get_running_loop()
        while self._in_use + count > self.capacity:
            if not wait:
                raise PhotoPoolBusy()
            if self._room is None:
                self._room = asyncio.Event()
            self._room.clear()
            await self._room.wait()
        self._in_use += count

    def _give(self) -> None:
        self._in_use = max(0, self._in_use - 1)
        if self._room is not None:
            self._room.set()

    async def _one(self, data: bytes) -> Outcome:
        for attempt in (1, 2):
            if attempt == 2:
                self._in_use += 1  # the crash gave this image's place back; the second try takes it again
            executor = self.executor
            try:
                future = executor.submit(sanitise_upload, data, self.max_bytes, self.max_pixels)
            except BrokenProcessPool:
                self._give()
                self._replace(executor)
                continue
            # The place is given back when the worker is done, which may be after the request has gone.
            future.add_done_callback(self._given_back)
            try:
                return await asyncio.wrap_future(future)
            except PhotoRejected as rejected:
                return rejected
            except BrokenProcessPool:
                self._replace(executor)
        return _crashed()

    def _given_back(self, _: Future[SanitisedUpload]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (shutdown)
                loop.call_soon_threadsafe(self._give)

    def _replace(self, broken: Executor) -> None:
        if self._executor is broken:
            logger.error("a photo worker died; starting the photo pool again")
            self._executor = None
            broken.shutdown(wait=False, cancel_futures=True)
