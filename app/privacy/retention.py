"""The retention purge: personal data older than its period is removed or blanked, in batches of one
transaction each, so that a purge stopped half way is simply run again. Counts survive: rows keep their
labels, times, wijk and links; only text, photos, addresses, streets, coordinates and phone numbers go
(docs/privacy.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import takewhile
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, delete, exists, func, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import service as audit
from app.audit.models import AuditEntry, AuditPersonal
from app.broadcast.models import Delivery
from app.core.principal import SYSTEM, Principal
from app.core.settings import Settings
from app.events.models import Event
from app.incidents.models import Incident
from app.intake.models import QuarantinedMessage, Report, ReportFeedback, ReportPhoto, WhatsAppStatus
from app.intake.photos import delete_photo
from app.learning.models import LabelledExample
from app.privacy.models import PurgeCursor, RetentionHold

# Printed in this order by `meldkamer purge`; the audit entry's detail uses the same names.
KINDS = ("report_texts", "locations", "photos", "notes", "feedback_bodies", "labelled_examples", "event_payloads",
         "phone_numbers", "chat_replies", "audit_details", "login_names")
# Keys of an event's data that can carry what a person wrote, where they were, or the engine's reading of it.
PERSONAL_EVENT_KEYS = frozenset({"text", "message", "summary", "note", "body", "location", "triage", "lead_reason",
                                 "lat", "lon", "beheerder_name"})
# Where a report was made, finer than its wijk (where someone saw something, often their own street or home):
# the point given, the point resolved and the street go with the text. The wijk (and the town, `place`) stay
# on the report, the incident and the evaluation's facts, so no figure changes.
NO_LOCATION = {"lat": None, "lon": None, "point_lat": None, "point_lon": None, "street": None}
EVENTS_CURSOR = "events"

AfterBatch = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Cutoffs:
    """Data older than these instants is due; incidents kept by an operator wait for their hold's end."""

    now: datetime
    report_text: datetime
    photo: datetime
    phone: datetime
    note: datetime
    reply: datetime
    login_name: datetime

    @classmethod
    def at(cls, now: datetime, settings: Settings) -> Cutoffs:
        def before(days: int) -> datetime:
            return now - timedelta(days=days)

        return cls(now=now, report_text=before(settings.retention_report_text_days),
                   photo=before(settings.retention_photo_days), phone=before(settings.retention_phone_days),
                   note=before(settings.retention_note_days), reply=before(settings.retention_reply_days),
                   login_name=before(settings.retention_login_name_days))

    @classmethod
    def everything_until(cls, now: datetime) -> Cutoffs:
        """Every kind due up to `now` (an erasure); holds still apply."""
        return cls(now=now, report_text=now, photo=now, phone=now, note=now, reply=now, login_name=now)

    @property
    def latest_report_bound(self) -> datetime:
        """Reports older than this are due for at least one kind."""
        return max(self.report_text, self.photo, self.note)

    @property
    def earliest_report_bound(self) -> datetime:
        """Reports older than this are due for every kind: done for good once purged."""
        return min(self.report_text, self.photo, self.note)


@dataclass
class PurgeResult:
    dry_run: bool
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    def add(self, kind: str, count: int) -> None:
        self.counts[kind] += count


@dataclass
class _Batch:
    """One batch of due reports: (id, incident id, received at) each."""

    rows: Sequence[Any]

    def older_than(self, cutoff: datetime) -> list[int]:
        return [row.id for row in self.rows if row.received_at < cutoff]

    def incidents_older_than(self, cutoff: datetime) -> list[int]:
        return sorted({row.incident_id for row in self.rows if row.received_at < cutoff and row.incident_id})


def not_kept(now: datetime) -> ColumnElement[bool]:
    """The report's incident has no hold that lasts beyond `now`."""
    return ~exists().where(RetentionHold.incident_id == Report.incident_id, RetentionHold.keep_until > now)


class Purge:
    """One run of the purge. `after_batch` is called after each committed batch with its kind (tests stop a
    run there to show that running again completes it)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime, *,
                 dry_run: bool = False, actor: Principal = SYSTEM, source: str = "job",
                 after_batch: AfterBatch | None = None, cutoffs: Cutoffs | None = None,
                 beheerder_id: int | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.photo_dir: Path = settings.photo_dir
        self.batch_size = settings.retention_batch
        self.cutoffs = cutoffs or Cutoffs.at(now, settings)
        self.beheerder_id = beheerder_id  # only this beheerder's reports (an erasure)
        self.result = PurgeResult(dry_run=dry_run)
        self.actor = actor
        self.source = source
        self.after_batch = after_batch

    async def run(self) -> PurgeResult:
        await self._reports()
        await self._events()
        await self._phone_numbers()
        await self._chat_replies()
        await self._audit_details()
        await self._ended_hold_reasons()
        async with self.sessionmaker() as session:
            audit.record(session, self.actor, "privacy.purge_dry_run" if self.result.dry_run else "privacy.purge",
                         source=self.source, counts=self.result.counts)
            await session.commit()
        return self.result

    async def _committed(self, kind: str) -> None:
        if self.after_batch is not None:
            await self.after_batch(kind)

    # ---- everything bound to a report ------------------------------------------------------------------

    def _due_reports(self, after_id: int) -> Select[Any]:
        cut = self.cutoffs
        query = (select(Report.id, Report.incident_id, Report.received_at)
                 .where(Report.purged_at.is_(None), Report.received_at < cut.latest_report_bound,
                        Report.id > after_id, not_kept(cut.now))
                 .order_by(Report.id).limit(self.batch_size))
        return query if self.beheerder_id is None else query.where(Report.beheerder_id == self.beheerder_id)

    async def reports_only(self) -> PurgeResult:
        await self._reports()
        return self.result

    async def _reports(self) -> None:
        last_id = 0
        while True:
            async with self.sessionmaker() as session:
                rows = (await session.execute(self._due_reports(last_id))).all()
                if not rows:
                    return
                last_id = rows[-1].id
                batch = _Batch(rows)
                names = await self._report_batch(session, batch)
                if not self.result.dry_run:
                    await session.commit()
            if names:
                await asyncio.to_thread(_delete_files, self.photo_dir, names)
            await self._committed("reports")

    async def _report_batch(self, session: AsyncSession, batch: _Batch) -> list[str]:
        cut = self.cutoffs
        text_ids = batch.older_than(cut.report_text)
        await self._apply("report_texts", session, Report,
                          [Report.id.in_(text_ids), Report.text != ""],
                          {"text": "", "text_original": "", "house_number": None})
        await self._apply("locations", session, Report,
                          [Report.id.in_(text_ids), or_(Report.lat.is_not(None), Report.point_lat.is_not(None),
                                                        Report.street.is_not(None))],
                          NO_LOCATION)
        await self._apply("feedback_bodies", session, Delivery,
                          [Delivery.report_id.in_(text_ids), Delivery.body.is_not(None)], {"body": None, "parts": []})
        await self._apply("labelled_examples", session, LabelledExample,
                          [LabelledExample.report_id.in_(text_ids), LabelledExample.text != ""], {"text": ""})
        if not self.result.dry_run:
            text_incidents = batch.incidents_older_than(cut.report_text)
            await session.execute(update(Incident).where(Incident.id.in_(text_incidents), Incident.summary != "")
                                  .values(summary="", lead_reason=None))
            await session.execute(update(Incident).where(Incident.id.in_(text_incidents), Incident.lat.is_not(None))
                                  .values(lat=None, lon=None))
            await self._triage_details(session, text_ids)
        note_ids = batch.older_than(cut.note)
        await self._apply("notes", session, ReportFeedback,
                          [ReportFeedback.report_id.in_(note_ids), ReportFeedback.text != ""], {"text": ""})
        note_incidents = batch.incidents_older_than(cut.note)
        await self._apply("notes", session, Incident,
                          [Incident.id.in_(note_incidents), Incident.override_reason.is_not(None)],
                          {"override_reason": None})
        names = await self._photos(session, batch)
        if not self.result.dry_run:
            done = batch.older_than(cut.earliest_report_bound)
            await session.execute(update(Report).where(Report.id.in_(done)).values(purged_at=cut.now))
        return names

    async def _triage_details(self, session: AsyncSession, report_ids: list[int]) -> None:
        """The engine's reasons quote the text ("signalement: rode jas", "straat Dorpsstraat 12") and its
        location holds the point and street: their codes, the method and the wijk stay (the console and the
        incident's flags read them), the words and the point go."""
        rows = (await session.execute(select(Report.id, Report.triage)
                                      .where(Report.id.in_(report_ids), Report.triage.is_not(None)))).all()
        quieted = [{"id": report_id, "triage": quiet} for report_id, suggestion in rows
                   if (quiet := quieted_triage(suggestion)) != suggestion]
        if quieted:
            await session.execute(update(Report), quieted)

    async def _photos(self, session: AsyncSession, batch: _Batch) -> list[str]:
        """Deletes the photo rows (the files go after the commit; a file left by a crash in between is one no
        row names, which the orphan sweeper removes) and forgets them on the incidents' cards."""
        report_ids = batch.older_than(self.cutoffs.photo)
        photos = (await session.execute(select(ReportPhoto.id, ReportPhoto.stored_name)
                                        .where(ReportPhoto.report_id.in_(report_ids)))).all()
        self.result.add("photos", len(photos))
        if self.result.dry_run or not photos:
            return []
        photo_ids = [photo.id for photo in photos]
        await session.execute(update(Incident).where(Incident.first_photo_id.in_(photo_ids))
                              .values(first_photo_id=None))
        await session.execute(delete(ReportPhoto).where(ReportPhoto.id.in_(photo_ids)))
        return [photo.stored_name for photo in photos if photo.stored_name]

    async def _apply(self, kind: str, session: AsyncSession, model: Any, where: list[ColumnElement[bool]],
                     values: dict[str, Any]) -> None:
        """Counts the rows that match (dry run) or blanks them, counting what changed."""
        if self.result.dry_run:
            self.result.add(kind, await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
            return
        outcome: Any = await session.execute(update(model).where(*where).values(**values))
        self.result.add(kind, outcome.rowcount or 0)

    # ---- rows not bound to a report ----------------------------------------------------------------------

    async def _events(self) -> None:
        """Scrubs the personal keys from the data of events older than the report-text period. Events are the
        screens' stream, not the record, so a kept incident's events are scrubbed too. A cursor remembers how
        far it got (the log grows at its end); it stops at the first event not yet due, so that one written
        later with an older time (the history seeder's) waits instead of being passed over."""
        last_id = await self._events_cursor()
        while True:
            async with self.sessionmaker() as session:
                rows = (await session.execute(select(Event.id, Event.at, Event.data).where(Event.id > last_id)
                                              .order_by(Event.id).limit(self.batch_size))).all()
                due = list(takewhile(lambda row: row.at < self.cutoffs.report_text, rows))
                if not due:
                    return
                last_id = due[-1].id
                changed = [(row.id, scrubbed(row.data)) for row in due if PERSONAL_EVENT_KEYS & set(row.data or {})]
                self.result.add("event_payloads", len(changed))
                if self.result.dry_run:
                    continue
                if changed:  # one executemany by primary key
                    await session.execute(update(Event), [{"id": event_id, "data": data} for event_id, data in changed])
                await session.merge(PurgeCursor(kind=EVENTS_CURSOR, last_id=last_id))
                await session.commit()
            await self._committed("events")

    async def _events_cursor(self) -> int:
        async with self.sessionmaker() as session:
            return await session.scalar(select(PurgeCursor.last_id).where(PurgeCursor.kind == EVENTS_CURSOR)) or 0

    async def _phone_numbers(self) -> None:
        """WhatsApp status callbacks name the recipient's number; the delivery rows keep the outcome."""
        await self._in_batches("phone_numbers", select(WhatsAppStatus.id).where(
            WhatsAppStatus.recipient.is_not(None), WhatsAppStatus.received_at < self.cutoffs.phone),
            lambda ids: update(WhatsAppStatus).where(WhatsAppStatus.id.in_(ids)).values(recipient=None))

    async def _chat_replies(self) -> None:
        """Messages from numbers that are no beheerder (quarantine): sender, name and text together."""
        await self._in_batches("chat_replies", select(QuarantinedMessage.id).where(
            QuarantinedMessage.received_at < self.cutoffs.reply),
            lambda ids: delete(QuarantinedMessage).where(QuarantinedMessage.id.in_(ids)))

    async def _audit_details(self) -> None:
        """The personal fields of audit entries (app.audit.service.PERSONAL_FIELDS), each after the period of
        the data it describes; those about a kept incident wait for its hold's end. The entry stays. The
        account names of failed logins are counted apart (`login_names`)."""
        cut = self.cutoffs
        for kind, cutoff, counted_as in (("notes", cut.note, "audit_details"),
                                         ("locations", cut.report_text, "audit_details"),
                                         ("report_texts", cut.report_text, "audit_details"),
                                         ("login_names", cut.login_name, "login_names")):
            await self._in_batches(counted_as, self._due_audit_details(kind, cutoff), self._clear_audit_details(kind))

    async def _ended_hold_reasons(self) -> None:
        """A hold's reason is an operator's free text: once the hold has ended it is blanked (a note); that the
        incident was kept, until when and by whom stays."""
        await self._in_batches("notes", select(RetentionHold.incident_id).where(
            RetentionHold.keep_until <= self.cutoffs.now, RetentionHold.reason != ""),
            lambda ids: update(RetentionHold).where(RetentionHold.incident_id.in_(ids)).values(reason=""))

    def _clear_audit_details(self, kind: str) -> Callable[[list[int]], Any]:
        return lambda ids: (update(AuditPersonal).where(AuditPersonal.kind == kind,
                                                        AuditPersonal.audit_entry_id.in_(ids))
                            .values(details=null(), purged_at=self.cutoffs.now))

    def _due_audit_details(self, kind: str, cutoff: datetime) -> Select[Any]:
        kept = exists().where(AuditEntry.target_type == "incident",
                              cast(RetentionHold.incident_id, String) == AuditEntry.target_id,
                              RetentionHold.keep_until > self.cutoffs.now)
        return (select(AuditPersonal.audit_entry_id).join(AuditEntry, AuditEntry.id == AuditPersonal.audit_entry_id)
                .where(AuditPersonal.kind == kind, AuditPersonal.purged_at.is_(None), AuditEntry.at < cutoff, ~kept))

    async def _in_batches(self, kind: str, due: Select[Any], change: Callable[[list[int]], Any]) -> None:
        if self.result.dry_run:
            async with self.sessionmaker() as session:
                self.result.add(kind, await session.scalar(select(func.count()).select_from(due.subquery())) or 0)
            return
        while True:
            async with self.sessionmaker() as session:
                ids = list((await session.scalars(due.order_by(None).limit(self.batch_size))).all())
                if not ids:
                    return
                await session.execute(change(ids))
                await session.commit()
            self.result.add(kind, len(ids))
            await self._committed(kind)


def quieted_triage(suggestion: dict[str, Any]) -> dict[str, Any]:
    quiet = dict(suggestion)
    if isinstance(reasons := suggestion.get("reasons"), list):
        quiet["reasons"] = [{**reason, "text": ""} for reason in reasons]
    if isinstance(location := suggestion.get("location"), dict):
        quiet["location"] = {**location, "lat": None, "lon": None, "street": None}
    return quiet


def scrubbed(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in PERSONAL_EVENT_KEYS} | {"purged": True}


def _delete_files(directory: Path, names: Sequence[str]) -> None:
    for name in names:
        delete_photo(directory, name)


async def purge(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime, *,
                dry_run: bool = False, source: str = "job", after_batch: AfterBatch | None = None) -> PurgeResult:
    return await Purge(sessionmaker, settings, now, dry_run=dry_run, source=source, after_batch=after_batch).run()
