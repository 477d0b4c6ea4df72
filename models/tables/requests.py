"""One row per accepted write: its id is the task id, its seq the acceptance order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from models.domain.states import RequestKind, RequestStatus
from models.tables.base import Base, Timestamps, UUIDPk, enum_column


class BookingRequest(UUIDPk, Timestamps, Base):
    __tablename__ = "booking_requests"
    __table_args__ = (
        UniqueConstraint("requester_id", "idempotency_key"),
        # The decider's hot query: a room's QUEUED requests in order (those that name
        # one room; those that name several are in the GIN index below). Its predicate
        # leaves several-rooms rows out, so the planner never ANDs a scan of all of it
        # into a look-up of those (it did, in generic plans: a scan of every QUEUED row).
        Index(
            "ix_booking_requests_queued",
            "room_id",
            "seq",
            postgresql_where=text("status = 'QUEUED' AND rooms IS NULL"),
        ),
        # QUEUED requests that name several rooms, by their first room (the sweeper) and
        # by every room they name: they stand in the queue of each.
        Index(
            "ix_booking_requests_queued_several",
            "room_id",
            "seq",
            postgresql_where=text("status = 'QUEUED' AND rooms IS NOT NULL"),
        ),
        Index(
            "ix_booking_requests_queued_rooms",
            "rooms",
            postgresql_using="gin",
            postgresql_where=text("status = 'QUEUED' AND rooms IS NOT NULL"),
        ),
        # A room's waitlist, in acceptance order; and the several-rooms waiters by room.
        Index(
            "ix_booking_requests_waitlisted",
            "room_id",
            "seq",
            postgresql_where=text("status = 'WAITLISTED'"),
        ),
        Index(
            "ix_booking_requests_waitlisted_rooms",
            "rooms",
            postgresql_using="gin",
            postgresql_where=text("status = 'WAITLISTED' AND rooms IS NOT NULL"),
        ),
        # The QUEUED requests on one booking, series or group (models/services/accept
        # queues a new one in every room they may touch).
        Index(
            "ix_booking_requests_subject",
            "subject_id",
            postgresql_where=text("status = 'QUEUED' AND subject_id IS NOT NULL"),
        ),
        Index("ix_booking_requests_parent_id", "parent_id"),
        Index("ix_booking_requests_created_at", "created_at"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    kind: Mapped[RequestKind] = mapped_column(enum_column(RequestKind, "request_kind"))
    room_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rooms.id"))
    # Every room the request may touch, when more than room_id (several rooms, a move,
    # a series or group spread over rooms): it is decided in each one's order.
    rooms: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(UUID(as_uuid=True)))
    # The booking, series or group it changes (a series' or group's id for any of its
    # bookings): later requests on the same subject are queued where it may be by then.
    subject_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    requester_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus, "request_status"),
        default=RequestStatus.QUEUED,
    )
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    body_hash: Mapped[str | None] = mapped_column(String(64))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("booking_requests.id")
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When it first joined a waitlist: a SUCCEEDED request that has one was promoted
    # (its requester is told by mail).
    waitlisted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
