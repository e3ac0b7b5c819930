"""One labelled example per report: its text without personal data, the engine's suggestion and the
operator's decision, updated each time an operator sets or changes the incident's labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, utcnow


class LabelledExample(Base):
    __tablename__ = "labelled_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), unique=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    received_at: Mapped[datetime] = mapped_column()
    source_wijk_code: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)  # personal data removed
    suggestion: Mapped[dict[str, Any]] = mapped_column(JSON)  # the engine's seven labels
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)  # the labels as the operator left them
    decided_fields: Mapped[list[str]] = mapped_column(JSON, default=list)  # those the operator set
