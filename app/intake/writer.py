"""Group commit for the one intake path: the reports that arrive together are written in one transaction.

Every channel hands its IntakeRequest to the process's IntakeWriter (through `service.submit_report`). While a
transaction is being written, new requests wait; the next transaction takes all of them (up to `max_batch`).
A request is answered only after the transaction that holds its report has committed, so an acknowledged
report is never lost. Why: at hundreds of reports a second, a transaction per report (its session, commit,
write lock and event-hub wake-up) was most of the cost on SQLite, where writes are serialised anyway.
Under light load a batch holds one report and nothing waits for company.

A problem of one report that is known before anything is written (a group that is not the beheerder's, an
idempotency key reused for another body) is that report's answer and leaves the others alone. Anything
else rolls the transaction back, and its reports are then written one by one, so that one bad report cannot
fail its neighbours.

A report's photo files are written (and fsynced) on threads before it joins a transaction: inside, a few MB
of disk writes held up every report waiting for the next one. They are removed again when the report is
not written, or when an earlier report with the same idempotency key answers instead. A photo the disk
refuses (full, read-only) does not cost the report: it is written with that photo marked failed."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.core.errors import Conflict
from app.events import notify
from app.events.service import NewEvent, insert_events
from app.intake.photos import delete_photo, store_photo
from app.intake.service import (
    IntakeRequest,
    IntakeSteps,
    ReportingGroup,
    Written,
    check_requests,
    insert_reports,
)
from app.stats.models import reports_changed
from app.triage.knowledge import KnowledgeBase

logger = logging.getLogger("app.intake")

Answer = Written | BaseException


@dataclass(frozen=True)
class _Waiting:
    request: IntakeRequest
    future: asyncio.Future[Written]


class IntakeWriter:
    def __init__(self, engine: AsyncEngine, reader: async_sessionmaker[AsyncSession], photo_dir: Path,
                 steps: IntakeSteps | None, *, max_batch: int = 64) -> None:
        self.engine = engine
        self.reader = reader  # for the triage knowledge base, read outside the write transaction
        self.photo_dir = photo_dir
        self.steps = steps
        self.max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._drainer: asyncio.Task[None] | None = None

    async def write(self, request: IntakeRequest) -> Written:
        """Writes the report and answers once it is committed; raises the request's problem instead."""
        names = await self._store_photos(request)
        try:
            written = await self._enqueue(replace(request, stored_names=names))
        except asyncio.CancelledError:
            raise  # the caller went away, but the report may be written all the same: its files stay
        except BaseException:
            self._delete(names)
            raise
        if not written.created:
            self._delete(names)  # the earlier report with this idempotency key has files of its own
        return written

    async def _store_photos(self, request: IntakeRequest) -> list[str | None]:
        names: list[str | None] = []
        try:
            for photo in request.photos:
                names.append(await self._store_photo(photo.content, photo.extension))
        except BaseException:
            self._delete(names)
            raise
        return names

    async def _store_photo(self, content: bytes, extension: str) -> str | None:
        try:
            return await asyncio.to_thread(store_photo, content, self.photo_dir, extension)
        except OSError:
            logger.exception("photo not stored; the report is kept without it")
            return None

    def _delete(self, names: list[str | None]) -> None:
        for name in names:
            if name is not None:
                delete_photo(self.photo_dir, name)

    async def _enqueue(self, request: IntakeRequest) -> Written:
        future: asyncio.Future[Written] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(request, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(), name="intake-writer")
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let the requests that are ready on the loop join the first batch
        while self._waiting:
            batch, self._waiting = self._waiting[:self.max_batch], self._waiting[self.max_batch:]
            try:
                await self._write(batch)
            except BaseException:  # cancelled at shutdown: nobody may wait forever
                for waiting in [*batch, *self._waiting]:
                    waiting.future.cancel()
                self._waiting.clear()
                raise

    async def _write(self, batch: list[_Waiting]) -> None:
        try:
            answers = await self._write_together([waiting.request for waiting in batch])
        except Exception as exc:
            if len(batch) > 1:
                for waiting in batch:  # find the report that failed; the others are written on their own
                    await self._write([waiting])
                return
            answers = [await self._after_failure(batch[0].request, exc)]
        for waiting, answer in zip(batch, answers, strict=True):
            _answer(waiting, answer)

    async def _write_together(self, requests: list[IntakeRequest]) -> list[Answer]:
        kb = await self._knowledge_base()
        async with self.engine.connect() as connection, connection.begin():
            checked: list[Answer | ReportingGroup] = list(await check_requests(connection, requests))
            answers, events = await self._insert_new(connection, requests, checked, kb)
            await insert_events(connection, events)
        if events:
            notify.wake_local_hub(self.engine.sync_engine)
        return answers

    async def _insert_new(self, connection: AsyncConnection, requests: list[IntakeRequest],
                          checked: list[Answer | ReportingGroup],
                          kb: KnowledgeBase | None) -> tuple[list[Answer], list[NewEvent]]:
        """Inserts the reports whose requests passed the check, numbered in the order they arrived."""
        accepted = [(request, outcome) for request, outcome in zip(requests, checked, strict=True)
                    if isinstance(outcome, ReportingGroup)]
        written = iter(await insert_reports(connection, accepted, self.steps, kb))
        answers: list[Answer] = []
        events: list[NewEvent] = []
        for outcome in checked:
            if isinstance(outcome, ReportingGroup):
                report, report_events = next(written)
                outcome = Written(report.id, report)
                events += report_events
            answers.append(outcome)
        await reports_changed(connection, [a.report_id for a in answers if isinstance(a, Written) and a.created])
        return answers, events

    async def _after_failure(self, request: IntakeRequest, exc: Exception) -> Answer:
        """A report written on its own failed. A duplicate idempotency key means an identical request (from
        another process) committed first: answer as if we had come second."""
        if not (isinstance(exc, IntegrityError) and request.idempotency_key):
            return exc
        try:
            [answer] = await self._write_together([request])
        except Exception as again:
            logger.warning("intake write failed twice", exc_info=again)
            return Conflict("De melding kon niet worden opgeslagen; probeer het opnieuw.", code="retry")
        return answer

    async def _knowledge_base(self) -> KnowledgeBase | None:
        if self.steps is None:
            return None
        async with self.reader() as session:
            return await self.steps.knowledge_base(session)


def _answer(waiting: _Waiting, answer: Answer) -> None:
    if waiting.future.done():  # the caller went away; its report is written all the same
        return
    if isinstance(answer, BaseException):
        waiting.future.set_exception(answer)
    else:
        waiting.future.set_result(answer)
