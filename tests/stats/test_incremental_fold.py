"""The fold moves the counts of the changed reports from their old facts to their new ones instead of
counting their days again: after any sequence of changes - new reports, an operator's relabelling, urgency,
follow-up and result, merges, first actions, delivered terugkoppeling, a beheerder choosing the group, rows
the purge removed - every day, week and month row must be what counting all facts from scratch gives, with
no row left at zero. Random sequences, seeded, on both engines."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.broadcast.models import Delivery
from app.incidents.models import Incident
from app.intake.models import Report, ReportFeedback
from app.stats import facts
from app.stats.models import DayCount, DayDuration, FactChange, MonthCount, MonthDuration, ReportFact, WeekCount
from tests.support import builders

CATEGORIES = ["signalement", "delict", "verdachte_situatie", "informatie", "overig", "vermissing"]
FOLLOW_UPS = ["ter_plaatse", "surveillance", "actie_wijkagent", "geen_opvolging"]
RESULTS = ["aanhouding", "geen_verdachte_situatie", "onbekend"]
COUNT_TABLES = (DayCount, WeekCount, MonthCount, DayDuration, MonthDuration)
START = datetime(2026, 1, 1, tzinfo=UTC)


async def _rows(session: AsyncSession, model: Any) -> list[tuple[Any, ...]]:
    table = model.__table__
    columns = [column for column in table.c if column.name != "id"]
    return sorted((await session.execute(select(*columns))).tuples().all(), key=repr)


async def _facts(session: AsyncSession) -> dict[int, tuple[Any, ...]]:
    rows = (await session.execute(select(ReportFact.__table__))).tuples().all()
    return {row[0]: tuple(row) for row in rows}


async def _assert_as_if_counted_from_scratch(app: FastAPI, purged: set[int]) -> None:
    """Compares the folded rows with a recount of all facts, and the facts with a rebuild from the source
    rows (but for the reports whose rows the purge removed: their facts keep the steps taken), then rolls
    the recount and the rebuild back."""
    async with app.state.sessionmaker() as session:
        folded = {model.__tablename__: await _rows(session, model) for model in COUNT_TABLES}
        kept_facts = await _facts(session)
        await facts.recount(session)
        counted = {model.__tablename__: await _rows(session, model) for model in COUNT_TABLES}
        await facts.rebuild(session)
        rebuilt_facts = await _facts(session)
        await session.rollback()
    for name, rows in counted.items():
        assert folded[name] == rows, name
    assert all(row[-1] > 0 for rows in folded.values() for row in rows)
    assert {i: f for i, f in kept_facts.items() if i not in purged} == \
        {i: f for i, f in rebuilt_facts.items() if i not in purged}


def _new_report(rng: random.Random, world: Any) -> builders.ScriptedReport:
    group = rng.choice(list(world.group_wijk))
    beheerder = next(b for b, groups in world.beheerder_groups.items() if group in groups)
    category = rng.choice(CATEGORIES)
    follow_up = rng.choice(FOLLOW_UPS) if rng.random() < 0.4 else None
    return builders.ScriptedReport(
        group_id=group, beheerder_id=beheerder, wijkcode=world.group_wijk[group],
        received_at=START + timedelta(seconds=rng.randint(0, 89 * 86400)), category=category,
        urgency=rng.choice(["P1", "P2", "P3", "none"]), called_112=rng.random() < 0.2,
        appearance_only=rng.random() < 0.3, follow_up=follow_up,
        first_action_after=timedelta(minutes=rng.randint(0, 40)) if rng.random() < 0.5 else None,
        follow_up_after=timedelta(minutes=rng.randint(1, 90)) if follow_up else None)


class Changes:
    """Changes the source rows as the intake, the operators, the delivery workers and the purge do, and
    queues the facts they touch as those domains do."""

    def __init__(self, app: FastAPI, world: Any, rng: random.Random) -> None:
        self.app, self.world, self.rng = app, world, rng
        self.purged: set[int] = set()
        # changed again more often: a change of a changed fact is the hard case
        self.touched: list[int] = []
        self.touched_incidents: set[int] = set()

    async def apply(self, count: int) -> list[str]:
        kinds: dict[str, Callable[[AsyncSession], Awaitable[None]]] = {
            "relabel": self.relabel, "urgency": self.urgency, "follow_up": self.follow_up, "merge": self.merge,
            "first_action": self.first_action, "feedback": self.feedback, "group": self.group,
            "purge": self.purge, "requeue": self.requeue}
        chosen = [self.rng.choice([*kinds, "new_report"]) for _ in range(count)]
        for kind in chosen:
            if kind == "new_report":
                await builders.scripted_history(self.app, [_new_report(self.rng, self.world)])
                continue
            async with self.app.state.sessionmaker() as session:
                await kinds[kind](session)
                await session.commit()
        return chosen

    async def _report(self, session: AsyncSession) -> Report:
        ids = list(await session.scalars(select(Report.id).order_by(Report.id)))
        chosen = self.rng.choice(self.touched if self.touched and self.rng.random() < 0.5 else ids)
        self.touched.append(chosen)
        report = await session.get(Report, chosen)
        assert report is not None
        return report

    async def _incident(self, session: AsyncSession) -> Incident:
        ids = list(await session.scalars(select(Report.incident_id).where(Report.incident_id.is_not(None))
                                         .distinct().order_by(Report.incident_id)))
        touched = [i for i in ids if i in self.touched_incidents]
        chosen = self.rng.choice(touched if touched and self.rng.random() < 0.5 else ids)
        self.touched_incidents.add(chosen)
        incident = await session.get(Incident, chosen)
        assert incident is not None
        return incident

    async def relabel(self, session: AsyncSession) -> None:
        incident = await self._incident(session)
        incident.category = self.rng.choice(CATEGORIES)
        incident.offence = self.rng.choice([None, "autokraak", "drugshandel"])
        incident.overridden = sorted({*incident.overridden, "category", "offence"})
        session.add(FactChange(incident_id=incident.id))

    async def urgency(self, session: AsyncSession) -> None:
        incident = await self._incident(session)
        incident.urgency = incident.urgency_override = self.rng.choice(["P1", "P2", "P3", "none"])
        session.add(FactChange(incident_id=incident.id))

    async def follow_up(self, session: AsyncSession) -> None:
        incident = await self._incident(session)
        follow_up, result = self.rng.choice(FOLLOW_UPS), self.rng.choice([None, *RESULTS])
        incident.follow_up, incident.result = follow_up, result
        reports = list(await session.scalars(select(Report).where(Report.incident_id == incident.id)))
        for report in reports:
            report.follow_up, report.result = follow_up, result
            session.add(ReportFeedback(report_id=report.id, kind="follow_up", text="opvolging",
                                       at=report.received_at + timedelta(minutes=self.rng.randint(1, 600))))
        session.add(FactChange(incident_id=incident.id))

    async def merge(self, session: AsyncSession) -> None:
        target, other = await self._incident(session), await self._incident(session)
        if target.id == other.id:
            return
        await session.execute(update(Report).where(Report.incident_id == other.id).values(incident_id=target.id))
        session.add(AuditEntry(at=datetime(2026, 4, 1, tzinfo=UTC), actor_type="staff", action="incident.merge",
                               target_type="incident", target_id=str(target.id), detail={}))
        session.add(FactChange(incident_id=target.id))

    async def first_action(self, session: AsyncSession) -> None:
        report = await self._report(session)
        if report.incident_id is None:
            return
        session.add(AuditEntry(at=report.received_at + timedelta(seconds=self.rng.randint(0, 20_000)),
                               actor_type="staff", action="incident.claim", target_type="incident",
                               target_id=str(report.incident_id), detail={}))
        session.add(FactChange(incident_id=report.incident_id))

    async def feedback(self, session: AsyncSession) -> None:
        report = await self._report(session)
        at = report.received_at + timedelta(seconds=self.rng.randint(60, 90_000))
        session.add(Delivery(purpose="feedback", report_id=report.id, beheerder_id=report.beheerder_id,
                             channel="app", status="delivered", sent_at=at, delivered_at=at, created_at=at))
        session.add(FactChange(report_id=report.id))

    async def group(self, session: AsyncSession) -> None:
        """A beheerder choosing (or, for this test, not yet having chosen) the group: the wijk moves too."""
        report = await self._report(session)
        if self.rng.random() < 0.5:
            report.group_id = report.source_wijk_code = None
        else:
            report.group_id = self.rng.choice(list(self.world.group_wijk))
            report.source_wijk_code = self.world.group_wijk[report.group_id]
        session.add(FactChange(report_id=report.id))

    async def purge(self, session: AsyncSession) -> None:
        """The follow-up and delivery rows gone: the steps stay counted."""
        report = await self._report(session)
        await session.execute(delete(ReportFeedback).where(ReportFeedback.report_id == report.id))
        await session.execute(delete(Delivery).where(Delivery.report_id == report.id))
        session.add(FactChange(report_id=report.id))
        self.purged.add(report.id)

    async def requeue(self, session: AsyncSession) -> None:
        session.add(FactChange(report_id=(await self._report(session)).id))


async def _fold(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        folded = await facts.fold_changes(session)
        await session.commit()
        return folded


async def test_after_every_fold_of_random_changes_the_counts_are_those_of_a_count_from_scratch(app, history):
    rng = random.Random(1504)
    changes = Changes(app, history, rng)
    assert await _fold(app) == len(history.reports)
    await _assert_as_if_counted_from_scratch(app, changes.purged)
    for step in range(30):
        chosen = await changes.apply(rng.choice([1, 1, 2, 5]))
        await _fold(app)
        try:
            await _assert_as_if_counted_from_scratch(app, changes.purged)
        except AssertionError as error:
            raise AssertionError(f"after step {step}: {chosen}") from error


async def test_two_folds_at_once_count_each_change_once(app, history):
    await _fold(app)
    changes = Changes(app, history, random.Random(7))
    await changes.apply(12)

    first, second = await asyncio.gather(_fold(app), _fold(app))

    assert first + second > 0
    await _assert_as_if_counted_from_scratch(app, changes.purged)
