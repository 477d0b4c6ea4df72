"""The outbox's fan-out: each batch of new events to its webhook deliveries and, with
mail on, its mail, in the transaction that marks the batch dispatched (an event is fanned
out once, or not at all). `bookings webhooks` runs it (worker/webhooks.py), on a kick
after a decision that wrote events and on beat's sweep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from models.mail.fan_out import fan_out
from models.services.outbox import DISPATCH_BATCH, take_events
from models.webhooks.service import deliveries_for


@dataclass(frozen=True)
class Dispatched:
    events: int
    deliveries: int
    mail: int

    @property
    def full(self) -> bool:
        """The batch was full: more events may wait."""
        return self.events >= DISPATCH_BATCH


def dispatch(session: Session, now: datetime, *, mail: bool) -> Dispatched:
    events = take_events(session, now)
    deliveries = deliveries_for(session, [event.id for event in events], now)
    mails = fan_out(session, events, now) if mail else 0
    return Dispatched(len(events), len(deliveries), mails)
