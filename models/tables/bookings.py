"""Bookings, their meetings, and the series that recurring bookings belong to."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.domain.states import BookingStatus, ConflictPolicy, MeetingState
from models.tables.base import Base, Timestamps, UUIDPk, enum_column
from models.tables.rooms import Room


class BookingSeries(UUIDPk, Timestamps, Base):
    __tablename__ = "booking_series"

    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id"), index=True)
    organizer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    request_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    rule: Mapped[dict[str, Any]] = mapped_column(JSONB)
    timezone: Mapped[str] = mapped_column(String(64))
    conflict_policy: Mapped[ConflictPolicy] = mapped_column(
        enum_column(ConflictPolicy, "conflict_policy")
    )
    title: Mapped[str] = mapped_column(String(200))


class Booking(UUIDPk, Timestamps, Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("end_time > start_time", name="end_after_start"),
        # The guarantee: no two bookings of a room that hold their slot (PENDING or
        # CONFIRMED) overlap; back-to-back is fine. Checked when the transaction commits
        # (a series shifted by a week moves each occurrence onto the next one's old slot;
        # only the end state must hold), or at each statement where a decider asks for it
        # (models/services/room_store.py, one request at a time).
        ExcludeConstraint(
            ("room_id", "="),
            (text("tstzrange(start_time, end_time, '[)')"), "&&"),
            where=text("status IN ('PENDING', 'CONFIRMED')"),
            using="gist",
            name="ex_bookings_no_overlap",
            deferrable=True,
            initially="DEFERRED",
        ),
        Index("ix_bookings_room_id_start_time", "room_id", "start_time"),
        Index("ix_bookings_organizer_id_start_time", "organizer_id", "start_time"),
        Index("ix_bookings_created_at", "created_at"),
        # Approvals to decide and to expire: a small set, by start.
        Index("ix_bookings_pending", "start_time", postgresql_where=text("status = 'PENDING'")),
        # The bookings one several-rooms request made together; few have one.
        Index("ix_bookings_group_id", "group_id", postgresql_where=text("group_id IS NOT NULL")),
        # What a delegate booked for others (GET /v1/bookings lists it for them too).
        Index("ix_bookings_booked_by", "booked_by", postgresql_where=text("booked_by IS NOT NULL")),
    )

    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id"))
    organizer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    series_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("booking_series.id"), index=True)
    request_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    start_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    attendees: Mapped[list[str]] = mapped_column(
        ARRAY(String(320)), default=list, server_default=text("'{}'")
    )
    status: Mapped[BookingStatus] = mapped_column(
        enum_column(BookingStatus, "booking_status"),
        default=BookingStatus.CONFIRMED,
    )
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # The bookings of one several-rooms request share it (no table: the id says "together").
    group_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # Who sent the request, when not the organizer (a delegate, an admin).
    booked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # The meeting's URL as asked for: a PENDING booking's meeting is made on approval.
    external_meeting_url: Mapped[str | None] = mapped_column(String(2000))
    # 1, then +1 with each change (a calendar's SEQUENCE).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    # A series occurrence's start as the series first booked it: its RECURRENCE-ID in
    # feeds once it has moved.
    original_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    room: Mapped[Room] = relationship(lazy="select")
    # Lets the unit of work insert a new series before its occurrences.
    series: Mapped[BookingSeries | None] = relationship(lazy="raise")
    meeting: Mapped[Meeting | None] = relationship(
        back_populates="booking", uselist=False, lazy="selectin"
    )


class Meeting(UUIDPk, Timestamps, Base):
    __tablename__ = "meetings"
    __table_args__ = (
        # The housekeeping jobs look only at meetings not yet ENDED: keep that set small.
        Index("ix_meetings_open", "booking_id", postgresql_where=text("state <> 'ENDED'")),
    )

    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id"), unique=True)
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    external_meeting_url: Mapped[str | None] = mapped_column(String(2000))
    state: Mapped[MeetingState] = mapped_column(
        enum_column(MeetingState, "meeting_state"),
        default=MeetingState.SCHEDULED,
    )
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    booking: Mapped[Booking] = relationship(back_populates="meeting")


class RoomClosure(UUIDPk, Timestamps, Base):
    """A window in which the room cannot be booked (painting, a leak, an event)."""

    __tablename__ = "room_closures"
    __table_args__ = (
        CheckConstraint("end_time > start_time", name="end_after_start"),
        Index("ix_room_closures_room_id_start_time", "room_id", "start_time"),
    )

    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id"))
    start_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    request_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
