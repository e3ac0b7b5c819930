"""Every watched change is an event row, written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, utcnow


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    region_id: Mapped[int | None] = mapped_column(index=True)
    wijk_code: Mapped[str | None] = mapped_column(String(16))
    # Who may see it: "staff" (operators and walls), or "beheerder:<id>" for one beheerder's stream.
    audience: Mapped[str] = mapped_column(String(32), default="staff", index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
