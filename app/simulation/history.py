"""`meldkamer seed-history --days N`: a realistic past, so that /stats is not empty on a fresh machine.

Everything goes through the services a live relay uses, at simulated times (app.core.database.simulated_time):
reports through the one intake path (`submit_report`, triage and grouping included, `received_at` in the
past), operators' claims and decisions through the incident service (audit, events, terugkoppeling), alerts
through the broadcast service. Only what a phone would answer is written directly: deliveries delivered,
read, forwarded or failed, as the WhatsApp status callbacks would have set them.

Idempotent: each Amsterdam day is drawn from a random generator seeded with the date, its reports carry
idempotency keys, and a finished day is recorded in the audit log and skipped next time. A run that was
interrupted is completed by the next one without writing a report twice."""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import service as audit
from app.audit.models import AuditEntry
from app.auth.models import StaffUser
from app.auth.service import staff_principal
from app.broadcast import service as broadcasts
from app.broadcast.models import DELIVERED, FAILED, PENDING, READ, SENT, Broadcast, Delivery
from app.broadcast.schemas import BroadcastIn, TargetIn
from app.core.database import create_engine, create_read_engine, create_sessionmaker, simulated_time, utcnow
from app.core.errors import ProblemError
from app.core.principal import SYSTEM, Principal
from app.core.settings import Settings
from app.flows.report_intake import ReportIntakeFlow
from app.incidents import service as incidents
from app.incidents.models import Incident
from app.intake.models import Report
from app.intake.schemas import ReportIn
from app.intake.service import IntakeRequest, request_hash, submit_report
from app.intake.writer import IntakeWriter
from app.registry.models import Beheerder, Group, Street, Wijk, beheerder_groups
from app.simulation import scenario, texts
from app.simulation.scenario import AMSTERDAM, Decision
from app.stats.models import FactChange, alerts_changed
from app.triage.runner import TriageRunner

logger = logging.getLogger("app.simulation")
DAY_DONE = "simulation.history_day"  # audit action: this Amsterdam day's history is complete
INTERNATIONAL_WIJKEN = {"WK036302"}  # Lastage: international residents, some messages in English
MAX_DAYS = 400
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Reporter:
    group_id: int
    beheerder_ids: tuple[int, ...]
    wijkcode: str


@dataclass
class World:
    """The registry the history plays in: groups with their beheerders, streets per wijk, the staff."""

    reporters: list[Reporter]
    streets: dict[str, list[str]]
    operator: Principal
    wijkagenten: list[Principal]


@dataclass
class Outcome:
    days: list[str] = field(default_factory=list)
    skipped: int = 0
    already_seeded: bool = False  # with `once`: an earlier run wrote history, this one wrote nothing
    reports: int = 0
    decisions: int = 0
    alerts: int = 0


Action = Callable[[], Awaitable[None]]


class Timeline:
    """Actions in time order; what would happen after the real now is left out."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._queue: list[tuple[datetime, int, Action]] = []
        self._order = itertools.count()

    def at(self, moment: datetime, action: Action) -> None:
        if moment <= self.now:
            heapq.heappush(self._queue, (moment, next(self._order), action))

    async def run(self) -> None:
        while self._queue:
            moment, _, action = heapq.heappop(self._queue)
            with simulated_time(moment):
                await action()


async def seed_history(settings: Settings, days: int, *, once: bool = False, scale: float = 1.0,
                       until: date | None = None) -> Outcome:
    """Writes the `days` Amsterdam days before `until` (default today) that are not there yet. With `once`,
    nothing is written if any day was seeded before."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    engine = create_engine(settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    read_engine = create_read_engine(engine)
    try:
        sessions = create_sessionmaker(engine)
        writer = IntakeWriter(engine, create_sessionmaker(read_engine), settings.photo_dir,
                              ReportIntakeFlow(TriageRunner()))
        seeder = HistorySeeder(sessions, writer, settings, scale)
        last = until or datetime.now(AMSTERDAM).date()
        return await seeder.seed([last - timedelta(days=n) for n in range(days, 0, -1)], once=once)
    finally:
        if read_engine is not engine:
            await read_engine.dispose()
        await engine.dispose()


class HistorySeeder:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], writer: IntakeWriter, settings: Settings,
                 scale: float) -> None:
        self.sessions = sessions
        self.writer = writer
        self.settings = settings
        self.scale = scale
        self.outcome = Outcome()
        self.handled: set[int] = set()  # incidents whose operator work is planned

    async def seed(self, days: list[date], *, once: bool) -> Outcome:
        done = await self._days_done()
        if once and done:
            self.outcome.already_seeded = True
            return self.outcome
        world = await self._world()
        for day in days:
            if day.isoformat() in done:
                self.outcome.skipped += 1
                continue
            await self._seed_day(world, day)
        return self.outcome

    async def _days_done(self) -> set[str]:
        async with self.sessions() as session:
            rows = await session.scalars(select(AuditEntry.target_id).where(AuditEntry.action == DAY_DONE))
            return {row for row in rows if row}

    async def _world(self) -> World:
        async with self.sessions() as session:
            rows = (await session.execute(
                select(Group.id, Wijk.code, Beheerder.id).join(Wijk, Wijk.id == Group.wijk_id)
                .join(beheerder_groups, beheerder_groups.c.group_id == Group.id)
                .join(Beheerder, Beheerder.id == beheerder_groups.c.beheerder_id)
                .where(Group.active.is_(True), Beheerder.active.is_(True)).order_by(Group.id, Beheerder.id))).all()
            streets: dict[str, list[str]] = {}
            for name, code in (await session.execute(select(Street.name, Wijk.code).join(Wijk))).all():
                streets.setdefault(code, []).append(name)
            staff = list(await session.scalars(select(StaffUser).where(StaffUser.active.is_(True))
                                               .order_by(StaffUser.id)))
        operator = next((user for user in staff if user.role == "operator"), None)
        if not rows or operator is None:
            raise LookupError("no groups with beheerders or no operator: run `meldkamer seed-demo` first")
        by_group: dict[tuple[int, str], list[int]] = {}
        for group_id, wijkcode, beheerder_id in rows:
            by_group.setdefault((group_id, wijkcode), []).append(beheerder_id)
        reporters = [Reporter(group_id, tuple(ids), wijkcode) for (group_id, wijkcode), ids in by_group.items()]
        return World(reporters, streets, staff_principal(operator),
                     [staff_principal(user) for user in staff if user.role == "wijkagent" and user.wijkcodes])

    # ---- one day -------------------------------------------------------------------------------------------

    async def _seed_day(self, world: World, day: date) -> None:
        rng = random.Random(f"meldkamer-history-{day.isoformat()}")
        timeline = Timeline(utcnow())
        reports = 0
        for reporter in world.reporters:
            rate = scenario.monthly_rate(random.Random(f"group-{reporter.group_id}")) * self.scale / DAYS_PER_MONTH
            for number in range(_poisson(rng, rate)):
                reports += self._plan_report(rng, timeline, world, reporter, day, f"{reporter.group_id}-{number}")
        if day.weekday() == 0:
            for wijkagent in world.wijkagenten:
                if rng.random() < scenario.WEEKLY_INFORMATION_SHARE:
                    self._plan_tip(rng, timeline, world, wijkagent, day)
        await timeline.run()
        async with self.sessions() as session:
            audit.record(session, SYSTEM, DAY_DONE, target_type="history_day", target_id=day.isoformat(),
                         reports=reports)
            await session.commit()
        self.outcome.days.append(day.isoformat())
        logger.info("history for %s: %d reports", day, reports)

    def _plan_report(self, rng: random.Random, timeline: Timeline, world: World, reporter: Reporter, day: date,
                     key: str) -> int:
        streets = world.streets.get(reporter.wijkcode) or ["Dorpsstraat"]
        message = texts.message(rng, streets, english=reporter.wijkcode in INTERNATIONAL_WIJKEN)
        at = scenario.moment(rng, day)
        beheerder = rng.choice(reporter.beheerder_ids)
        timeline.at(at, self._arrival(rng.random(), timeline, world, reporter.group_id, beheerder, message,
                                      f"history-{day.isoformat()}-{key}"))
        others = [r for r in world.reporters if r.wijkcode == reporter.wijkcode and r.group_id != reporter.group_id]
        if not (message.in_progress and others and rng.random() < scenario.ECHO_SHARE):
            return 1
        echoing = rng.sample(others, min(len(others), rng.randint(1, 2)))
        for index, other in enumerate(echoing):  # the same event, seen from a neighbouring group
            echo = texts.Message(texts.chat_style(rng, message.text), message.kind, message.offence, True,
                                 message.called_112)
            timeline.at(at + timedelta(seconds=rng.randint(40, 480)),
                        self._arrival(rng.random(), timeline, world, other.group_id, other.beheerder_ids[0], echo,
                                      f"history-{day.isoformat()}-{key}-echo{index}"))
        return 1 + len(echoing)

    def _arrival(self, seed: float, timeline: Timeline, world: World, group_id: int, beheerder_id: int,
                 message: texts.Message, key: str) -> Action:
        async def arrive() -> None:
            body = ReportIn(text=message.text, group_id=group_id)
            request = IntakeRequest(beheerder_id=beheerder_id, channel="whatsapp", body=body,
                                    request_hash=request_hash(body), idempotency_key=key, forwarded=True,
                                    received_at=utcnow())
            async with self.sessions() as session:
                report = (await submit_report(session, self.writer, request)).report
            self.outcome.reports += 1
            await self._plan_operator(random.Random(seed), timeline, world, report, message)

        return arrive

    async def _plan_operator(self, rng: random.Random, timeline: Timeline, world: World, report: Report,
                             message: texts.Message) -> None:
        incident_id = report.incident_id
        if incident_id is None or incident_id in self.handled:
            return
        async with self.sessions() as session:
            status = await session.scalar(select(Incident.status).where(Incident.id == incident_id))
        if status != "open":
            return
        self.handled.add(incident_id)
        decision = scenario.decide(rng, urgency=report.urgency or "none", category=report.category or "overig",
                                   intended=message.kind, appearance_only=report.appearance_only)
        received = report.received_at
        timeline.at(received + decision.claim_after, self._claim(world.operator, incident_id))
        timeline.at(received + decision.decide_after, self._decide(rng, world.operator, incident_id, decision))
        kind = scenario.alert_kind(rng, decision.urgency or report.urgency or "none",
                                   decision.category or report.category or "overig", message.in_progress)
        wijk = report.source_wijk_code  # every simulated report comes from a group, so it has one
        if kind is not None and wijk is not None:
            streets = world.streets.get(wijk) or ["Dorpsstraat"]
            body = BroadcastIn(kind=kind, text=texts.alert_text(rng, kind, streets),
                               target=TargetIn(wijkcodes=[wijk]), incident_id=incident_id)
            timeline.at(received + decision.claim_after + timedelta(seconds=rng.randint(20, 150)),
                        self._alert(rng, world.operator, body))

    def _claim(self, operator: Principal, incident_id: int) -> Action:
        async def claim() -> None:
            async with self.sessions() as session:
                try:
                    await incidents.claim(session, operator, incident_id)
                except ProblemError as problem:  # someone else holds it: this operator leaves it
                    logger.info("history: claim of incident %s refused: %s", incident_id, problem.detail)

        return claim

    def _decide(self, rng: random.Random, operator: Principal, incident_id: int, decision: Decision) -> Action:
        async def decide() -> None:
            fields = {name for name, value in (("follow_up", decision.follow_up), ("result", decision.result),
                                               ("category", decision.category), ("urgency", decision.urgency))
                      if value is not None}
            change = incidents.IncidentChange(urgency=decision.urgency, reason=decision.reason,
                                              category=decision.category, follow_up=decision.follow_up,
                                              result=decision.result, close=True, fields=frozenset(fields))
            async with self.sessions() as session:
                try:
                    await incidents.update_incident(session, operator, incident_id, change)
                except ProblemError as problem:
                    logger.warning("history: decision on incident %s refused: %s", incident_id, problem.detail)
                    return
                await _answer_feedback(session, rng, incident_id)
            self.outcome.decisions += 1

        return decide

    def _alert(self, rng: random.Random, sender: Principal, body: BroadcastIn) -> Action:
        async def send() -> None:
            async with self.sessions() as session:
                try:
                    broadcast = await broadcasts.create_broadcast(session, sender, body, self.settings)
                except ProblemError as problem:  # no recipients, a privacy warning: a person would rewrite it
                    logger.info("history: alert not sent: %s", problem.detail)
                    return
                await _answer_alert(session, rng, broadcast.id)
            self.outcome.alerts += 1

        return send

    def _plan_tip(self, rng: random.Random, timeline: Timeline, world: World, wijkagent: Principal, day: date) -> None:
        streets = [s for code in wijkagent.wijkcodes for s in world.streets.get(code, [])] or ["Dorpsstraat"]
        body = BroadcastIn(kind="informatie", text=texts.wijkagent_tip(rng, streets),
                           target=TargetIn(wijkcodes=list(wijkagent.wijkcodes)))
        at = datetime.combine(day, time(10, rng.randrange(60)), tzinfo=AMSTERDAM).astimezone(UTC)
        timeline.at(at, self._alert(rng, wijkagent, body))


# ---- what the phones answer ----------------------------------------------------------------------------------


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the few reports a group sends in a day."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _answered(row: Delivery, answer: scenario.PhoneAnswer, sent_at: datetime) -> None:
    row.attempts = max(row.attempts, 1)
    if answer.failed:
        row.status, row.failed_at, row.failures, row.last_error = FAILED, sent_at, 1, "niet bezorgd (simulatie)"
        row.next_attempt_at = None
        return
    row.sent_at, row.next_attempt_at = sent_at, None
    row.delivered_at = sent_at + answer.delivered_after if answer.delivered_after is not None else None
    row.read_at = sent_at + answer.read_after if answer.read_after is not None else None
    row.status = READ if row.read_at else DELIVERED if row.delivered_at else SENT
    if answer.forwarded_after is not None:
        row.forwarded_at, row.forwarded_via = sent_at + answer.forwarded_after, "whatsapp"


async def _answer_feedback(session: AsyncSession, rng: random.Random, incident_id: int) -> None:
    """The terugkoppeling of the incident's reports, sent when due and answered by the phones."""
    rows = (await session.scalars(
        select(Delivery).join(Report, Report.id == Delivery.report_id)
        .where(Report.incident_id == incident_id, Delivery.purpose == "feedback", Delivery.status == PENDING)
        .order_by(Delivery.id))).all()
    for row in rows:
        _answered(row, scenario.phone_answer(rng, alert=False), row.next_attempt_at or utcnow())
    session.add(FactChange(incident_id=incident_id))
    await session.commit()


async def _answer_alert(session: AsyncSession, rng: random.Random, broadcast_id: int) -> None:
    rows = (await session.scalars(select(Delivery).where(Delivery.broadcast_id == broadcast_id)
                                  .order_by(Delivery.id))).all()
    for row in rows:
        _answered(row, scenario.phone_answer(rng, alert=True), row.created_at)
    await session.flush()
    finished = await session.scalar(select(func.max(func.coalesce(Delivery.delivered_at, Delivery.failed_at)))
                                    .where(Delivery.broadcast_id == broadcast_id))
    await session.execute(update(Broadcast).where(Broadcast.id == broadcast_id)
                          .values(progress_dirty=False, progress_emitted_at=utcnow(), finished_at=finished))
    await alerts_changed(session, [broadcast_id])
    await session.commit()
