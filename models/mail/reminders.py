"""Periodic mail work, declared for beat (models/periodic.py): the organizer's reminder
REMINDER_MINUTES before a booking's start, and the purge of old mail.

A reminder is one mail row per booking and start, made by an INSERT that a unique index
(`uq_mail_reminder`) lets through once: two runs at once (two beats, a tick during beat)
make one row, whichever commits first, and the job's advisory lock keeps them from even
trying together. Its send is then at least once, as every mail's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session, sessionmaker

from models.periodic import SKIPPED, JobContext, exclusive, periodic
from models.tables.mail import Mail, MailStatus

# CONFIRMED bookings that start within the lead time and were booked before it began
# (one made later is fresh in its organizer's mind: its invitation is the reminder), with
# their organizer when they take mail and have no reminder for this start yet (the
# unique index uq_mail_reminder; or one for an old start still unsent, uq_mail_fresh: the
# next run, once that one is SKIPPED as moved). Each room's bookings by the (room_id,
# start_time) index: no index of all starts is kept.
_DUE = """
INSERT INTO mail (id, kind, subject_id, booking_id, recipient, status, attempts,
                  next_attempt_at, created_at, due_for)
SELECT gen_random_uuid(), 'reminder', b.id, b.id, lower(u.email), 'PENDING', 0,
       %(now)s, %(now)s, b.start_time
FROM rooms r
CROSS JOIN LATERAL (
    SELECT id, organizer_id, start_time, created_at FROM bookings
    WHERE room_id = r.id AND status = 'CONFIRMED'
      AND start_time > %(now)s AND start_time <= %(now)s + %(lead)s
) b
JOIN users u ON u.id = b.organizer_id AND u.notify_email
WHERE b.created_at <= b.start_time - %(lead)s
ON CONFLICT DO NOTHING
"""


def queue_reminders(sessions: sessionmaker[Session], *, now: datetime, minutes: int) -> int:
    """A reminder for every booking due one; how many new."""
    with sessions.begin() as session:
        if not exclusive(session, "remind"):
            return SKIPPED
        made = session.connection().exec_driver_sql(
            _DUE, {"now": now, "lead": timedelta(minutes=minutes)}
        )
        return int(made.rowcount or 0)


def purge_mail(sessions: sessionmaker[Session], *, now: datetime, retention_days: int) -> int:
    """Delete mail no longer PENDING created before the retention, 1000 rows at a time."""
    cutoff = now - timedelta(days=retention_days)
    deleted = 0
    while True:
        with sessions.begin() as session:
            if not exclusive(session, "purge_mail"):
                return SKIPPED if deleted == 0 else deleted
            old = (
                select(Mail.id)
                .where(Mail.created_at < cutoff, Mail.status != MailStatus.PENDING)
                .limit(1000)
                .scalar_subquery()
            )
            result: CursorResult[tuple[()]] = session.execute(  # type: ignore[assignment]
                delete(Mail).where(Mail.id.in_(old))
            )
            count = result.rowcount or 0
        deleted += count
        if count < 1000:
            return deleted


@periodic("remind", lock=8)
def remind(ctx: JobContext) -> int:
    """Reminders due now (nothing without SMTP_URL, or with REMINDER_MINUTES=0)."""
    minutes = ctx.settings.reminder_minutes
    if not ctx.settings.mail_on or minutes <= 0:
        return 0
    return queue_reminders(ctx.sessions, now=ctx.now, minutes=minutes)


@periodic("purge_mail", lock=9)
def purge_mail_job(ctx: JobContext) -> int:
    """Mail kept as long as finished requests."""
    return purge_mail(ctx.sessions, now=ctx.now, retention_days=ctx.settings.request_retention_days)
