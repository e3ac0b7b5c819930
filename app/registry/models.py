"""Regions > gemeenten > wijken, groups, beheerders and wall displays."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Float, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.database import Base, utcnow

beheerder_groups = Table(
    "beheerder_groups",
    Base.metadata,
    Column("beheerder_id", ForeignKey("beheerders.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)


class Region(Base):
    """A meldkamer's area."""

    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    gemeenten: Mapped[list[Gemeente]] = relationship(back_populates="region")


class Gemeente(Base):
    __tablename__ = "gemeenten"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="SET NULL"), index=True)
    region: Mapped[Region | None] = relationship(back_populates="gemeenten")
    wijken: Mapped[list[Wijk]] = relationship(back_populates="gemeente")


class Wijk(Base):
    __tablename__ = "wijken"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    gemeente_id: Mapped[int] = mapped_column(ForeignKey("gemeenten.id", ondelete="RESTRICT"), index=True)
    # GeoJSON geometry in WGS84 (lon, lat), as imported from the CBS wijk- en buurtkaart.
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    centroid_lat: Mapped[float | None] = mapped_column(Float)
    centroid_lon: Mapped[float | None] = mapped_column(Float)
    # Aantal huishoudens (CBS wijk- en buurtkaart AANT_HH): the evaluation's reports per 1,000 households.
    households: Mapped[int | None] = mapped_column(Integer)
    gemeente: Mapped[Gemeente] = relationship(back_populates="wijken")
    groups: Mapped[list[Group]] = relationship(back_populates="wijk")


class Street(Base):
    """Gazetteer entry: a point on a named street inside a wijk."""

    __tablename__ = "streets"
    __table_args__ = (UniqueConstraint("name", "wijk_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    wijk_id: Mapped[int] = mapped_column(ForeignKey("wijken.id", ondelete="CASCADE"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    wijk: Mapped[Wijk] = relationship()


class Group(Base):
    """A WhatsApp neighbourhood group."""

    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    wijk_id: Mapped[int] = mapped_column(ForeignKey("wijken.id", ondelete="RESTRICT"), index=True)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    wijk: Mapped[Wijk] = relationship(back_populates="groups")
    beheerders: Mapped[list[Beheerder]] = relationship(secondary=beheerder_groups, back_populates="groups")


class Beheerder(Base):
    """Administrator of one or more groups; the police talk to groups only through them."""

    __tablename__ = "beheerders"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)  # E.164
    # WhatsApp's business-scoped user id (BSUID, "NL.1234..."): set by an admin, or learned from a message
    # that carries it beside the phone number; a sender who hides their number is matched by it.
    whatsapp_user_id: Mapped[str | None] = mapped_column(String(160), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)  # preferred first
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    groups: Mapped[list[Group]] = relationship(secondary=beheerder_groups, back_populates="beheerders")


class WallDisplay(Base):
    """A videowall screen: read-only, scoped to one region."""

    __tablename__ = "wall_displays"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    region: Mapped[Region] = relationship()
    notes: Mapped[str | None] = mapped_column(Text)
