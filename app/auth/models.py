"""Staff users and API tokens (staff sessions, beheerder tokens, wall tokens)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.database import Base, utcnow
from app.registry.models import Beheerder, WallDisplay


class StaffUser(Base):
    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Wijken a wijkagent is responsible for (wijkcodes); empty for other roles.
    wijkcodes: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # first characters, to recognise a token in lists
    kind: Mapped[str] = mapped_column(String(16), index=True)  # staff_session | beheerder | wall
    label: Mapped[str | None] = mapped_column(String(200))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    beheerder_id: Mapped[int | None] = mapped_column(ForeignKey("beheerders.id", ondelete="CASCADE"))
    wall_display_id: Mapped[int | None] = mapped_column(ForeignKey("wall_displays.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()

    staff_user: Mapped[StaffUser | None] = relationship()
    beheerder: Mapped[Beheerder | None] = relationship()
    wall_display: Mapped[WallDisplay | None] = relationship()
