"""Outbox events to mail: who gets which mail about what (one row per address).

Run by the dispatch (models/services/dispatch.py) in the transaction that marks the
events dispatched, so each event makes its mail once. A mail is composed when it is
sent, from the rows as they are then, so one mail says everything that happened before
it: a later event for the same kind, subject and address finds a fresh (never tried)
mail already waiting and adds nothing (the `uq_mail_fresh` index).

- booking.confirmed, booking.changed: an invitation to the organizer and each attendee
  that is an email address; a CANCEL to an address it no longer names that was sent an
  invitation before.
- booking.cancelled (any cause): a cancellation to the same people.
- booking.pending (and a change that leaves a booking PENDING): to the room's approvers.
- task.finished of a request that had waited on a waitlist and is now booked: to its
  requester.

Nobody who turned mail off (users.notify_email) gets any.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.states import BookingStatus, RequestStatus
from models.mail import subjects
from models.services.outbox import (
    BOOKING_CANCELLED,
    BOOKING_CHANGED,
    BOOKING_CONFIRMED,
    BOOKING_PENDING,
    TASK_FINISHED,
    OutboxEvent,
)
from models.tables.bookings import Booking
from models.tables.mail import Mail, MailKind
from models.tables.requests import BookingRequest
from models.tables.rooms import Room
from models.tables.users import User


@dataclass(frozen=True)
class Wanted:
    kind: MailKind
    subject_id: uuid.UUID
    booking_id: uuid.UUID | None
    recipient: str


def fan_out(session: Session, events: Sequence[OutboxEvent], now: datetime) -> int:
    """The mail these events make, written; how many new rows."""
    wanted: dict[tuple[MailKind, uuid.UUID, str], Wanted] = {}
    loaded: dict[uuid.UUID, subjects.Subject | None] = {}  # a series' 500 events: one load
    for event in events:
        for mail in _wanted(session, event, loaded):
            wanted[(mail.kind, mail.subject_id, mail.recipient)] = mail  # the last event's
    if not wanted:
        return 0
    users = subjects.users_by_email(session, [w.recipient for w in wanted.values()])
    rows = [
        {
            "id": uuid.uuid4(),
            "kind": w.kind,
            "subject_id": w.subject_id,
            "booking_id": w.booking_id,
            "recipient": w.recipient,
            "next_attempt_at": now,
            "created_at": now,
        }
        for w in wanted.values()
        if (user := users.get(w.recipient)) is None or user.notify_email
    ]
    if not rows:
        return 0
    done = session.execute(
        insert(Mail)
        .values(rows)
        .on_conflict_do_nothing(
            index_elements=["kind", "subject_id", "recipient"],
            index_where=text("status = 'PENDING' AND attempts = 0"),
        )
        .returning(Mail.id)
    )
    return len(done.all())


def _wanted(
    session: Session, event: OutboxEvent, loaded: dict[uuid.UUID, subjects.Subject | None]
) -> list[Wanted]:
    if event.subject_id is None:
        return []
    if event.type == TASK_FINISHED:
        return _promoted(session, event)
    if event.type not in (BOOKING_PENDING, BOOKING_CONFIRMED, BOOKING_CHANGED, BOOKING_CANCELLED):
        return []
    booking = session.get(Booking, event.subject_id)
    if booking is None:
        return []
    key = subjects.subject_id_of(booking)
    if key not in loaded:
        loaded[key] = subjects.load_subject(session, booking.id)
    subject = loaded[key]
    if subject is None:
        return []
    found: list[Wanted] = []
    if booking.status == BookingStatus.PENDING and event.type in (BOOKING_PENDING, BOOKING_CHANGED):
        found += _approvers(session, subject.id, booking)
    if event.type == BOOKING_PENDING:
        return found
    kind = MailKind.CANCELLATION if event.type == BOOKING_CANCELLED else MailKind.INVITATION
    named = subject.named()
    found += [Wanted(kind, subject.id, booking.id, address) for address in sorted(named)]
    if kind == MailKind.INVITATION:
        found += [
            Wanted(MailKind.CANCELLATION, subject.id, booking.id, address)
            for address in _invited(session, subject.id)
            if address not in named
        ]
    return found


def _approvers(session: Session, subject_id: uuid.UUID, booking: Booking) -> list[Wanted]:
    room = session.get(Room, booking.room_id)
    if room is None:
        return []
    return [
        Wanted(MailKind.APPROVAL, subject_id, booking.id, user.email.lower())
        for user in subjects.approvers(session, room)
    ]


def _invited(session: Session, subject_id: uuid.UUID) -> list[str]:
    """The addresses an invitation about the subject was sent to."""
    found = session.scalars(
        select(Mail.recipient)
        .where(Mail.subject_id == subject_id, Mail.kind == MailKind.INVITATION)
        .where(Mail.status == "SENT")
        .distinct()
    )
    return list(found)


def _promoted(session: Session, event: OutboxEvent) -> list[Wanted]:
    """A requester whose waitlisted request was booked."""
    if event.data.get("status") != RequestStatus.SUCCEEDED.value:
        return []
    request = session.get(BookingRequest, event.subject_id)
    if request is None or request.waitlisted_at is None:
        return []
    requester = session.get(User, request.requester_id)
    booking_id = (request.result or {}).get("booking_id")
    if requester is None or booking_id is None:
        return []
    return [Wanted(MailKind.PROMOTED, request.id, uuid.UUID(booking_id), requester.email.lower())]
