"""A mail of the outbox composed from the rows as they are when it is sent: what it says
now, or that it has nothing left to say (NothingToSay: the mail is SKIPPED, with why).

Checked again here, whatever the fan-out saw: the address is one the subject names
(models/mail/subjects.py), and its user has not turned mail off.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models.domain.states import BookingStatus
from models.mail import itip, letters, subjects
from models.mail.compose import Letter
from models.mail.itip import Invitation, Method, Person
from models.settings import Settings
from models.tables.bookings import Booking
from models.tables.mail import Mail, MailKind
from models.tables.requests import BookingRequest
from models.tables.rooms import Room

APPROVALS_SHOWN = 10  # an approver's mail lists at most this many waiting bookings


class NothingToSay(Exception):
    """The mail has nothing left to say; the message says why."""


def compose(session: Session, mail: Mail, settings: Settings, now: datetime) -> Letter:
    if subjects.opted_out(session, mail.recipient):
        raise NothingToSay("the recipient turned mail off")
    if mail.booking_id is None:
        raise NothingToSay("no booking")
    subject = subjects.load_subject(session, mail.booking_id)
    if subject is None:
        raise NothingToSay("the booking is gone")
    base = settings.public_url or ""
    user = subjects.users_by_email(session, [mail.recipient]).get(mail.recipient)
    to = Person(mail.recipient, user.name if user else None)
    if mail.kind in (MailKind.INVITATION, MailKind.CANCELLATION):
        return _calendar_mail(session, mail, subject, to, settings)
    if mail.kind == MailKind.APPROVAL:
        return _approval(session, subject, to, base, now)
    booking = next(b for b in subject.bookings if b.id == mail.booking_id)
    if to.email != subject.organizer.email.lower() and mail.kind == MailKind.REMINDER:
        raise NothingToSay("the recipient no longer organizes it")
    if mail.kind == MailKind.PROMOTED:
        return _promoted(session, mail, subject, booking, to, base)
    return _reminder(session, mail, subject, booking, to, base, now)


def _calendar_mail(
    session: Session, mail: Mail, subject: subjects.Subject, to: Person, settings: Settings
) -> Letter:
    named = subject.named()
    removed = to.email not in named
    entry = subjects.entry(session, subject)
    organizer = subjects.person(subject.organizer)
    attendees = subject.attendee_addresses()
    assert settings.mail_from is not None
    base = (entry, organizer, settings.mail_from, attendees)
    shown = None
    if mail.kind == MailKind.INVITATION:
        if removed:
            raise NothingToSay("the booking no longer names the recipient")
        if not subject.held:
            raise NothingToSay("cancelled since: its cancellation says so")
        invitation = Invitation(Method.REQUEST, *base)
    elif removed:
        if not subjects.invited_before(session, subject.id, to.email):
            raise NothingToSay("the booking never named the recipient")
        invitation = Invitation(Method.CANCEL, *base, uninvited=to.email)
    elif not subject.held:
        invitation = Invitation(Method.CANCEL, *base)
        shown = next((b for b in subject.bookings if b.id == mail.booking_id), None)
    elif subject.series is not None and subject.cancelled:
        gone = sorted({b.original_start or b.start_time for b in subject.cancelled})
        invitation = Invitation(Method.CANCEL, *base, occurrences=gone)
        shown = next((b for b in subject.cancelled if b.id == mail.booking_id), None)
    else:
        # One room of several given up (the meeting goes on in the others): an update.
        invitation = Invitation(Method.REQUEST, *base)
    about = subjects.about(session, subject, shown)
    calendar = itip.render(invitation)
    return letters.invitation(
        about,
        to,
        calendar=calendar,
        method=invitation.method,
        base_url=settings.public_url or "",
        removed=invitation.uninvited is not None,
    )


def _approval(
    session: Session, subject: subjects.Subject, to: Person, base: str, now: datetime
) -> Letter:
    waiting = [
        b
        for b in subject.bookings
        if b.status == BookingStatus.PENDING
        and b.start_time > now
        and _approves(session, b, to.email)
    ]
    if not waiting:
        raise NothingToSay("nothing waits for the recipient any more")
    shown = [subjects.about(session, subject, b) for b in waiting[:APPROVALS_SHOWN]]
    requester = subjects.person(subject.organizer)
    return letters.approval(shown, to, requester=requester, base_url=base, more=len(waiting))


def _approves(session: Session, booking: Booking, address: str) -> bool:
    room = session.get(Room, booking.room_id)
    if room is None:
        return False
    return address in {user.email.lower() for user in subjects.approvers(session, room)}


def _promoted(
    session: Session,
    mail: Mail,
    subject: subjects.Subject,
    booking: Booking,
    to: Person,
    base: str,
) -> Letter:
    request = session.get(BookingRequest, mail.subject_id)
    requester = subjects.users_by_email(session, [to.email]).get(to.email)
    if request is None or requester is None or requester.id != request.requester_id:
        raise NothingToSay("the recipient did not make this request")
    if booking.status not in subjects.HELD:
        raise NothingToSay("cancelled since")
    about = subjects.about(session, subject, booking)
    return letters.promoted(about, to, task_id=request.id, base_url=base)


def _reminder(
    session: Session,
    mail: Mail,
    subject: subjects.Subject,
    booking: Booking,
    to: Person,
    base: str,
    now: datetime,
) -> Letter:
    if booking.status != BookingStatus.CONFIRMED:
        raise NothingToSay("no longer confirmed")
    if booking.start_time <= now:
        raise NothingToSay("the meeting has started")
    if booking.start_time != mail.due_for:
        raise NothingToSay("moved since: reminded before its new start")
    room = session.get(Room, booking.room_id)
    release = room.auto_release_minutes if room else None
    code = booking.meeting.join_code if booking.meeting else None
    about = subjects.about(session, subject, booking)
    return letters.reminder(about, to, base_url=base, join_code=code, release_minutes=release)
