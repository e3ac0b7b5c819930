"""The evaluation's own tables: a fact row per report, counts per group and Amsterdam day and month, and the queue of
changes that app.stats.facts folds into them.

The domains that change what a fact is made of (the intake, the audited incident actions, the delivery of
terugkoppeling, a beheerder choosing the group) add a FactChange row in their own transaction; nothing more.
The facts and counts hold no text of a report, so they outlive the purge of report texts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.broadcast.models import Delivery
from app.core.database import Base


class ReportFact(Base):
    """A report as the evaluation counts it: the labels the meldkamer left it with and how long each step
    took (whole seconds after it was received; None when the step has not happened)."""

    __tablename__ = "report_facts"
    report_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date)  # the Amsterdam day it was received
    received_at: Mapped[datetime] = mapped_column()
    group_id: Mapped[int | None] = mapped_column(Integer)
    wijk: Mapped[str | None] = mapped_column(String(16))  # the wijk of the group that forwarded it
    region_id: Mapped[int | None] = mapped_column(Integer)
    operation_id: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(32))
    offence: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[str | None] = mapped_column(String(8))
    passed: Mapped[int] = mapped_column(Integer)  # 1: passed to the police
    called_112: Mapped[int] = mapped_column(Integer)
    follow_up: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[str | None] = mapped_column(String(32))
    flagged: Mapped[int] = mapped_column(Integer)  # 1: appearance-only
    urgency_change: Mapped[str | None] = mapped_column(String(8))  # lifted | lowered | None
    first_action_s: Mapped[int | None] = mapped_column(Integer)
    first_follow_up_s: Mapped[int | None] = mapped_column(Integer)
    feedback_delivered_s: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_report_facts_day_wijk", "day", "wijk"),
                      # the evaluation of one operation (app.stats.reports): its few reports, not a year's facts
                      Index("ix_report_facts_operation", "operation_id", "day",
                            postgresql_where=text("operation_id IS NOT NULL"),
                            sqlite_where=text("operation_id IS NOT NULL")))


class _LabelCounts:
    """The columns every count table shares beside its period: how many facts of one group (forwarded from one
    wijk) carry one label."""

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(Integer)
    wijk: Mapped[str | None] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(80))
    n: Mapped[int] = mapped_column(Integer)


class _BucketCounts:
    """The columns every duration table shares beside its period: how many facts of one wijk took a step
    (`measure`) in the time of one bucket."""

    id: Mapped[int] = mapped_column(primary_key=True)
    wijk: Mapped[str | None] = mapped_column(String(16))
    measure: Mapped[str] = mapped_column(String(32))
    bucket: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)


class DayCount(_LabelCounts, Base):
    """How many reports of one group (forwarded from one wijk) on one Amsterdam day carry a label:
    "reports", "category:<code>", "offence:<code>", "passed", "follow_up:<code>", ... (app.stats.facts)."""

    __tablename__ = "report_day_counts"
    day: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_report_day_counts_day", "day", "wijk"),
                      Index("ix_report_day_counts_label", "label", "day"))  # the weekly counts


class MonthCount(_LabelCounts, Base):
    """The day counts summed per Amsterdam month (`month` is its first day): a year is read as twelve of these
    instead of 365 days of rows."""

    __tablename__ = "report_month_counts"
    month: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_report_month_counts_month", "month", "wijk"),)


class WeekCount(_LabelCounts, Base):
    """The day counts of the weekly series' labels (app.stats.facts.WEEK_LABELS) summed per ISO week (`week` is
    its Monday): a year's weekly series reads 52 weeks of these instead of 365 days of day rows."""

    __tablename__ = "report_week_counts"
    week: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_report_week_counts_week", "week", "wijk"),)


class DayDuration(_BucketCounts, Base):
    """How many reports forwarded from one wijk on one Amsterdam day took a step (`measure`: first_action,
    first_follow_up, feedback_delivered) in a time in (`bucket` - its width, `bucket`] seconds
    (app.stats.facts.BUCKETS): the percentiles of a long period come from these instead of a sort."""

    __tablename__ = "report_day_durations"
    day: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_report_day_durations_day", "day", "wijk"),)


class MonthDuration(_BucketCounts, Base):
    """The day durations summed per Amsterdam month (`month` is its first day)."""

    __tablename__ = "report_month_durations"
    month: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_report_month_durations_month", "month", "wijk"),)


class FactChange(Base):
    """A report, or every report of an incident, whose fact has to be computed again."""

    __tablename__ = "report_fact_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int | None] = mapped_column(Integer)
    incident_id: Mapped[int | None] = mapped_column(Integer)


class AlertFact(Base):
    """An alert as the evaluation counts it: its current deliveries to beheerders who run a group (recipients,
    delivered, read, forwarded, failed, pending) and the whole seconds until ceil(90%) of all its current
    deliveries were delivered (None until then). app.stats.alert_facts keeps it."""

    __tablename__ = "alert_facts"
    broadcast_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column()
    operation_id: Mapped[int | None] = mapped_column(Integer)  # an operation's message (kind "actie")
    recipients: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer)
    read: Mapped[int] = mapped_column(Integer)
    forwarded: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    pending: Mapped[int] = mapped_column(Integer)
    ninety_s: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_alert_facts_created_at", "created_at"),)


class AlertAreaFact(Base):
    """An alert's counts over the recipients who run a group in one wijk (`group_id` None) or who run one group
    (`group_id` set), and the groups reached (`groups`) and those with a beheerder who forwarded it
    (`groups_forwarded`): what the per-wijk figures, the coverage and the area filters sum."""

    __tablename__ = "alert_area_facts"
    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column()
    operation_id: Mapped[int | None] = mapped_column(Integer)
    wijk: Mapped[str] = mapped_column(String(16))
    group_id: Mapped[int | None] = mapped_column(Integer)
    recipients: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer)
    read: Mapped[int] = mapped_column(Integer)
    forwarded: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    pending: Mapped[int] = mapped_column(Integer)
    groups: Mapped[int] = mapped_column(Integer)
    groups_forwarded: Mapped[int] = mapped_column(Integer)

    # A wijk's rows and a group's rows apart: one wijk's year is 3,000 of 94,000 rows.
    __table_args__ = (Index("ix_alert_area_facts_wijk", "wijk", "created_at", postgresql_where=text("group_id IS NULL"),
                            sqlite_where=text("group_id IS NULL")),
                      Index("ix_alert_area_facts_group", "group_id", "created_at",
                            postgresql_where=text("group_id IS NOT NULL"), sqlite_where=text("group_id IS NOT NULL")))


class AlertFactChange(Base):
    """An alert whose facts have to be computed again: the broadcast domain adds one wherever deliveries
    change (app.broadcast.progress.mark_dirty, app.broadcast.outbox.enqueue_alert)."""

    __tablename__ = "alert_fact_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(Integer)


async def alerts_changed(session: AsyncSession, broadcast_ids: Iterable[int | None]) -> None:
    """Queues the facts of these alerts, in the caller's transaction."""
    rows = [{"broadcast_id": broadcast_id} for broadcast_id in sorted({b for b in broadcast_ids if b is not None})]
    if rows:
        await session.execute(insert(AlertFactChange), rows)


async def reports_changed(connection: AsyncConnection | AsyncSession, report_ids: Iterable[int]) -> None:
    """Queues the facts of these reports, in the caller's transaction."""
    rows = [{"report_id": report_id} for report_id in report_ids]
    if rows:
        await connection.execute(insert(FactChange), rows)


async def feedback_delivered(session: AsyncSession, delivery_ids: Iterable[int]) -> None:
    """Queues the facts of the reports whose terugkoppeling these deliveries carry (alerts are left out)."""
    ids = sorted(set(delivery_ids))
    if ids:
        await session.execute(insert(FactChange).from_select(
            ["report_id"], select(Delivery.report_id).where(Delivery.id.in_(ids), Delivery.purpose == "feedback",
                                                            Delivery.report_id.is_not(None))))
