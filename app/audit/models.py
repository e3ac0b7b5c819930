"""The audit log. `audit_entries` is append-only: the migrations add triggers that refuse UPDATE and DELETE.
What an entry's detail holds that can name or place a person (an operator's free text, coordinates) lives
in `audit_personal` beside it, whose triggers allow one change only: clearing it (the retention purge)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.database import Base, utcnow

NOT_PURGED = "purged_at IS NULL"


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    # An incident's timeline reads the entries about it (app.incidents.timeline); the evaluation finds an
    # incident's first operator action through it (app.stats.times).
    __table_args__ = (Index("ix_audit_entries_target", "target_type", "target_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(16))  # staff | beheerder | wall | system | anonymous
    actor_id: Mapped[int | None] = mapped_column()
    actor_name: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    source_ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditPersonal(Base):
    """The personal fields of one entry's detail that follow one retention period (`kind`: the purge's kind
    whose period applies). `fields` names them (paths like `values.lat`) and stays after the purge, so that
    a reader can say what was removed; `details` maps each path to its value until the purge sets it NULL."""

    __tablename__ = "audit_personal"
    # The purge looks only at rows it has not cleared yet.
    __table_args__ = (Index("ix_audit_personal_unpurged", "audit_entry_id", sqlite_where=text(NOT_PURGED),
                            postgresql_where=text(NOT_PURGED)),)
    audit_entry_id: Mapped[int] = mapped_column(ForeignKey("audit_entries.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    fields: Mapped[list[str]] = mapped_column(JSON)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    purged_at: Mapped[datetime | None] = mapped_column()
    entry: Mapped[AuditEntry] = relationship()
