"""Reports (meldingen), their photos, per-year case numbers, quarantined messages and WhatsApp statuses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.database import Base, utcnow

REPORT_STATUSES = ("ontvangen", "in_behandeling", "afgehandeld")


class CaseCounter(Base):
    """Hands out case numbers MK-<year>-<n> without gaps under concurrency (row-locked upsert)."""

    __tablename__ = "case_counters"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


UNPURGED_REPORT = "purged_at IS NULL"
class IntakeRateLimit(Base):
    """The per-beheerder report limit, shared by every app process: the theoretical arrival time (GCRA, epoch
    seconds) of the next report per key (app.intake.ratelimit.SharedRateLimiter)."""

    __tablename__ = "intake_rate_limits"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tat: Mapped[float] = mapped_column(Float)


class Report(Base):
    """A melding as forwarded by a beheerder, through any channel."""

    __tablename__ = "reports"
    # The retention purge looks for old reports among those it has not purged yet (app.privacy.retention).
    __table_args__ = (UniqueConstraint("beheerder_id", "idempotency_key"),
                      UniqueConstraint("public_participant_id", "idempotency_key"),
                      Index("ix_reports_unpurged", "received_at", sqlite_where=text(UNPURGED_REPORT),
                            postgresql_where=text(UNPURGED_REPORT)))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(String(32), unique=True)
    # The reporter: a beheerder, or (beheerder_id None) a public participant of an operation, who joined it by
    # its keyword and is in no registry (operation_public_participants.id; no foreign key, as operation_id).
    # beheerder_id is looked up through the unique (beheerder_id, idempotency_key), whose prefix it is.
    beheerder_id: Mapped[int | None] = mapped_column(ForeignKey("beheerders.id", ondelete="RESTRICT"))
    public_participant_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # None while the group is still to be chosen (group_pending): a WhatsApp report from a beheerder with
    # several groups; group_choices are the group ids offered to them, in the order of the question.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"), index=True)
    group_pending: Mapped[bool] = mapped_column(default=False)
    group_choices: Mapped[list[int] | None] = mapped_column(JSON)
    source_wijk_code: Mapped[str | None] = mapped_column(String(16), index=True)  # None: group not yet chosen
    region_id: Mapped[int | None] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(32))  # api | portal | whatsapp | partner:<name>
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))

    text: Mapped[str] = mapped_column(Text)  # NFC, control characters removed
    text_original: Mapped[str] = mapped_column(Text)  # as received
    observed_at: Mapped[datetime | None] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    called_112: Mapped[bool | None] = mapped_column()
    forwarded: Mapped[bool] = mapped_column(default=False)

    street: Mapped[str | None] = mapped_column(String(200))
    house_number: Mapped[str | None] = mapped_column(String(16))
    place: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    location_source: Mapped[str | None] = mapped_column(String(32))  # reporter | whatsapp | photo_gps

    status: Mapped[str] = mapped_column(String(16), default="ontvangen")
    advice: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The triage engine's suggestion (labels, reasons); filled by the triage seam.
    triage: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Current labels: the engine's suggestion until an operator overrides them.
    urgency: Mapped[str | None] = mapped_column(String(8))
    category: Mapped[str | None] = mapped_column(String(32))
    offence: Mapped[str | None] = mapped_column(String(32))
    in_progress: Mapped[bool | None] = mapped_column()
    appearance_only: Mapped[bool] = mapped_column(default=False)
    wijk_code: Mapped[str | None] = mapped_column(String(16))
    point_lat: Mapped[float | None] = mapped_column(Float)  # resolved location (street or coordinates)
    point_lon: Mapped[float | None] = mapped_column(Float)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    # The operation (operations.id) whose participant sent it while it was open, set by the intake flow. No
    # foreign key: SQLite could add one only by copying this table (migration 0013); operations are never deleted.
    operation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    follow_up: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[datetime | None] = mapped_column()
    purged_at: Mapped[datetime | None] = mapped_column()  # its personal text removed after the retention period

    photos: Mapped[list[ReportPhoto]] = relationship(back_populates="report", order_by="ReportPhoto.id")


class ReportFeedback(Base):
    """Terugkoppeling: what the police did with a report, in words the beheerder can pass on."""

    __tablename__ = "report_feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # follow_up | result | note | status
    text: Mapped[str] = mapped_column(Text)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))


PENDING_PHOTO = "status = 'pending'"


class ReportPhoto(Base):
    """A photo, stored re-encoded (pixels only) under a random name; WhatsApp media arrive later."""

    __tablename__ = "report_photos"
    # Only pending downloads are looked up by status (the media fetcher); an index on every status misled
    # SQLite's planner into walking all stored photos (migration 0006).
    __table_args__ = (Index("ix_report_photos_pending", "next_attempt_at", sqlite_where=text(PENDING_PHOTO),
                            postgresql_where=text(PENDING_PHOTO)),)
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="stored")  # pending | stored | failed
    stored_name: Mapped[str | None] = mapped_column(String(64))
    media_type: Mapped[str | None] = mapped_column(String(32))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    gps_lat: Mapped[float | None] = mapped_column(Float)  # candidate location from EXIF; never kept in the file
    gps_lon: Mapped[float | None] = mapped_column(Float)
    media_id: Mapped[str | None] = mapped_column(String(128))  # WhatsApp media id, while pending
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    report: Mapped[Report] = relationship(back_populates="photos")


class QuarantinedMessage(Base):
    """A message from a number that is not a registered beheerder: for admins, never the operators' queue."""

    __tablename__ = "quarantined_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    sender: Mapped[str | None] = mapped_column(String(160))  # E.164 number, or WhatsApp's user id (BSUID)
    sender_name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    reason: Mapped[str] = mapped_column(String(64))


class WhatsAppStatus(Base):
    """Status callbacks (sent, delivered, read, failed) for messages we sent; the broadcast outbox reads them."""

    __tablename__ = "whatsapp_statuses"
    __table_args__ = (UniqueConstraint("message_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), index=True)
    recipient: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column()
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_title: Mapped[str | None] = mapped_column(String(300))
    callback_data: Mapped[str | None] = mapped_column(String(512), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
