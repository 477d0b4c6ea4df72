"""Sending the mail outbox: claim what is due, compose it from the rows as they are,
hand it to the relay, record the answer.

Delivery is at least once. A mail is claimed in a transaction of its own (its attempt
counted, `next_attempt_at` pushed a lease ahead) and composed there; the SMTP exchange
runs outside any transaction; its outcome is recorded in another. A sender killed
mid-send leaves the mail PENDING under its lease, and it is sent again once the lease
has passed.

Bounds on the mail about one booking (its subject: the booking, its group or its
series) to one address:
- coalescing: claiming a mail marks every other PENDING mail of the same kind, subject
  and address SKIPPED ("superseded"): the one sent is composed now and says it all;
- a rate: at most PER_HOUR such mails in any hour; one due beyond it waits for the hour
  to pass (no attempt counted) and, meanwhile, takes in what comes after it.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from models.mail import smtp
from models.mail.compose import message
from models.mail.composing import NothingToSay, compose
from models.settings import Settings
from models.tables.mail import Mail, MailStatus

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # longer than an SMTP exchange may take
PER_HOUR = 6  # mails about one subject to one address, in any hour
MAX_DELAY = timedelta(hours=6)
SENDER_NAME = "Room bookings"


@dataclass(frozen=True)
class Claimed:
    mail_id: uuid.UUID
    attempt: int
    recipient: str
    message: bytes


_DUE = """
SELECT id FROM mail
WHERE status = 'PENDING' AND next_attempt_at <= %(now)s
ORDER BY next_attempt_at
LIMIT 1
FOR UPDATE SKIP LOCKED
"""


def claim_next(session: Session, now: datetime, settings: Settings) -> Claimed | bool | None:
    """The next due mail, claimed and composed; True when one due was put off or had
    nothing to say (look again), None when nothing is due."""
    found = session.connection().exec_driver_sql(_DUE, {"now": now}).first()
    if found is None:
        return None
    mail = session.get(Mail, found[0])
    assert mail is not None
    opens = _rate_opens(session, mail, now)
    if opens is not None:
        mail.next_attempt_at = opens  # waits for the hour, no attempt counted
        return True
    mail.attempts += 1
    mail.next_attempt_at = now + LEASE
    _supersede(session, mail)
    assert settings.mail_from is not None
    try:
        letter = compose(session, mail, settings, now)
        body = message(letter, sender=settings.mail_from, sender_name=SENDER_NAME, now=now)
    except NothingToSay as why:
        _finish(mail, MailStatus.SKIPPED, str(why))
        return True
    except Exception:
        # A fault of ours (or an address the email package refuses): logged with its
        # traceback; the mail says only that it failed, and the outbox goes on.
        log.exception("mail %s could not be composed", mail.id)
        _finish(mail, MailStatus.FAILED, "could not be composed (see the sender's log)")
        return True
    session.flush()
    return Claimed(mail.id, mail.attempts, mail.recipient, body.as_bytes())


def _rate_opens(session: Session, mail: Mail, now: datetime) -> datetime | None:
    """When the rate allows this mail, if not now: an hour after the oldest of the last
    PER_HOUR sent about its subject to its address."""
    recent = session.scalars(
        select(Mail.sent_at)
        .where(
            Mail.subject_id == mail.subject_id,
            Mail.recipient == mail.recipient,
            Mail.status == MailStatus.SENT,
            Mail.sent_at > now - timedelta(hours=1),
        )
        .order_by(Mail.sent_at.desc())
        .limit(PER_HOUR)
    ).all()
    if len(recent) < PER_HOUR or recent[-1] is None:
        return None
    return recent[-1] + timedelta(hours=1)


def _supersede(session: Session, mail: Mail) -> None:
    session.execute(
        update(Mail)
        .where(
            Mail.kind == mail.kind,
            Mail.subject_id == mail.subject_id,
            Mail.recipient == mail.recipient,
            Mail.status == MailStatus.PENDING,
            Mail.id != mail.id,
        )
        .values(
            status=MailStatus.SKIPPED, next_attempt_at=None, last_error=f"superseded by {mail.id}"
        )
        .execution_options(synchronize_session=False)
    )


def _finish(mail: Mail, status: MailStatus, why: str | None) -> None:
    mail.status = status
    mail.next_attempt_at = None
    mail.last_error = why[: smtp.ERROR_EXCERPT] if why else None


def retry_delay(attempt: int, base_seconds: float) -> timedelta:
    """base * 2^(attempt - 1), plus up to a quarter more (jitter), capped at MAX_DELAY."""
    delay = min(base_seconds * 2 ** (attempt - 1), MAX_DELAY.total_seconds())
    return timedelta(seconds=delay * random.uniform(1.0, 1.25))  # noqa: S311 - jitter


def record(
    session: Session, claimed: Claimed, outcome: smtp.Outcome, *, now: datetime, settings: Settings
) -> tuple[str, timedelta | None]:
    """The attempt's outcome: SENT; PENDING again after a backoff; or FAILED (a 5xx
    answer, or the attempts spent). Answers its name and the retry's delay."""
    delay = None
    values: dict[str, object] = {"last_error": outcome.answer}
    if outcome.sent:
        values.update(status=MailStatus.SENT, sent_at=now, next_attempt_at=None)
        name = "sent"
    elif outcome.retry and claimed.attempt < settings.mail_max_attempts:
        delay = retry_delay(claimed.attempt, settings.mail_retry_base_seconds)
        values.update(next_attempt_at=now + delay)
        name = "retry"
    else:
        values.update(status=MailStatus.FAILED, next_attempt_at=None)
        name = "failed"
    session.execute(
        update(Mail)
        .where(
            Mail.id == claimed.mail_id,
            Mail.status == MailStatus.PENDING,
            Mail.attempts == claimed.attempt,  # still this attempt's claim
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return name, delay


@dataclass
class Round:
    """What one turn of the sender did: each outcome by name, and the soonest retry."""

    outcomes: list[str]
    retry_in: timedelta | None = None
    more: bool = False  # it stopped at its limit with mail still due


def send_due(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    clock: Callable[[], datetime],
    limit: int = 50,
) -> Round:
    """Send what is due, one mail after another over one SMTP session, up to `limit`."""
    assert settings.smtp_url is not None and settings.mail_from is not None
    done = Round([])
    with smtp.RelaySession(smtp.Relay.parse(settings.smtp_url)) as relay:
        while len(done.outcomes) < limit:
            with sessions.begin() as session:
                claimed = claim_next(session, clock(), settings)
            if claimed is None:
                return done
            if claimed is True or claimed is False:
                done.outcomes.append("skipped")
                continue
            outcome = relay.send(settings.mail_from, claimed.recipient, claimed.message)
            with sessions.begin() as session:
                name, delay = record(session, claimed, outcome, now=clock(), settings=settings)
            done.outcomes.append(name)
            if delay is not None and (done.retry_in is None or delay < done.retry_in):
                done.retry_in = delay
            log.info("mail %s attempt %d: %s", claimed.mail_id, claimed.attempt, name)
    done.more = True
    return done


_BACKLOG = """
SELECT count(*), coalesce(extract(epoch FROM %(now)s - min(created_at)), 0)
FROM mail WHERE status = 'PENDING'
"""


def backlog(session: Session, now: datetime) -> tuple[int, float]:
    """(mails not yet sent nor failed, the oldest one's age in seconds), for /metrics."""
    count, age = session.connection().exec_driver_sql(_BACKLOG, {"now": now}).one()
    return int(count), float(age)


def due(session: Session, now: datetime) -> bool:
    """Some mail is due now."""
    return bool(
        session.scalar(
            select(func.count()).select_from(
                select(Mail.id)
                .where(Mail.status == MailStatus.PENDING, Mail.next_attempt_at <= now)
                .limit(1)
                .subquery()
            )
        )
    )
