"""Broadcasts (alerts), the delivery outbox, the shared rate-limit state and WhatsApp service windows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, utcnow

# Outbox states. pending -> sending -> sent -> delivered -> read; failed and merged are final.
PENDING, SENDING, SENT, DELIVERED, READ, FAILED = "pending", "sending", "sent", "delivered", "read", "failed"
OPEN_STATES = (PENDING, SENDING)
DONE_STATES = (SENT, DELIVERED, READ)
STATUS_RANK = {PENDING: 0, SENDING: 1, SENT: 2, DELIVERED: 3, READ: 4}


class Broadcast(Base):
    """An alert from the meldkamer to every beheerder of one or more wijken."""

    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    text: Mapped[str] = mapped_column(Text)  # as the sender typed it
    message: Mapped[str] = mapped_column(Text)  # the text in the kind's template, as sent
    target: Mapped[dict[str, Any]] = mapped_column(JSON)  # as requested
    wijkcodes: Mapped[list[str]] = mapped_column(JSON, default=list)  # as resolved
    gemeentecodes: Mapped[list[str]] = mapped_column(JSON, default=list)
    region_id: Mapped[int | None] = mapped_column(index=True)  # None when it spans regions
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    confirmed_warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    # Progress events are throttled: changes set the flag, and it is emitted at most once per interval.
    progress_dirty: Mapped[bool] = mapped_column(default=False)
    progress_emitted_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


ALERT_ROWS = "purpose = 'alert' AND superseded IS FALSE"


class Delivery(Base):
    """One message to one beheerder (or public participant) over one channel: the transactional outbox row,
    claimed by workers."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "beheerder_id", "channel"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_recipient", "beheerder_id", "channel", "status"),
        # The claim's pair-rate check: a person's messages sent since a moment, a range, not their whole history.
        Index("ix_deliveries_pair", "beheerder_id", "channel", "sending_since"),
        # The evaluation's alert figures (app.stats.alerts) read only these columns of the current alert rows,
        # without the far more numerous terugkoppeling rows.
        Index("ix_deliveries_alerts", "broadcast_id", "beheerder_id", postgresql_where=text(ALERT_ROWS),
              sqlite_where=text(ALERT_ROWS),
              postgresql_include=["delivered_at", "read_at", "forwarded_at", "status", "id"]),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # alert | feedback
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    beheerder_id: Mapped[int | None] = mapped_column(ForeignKey("beheerders.id", ondelete="CASCADE"))
    # Or, instead of a beheerder, a public participant of an operation (WhatsApp only; the number is theirs).
    public_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("operation_public_participants.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # whatsapp | app | webhook | email
    fallbacks: Mapped[list[str]] = mapped_column(JSON, default=list)  # next channels after a permanent failure
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    body: Mapped[str | None] = mapped_column(Text)  # own text (feedback); an alert's is its broadcast's message
    parts: Mapped[list[str]] = mapped_column(JSON, default=list)  # combined feedback texts
    use_template: Mapped[bool] = mapped_column(default=False)  # WhatsApp said the 24-hour window is closed
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # every try, each with its own attempt id
    failures: Mapped[int] = mapped_column(Integer, default=0)  # tries that count towards the maximum
    attempt_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # biz_opaque_callback_data
    next_attempt_at: Mapped[datetime | None] = mapped_column()  # due time; while sending: the lease's end
    sending_since: Mapped[datetime | None] = mapped_column()
    provider_message_id: Mapped[str | None] = mapped_column(String(200), index=True)
    error_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    superseded: Mapped[bool] = mapped_column(default=False)  # failed, and a fallback channel took over
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()
    read_at: Mapped[datetime | None] = mapped_column()
    failed_at: Mapped[datetime | None] = mapped_column()
    forwarded_at: Mapped[datetime | None] = mapped_column()
    forwarded_via: Mapped[str | None] = mapped_column(String(16))  # portal | whatsapp


class RateLimitState(Base):
    """Shared send pacing on PostgreSQL: the theoretical arrival time (epoch seconds) per channel key."""

    __tablename__ = "delivery_rate_limits"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tat: Mapped[float] = mapped_column(Float, default=0.0)


class WhatsAppWindow(Base):
    """The last time a beheerder wrote to us on WhatsApp outside a report (replies to alerts)."""

    __tablename__ = "whatsapp_windows"
    beheerder_id: Mapped[int] = mapped_column(ForeignKey("beheerders.id", ondelete="CASCADE"), primary_key=True)
    last_inbound_at: Mapped[datetime] = mapped_column()
