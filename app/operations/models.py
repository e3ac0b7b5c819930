"""Operations (DDO action days, heterdaad, vermissing, events, probleemaanpak), their participants, and the
messages they sent through the broadcast outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, utcnow

operation_incidents = Table(
    "operation_incidents",
    Base.metadata,
    Column("operation_id", ForeignKey("operations.id", ondelete="CASCADE"), primary_key=True),
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
)


class Operation(Base):
    """A temporary channel between the police and the beheerders of an area who opt in."""

    __tablename__ = "operations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), index=True)  # app.core.vocabulary.OperationKind
    status: Mapped[str] = mapped_column(String(16), default="gepland", index=True)  # gepland | open | gesloten
    area: Mapped[dict[str, Any]] = mapped_column(JSON)  # as requested
    wijkcodes: Mapped[list[str]] = mapped_column(JSON, default=list)  # as resolved
    gemeentecodes: Mapped[list[str]] = mapped_column(JSON, default=list)
    region_id: Mapped[int | None] = mapped_column(index=True)  # None when the area spans regions
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime] = mapped_column(index=True)
    briefing: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by_name: Mapped[str | None] = mapped_column(String(200))  # "klok" when its end time closed it
    closing_text: Mapped[str | None] = mapped_column(Text)  # the sender's words in the closing message
    # evenement and vermissing: the word on the posters that anyone may send to the WhatsApp number to join.
    keyword: Mapped[str | None] = mapped_column(String(32), index=True)  # upper case


class OperationParticipant(Base):
    """A beheerder invited to an operation, or who joined it without an invitation; one row per pair."""

    __tablename__ = "operation_participants"
    __table_args__ = (
        UniqueConstraint("operation_id", "beheerder_id"),
        Index("ix_operation_participants_beheerder", "beheerder_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    beheerder_id: Mapped[int] = mapped_column(ForeignKey("beheerders.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="no_answer")  # app.core.vocabulary.ParticipantStatus
    invited_at: Mapped[datetime | None] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column()
    answered_via: Mapped[str | None] = mapped_column(String(16))  # portal | whatsapp
    joined_at: Mapped[datetime | None] = mapped_column()
    # The WhatsApp message of the last answer: Meta delivers a webhook again when it is not sure we got it.
    last_message_id: Mapped[str | None] = mapped_column(String(128))


class PublicParticipant(Base):
    """Someone who sent an operation's keyword (not a beheerder, never in the registry). Their number is kept
    here only, and removed at the operation's closing plus the retention period (app.operations.public)."""

    __tablename__ = "operation_public_participants"
    __table_args__ = (UniqueConstraint("operation_id", "phone"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)  # E.164; None once forgotten
    status: Mapped[str] = mapped_column(String(16))  # app.operations.public.PublicStatus
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    joined_at: Mapped[datetime | None] = mapped_column()
    left_at: Mapped[datetime | None] = mapped_column()
    last_message_id: Mapped[str | None] = mapped_column(String(128))  # Meta delivers a webhook again when unsure
    forgotten_at: Mapped[datetime | None] = mapped_column()


class OperationMessage(Base):
    """A message the operation sent: a broadcast (kind "actie") whose outbox rows do the delivering."""

    __tablename__ = "operation_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))  # invitation | message | closing | answer
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
