"""The mail task (the `webhooks` queue, `bookings webhooks`): send what is due.

A sender process gives mail at most MAIL_SENDS of its threads at once, so a relay that
hangs never holds the threads webhooks are sent from: a send_mail that finds them all
busy returns at once (those at work take what is due, the new mail included). Each one
sends over one SMTP session until nothing is due or it has sent its share, then hands
on: another send_mail if mail is still due, one with a countdown for the soonest retry.
"""

from __future__ import annotations

import threading

from models.domain.states import utcnow
from models.mail.sending import send_due
from models.metrics import MAIL_SENT
from models.queues import SEND_MAIL
from worker.app import RETRY_OUTAGES, app
from worker.runtime import runtime

MAIL_SENDS = 2  # threads of one sender process that may talk to the relay at once
_SLOTS = threading.BoundedSemaphore(MAIL_SENDS)


@app.task(
    name=SEND_MAIL,
    **RETRY_OUTAGES,
)
def send_mail() -> int:
    """Send the mail that is due, over one SMTP session; how many were handled."""
    rt = runtime()
    if not rt.settings.mail_on or not _SLOTS.acquire(blocking=False):
        return 0
    try:
        done = send_due(rt.sessions, rt.settings, clock=utcnow)
    finally:
        _SLOTS.release()
    for outcome in done.outcomes:
        MAIL_SENT.labels(outcome=outcome).inc()
    if done.more:
        send_mail.delay()
    if done.retry_in is not None:
        send_mail.apply_async(countdown=done.retry_in.total_seconds())
    return len(done.outcomes)


def start_mail_senders() -> None:
    """Mail is due: as many sends as may run at once."""
    for _ in range(MAIL_SENDS):
        send_mail.delay()
