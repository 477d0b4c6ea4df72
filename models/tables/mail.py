"""The mail outbox: one row per message to one address (models/mail/)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base, UUIDPk, enum_column, utcnow


class MailStatus(enum.StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"  # nothing left to say: superseded, opted out, no longer named


class MailKind(enum.StrEnum):
    INVITATION = "invitation"  # iTIP REQUEST: the booking (or series) as it is now
    CANCELLATION = "cancellation"  # iTIP CANCEL: what of it is cancelled
    APPROVAL = "approval"  # to an approver: bookings waiting for them
    PROMOTED = "promoted"  # to a waitlisted requester: booked after all
    REMINDER = "reminder"  # to the organizer, REMINDER_MINUTES before the start


class Mail(UUIDPk, Base):
    """One message to one address, written when its event is fanned out (or by the
    reminder job), composed from the rows as they are when it is sent."""

    __tablename__ = "mail"
    __table_args__ = (
        Index("ix_mail_due", "next_attempt_at", postgresql_where=text("status = 'PENDING'")),
        Index("ix_mail_subject_id_recipient", "subject_id", "recipient"),
        Index("ix_mail_created_at", "created_at"),
        # Coalescing: one fresh (never tried) mail of a kind per subject and address; a
        # later event for them is already covered by it (it is composed when sent).
        Index(
            "uq_mail_fresh",
            "kind",
            "subject_id",
            "recipient",
            unique=True,
            postgresql_where=text("status = 'PENDING' AND attempts = 0"),
        ),
        # One reminder per booking and start, however many runs of the job.
        Index(
            "uq_mail_reminder",
            "subject_id",
            "recipient",
            "due_for",
            unique=True,
            postgresql_where=text("kind = 'reminder'"),
        ),
    )

    kind: Mapped[MailKind] = mapped_column(enum_column(MailKind, "mail_kind"))
    # What it is about: the calendar event's subject (a series, a group, or a booking),
    # or, for a promotion, the request.
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # The booking whose event made it (the one to show when the subject is a request).
    booking_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[MailStatus] = mapped_column(
        enum_column(MailStatus, "mail_status"), default=MailStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A reminder: the start it reminds of (a booking moved later is reminded again).
    due_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
