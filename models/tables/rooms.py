"""Rooms that can be booked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base, Timestamps, UUIDPk


class Room(UUIDPk, Timestamps, Base):
    __tablename__ = "rooms"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint(
            "auto_release_minutes IS NULL OR auto_release_minutes > 0",
            name="auto_release_positive",
        ),
        # GET /v1/rooms, availability and find-time match building= and floor= ignoring case.
        Index("ix_rooms_building_floor", func.lower(text("building")), func.lower(text("floor"))),
    )

    name: Mapped[str] = mapped_column(String(200), unique=True)
    capacity: Mapped[int] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(200))
    building: Mapped[str | None] = mapped_column(String(100))
    floor: Mapped[str | None] = mapped_column(String(100))
    amenities: Mapped[list[str]] = mapped_column(
        ARRAY(String(100)), default=list, server_default=text("'{}'")
    )
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    auto_release_minutes: Mapped[int | None] = mapped_column(Integer)
    # The room's rules (models/domain/policy.py, RoomPolicy.as_dict); {} is no rule.
    policy: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
