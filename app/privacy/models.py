"""Incidents an operator marked for keeping, how far the purge has scrubbed the event log, and who runs it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, utcnow


class RetentionHold(Base):
    """An incident kept beyond the ordinary retention: its reports are purged only after `keep_until`."""

    __tablename__ = "retention_holds"
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(300))
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)
    keep_until: Mapped[datetime] = mapped_column(index=True)


class PurgeCursor(Base):
    """The last row id of an append-mostly table (the event log) the purge has scrubbed: the next run starts
    after it instead of reading the whole table again."""

    __tablename__ = "purge_cursors"
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)


class JobLease(Base):
    """Which process runs a shared periodic job (the purge) until when (app.privacy.lease)."""

    __tablename__ = "job_leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[float] = mapped_column(Float)  # epoch seconds of the job's clock
