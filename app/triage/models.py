"""Hotspots and wanted signalementen: the local knowledge that triage weighs reports against."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, utcnow


class HotspotRecord(Base):
    __tablename__ = "hotspots"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    wijk_code: Mapped[str | None] = mapped_column(String(16), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[int] = mapped_column(Integer)
    offences: Mapped[list[str]] = mapped_column(JSON, default=list)
    hot_times: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SignalementRecord(Base):
    __tablename__ = "signalementen"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    issued_at: Mapped[datetime] = mapped_column()
    valid_until: Mapped[datetime] = mapped_column()
    wijkcodes: Mapped[list[str]] = mapped_column(JSON, default=list)
    offence: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# Open incidents that a new report can join (see app.triage.queue._open_incidents_near, which spells the
# same condition with the same literals, so that SQLite and PostgreSQL both use this partial index).
JOINABLE_INCIDENT = "status = 'open' AND urgency != 'none'"


class Incident(Base):
    """One event seen by one or more groups: the unit of the operators' queue and the wall."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_joinable", "region_id", "last_report_at", sqlite_where=text(JOINABLE_INCIDENT),
              postgresql_where=text(JOINABLE_INCIDENT)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | closed
    urgency: Mapped[str] = mapped_column(String(8), default="none", index=True)  # P1 | P2 | P3 | none
    urgency_override: Mapped[str | None] = mapped_column(String(8))
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden: Mapped[list[str]] = mapped_column(JSON, default=list)  # fields an operator set by hand
    category: Mapped[str | None] = mapped_column(String(32))
    offence: Mapped[str | None] = mapped_column(String(32))
    wijk_code: Mapped[str | None] = mapped_column(String(16), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    group_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text, default="")  # the first report's text, for cards
    appearance_only: Mapped[bool] = mapped_column(default=False)
    first_report_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_report_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    claim_expires_at: Mapped[datetime | None] = mapped_column()
    follow_up: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()
    # The first stored photo of its reports, for the card; kept here so that drawing the card does not
    # search every report of a big incident (app.triage.queue.note_photo_stored and _recompute keep it).
    first_photo_id: Mapped[int | None] = mapped_column(Integer)
