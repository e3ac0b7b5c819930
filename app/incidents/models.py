"""Incidents: one event seen by one or more groups, the unit of the operators' queue and the wall."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, utcnow

# Open incidents that a new report can join (see app.incidents.service._open_incidents_near, which spells the
# same condition with the same literals, so that SQLite and PostgreSQL both use this partial index).
JOINABLE_INCIDENT = "status = 'open' AND urgency != 'none'"


class Incident(Base):
    """One event seen by one or more groups: the unit of the operators' queue and the wall."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_joinable", "region_id", "last_report_at", sqlite_where=text(JOINABLE_INCIDENT),
              postgresql_where=text(JOINABLE_INCIDENT)),
        # The queue and the wall: one status, urgency by urgency, oldest first (queue.list_queue).
        Index("ix_incidents_queue", "status", "urgency", "first_report_at", "id"),
        # The console's search orders and counts its matches by these fields alone: index-only lookups on
        # PostgreSQL instead of reading a common word's 10,000 incidents (app.incidents.search; SQLite has no
        # INCLUDE and reads them by rowid).
        Index("ix_incidents_search", "id", postgresql_include=["last_report_at", "status", "urgency", "wijk_code"]),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    urgency: Mapped[str] = mapped_column(String(8), default="none")  # P1 | P2 | P3 | none
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
    # search every report of a big incident (app.incidents.service.note_photo_stored and _recompute keep it).
    first_photo_id: Mapped[int | None] = mapped_column(Integer)
    # A report of it carries the triage's "niet herkend" reason: the console marks the incident. Kept here for
    # the same reason as first_photo_id (set in _absorb, recomputed in _recompute).
    unrecognised: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The most serious reason of any of its reports ({code, text}: a weapon, an injury, a fire), for the card;
    # kept here like first_photo_id (app.incidents.lead; set in _absorb, recomputed in _recompute).
    lead_reason: Mapped[dict[str, str] | None] = mapped_column(JSON)
