"""Synchronous booking rules, checked before a request is accepted."""

from __future__ import annotations

from datetime import datetime, timedelta

from models.errors import ValidationFailed

MAX_DURATION = timedelta(hours=24)
HORIZON = timedelta(days=365)
MAX_OCCURRENCES = 500  # in one series
MAX_REQUEST_OCCURRENCES = 10_000  # in one request: a batch counts every item's
# A request that arrives a little after its own start (clock skew, a slow client) is
# still a booking of "now", not of the past.
PAST_GRACE = timedelta(minutes=1)


def check_window(start: datetime, end: datetime, *, now: datetime) -> None:
    """Raise ValidationFailed naming each field a booking window breaks."""
    errors: dict[str, list[str]] = {}
    if end <= start:
        errors.setdefault("end_time", []).append("must be after start_time")
    elif end - start > MAX_DURATION:
        errors.setdefault("end_time", []).append("a booking lasts at most 24 hours")
    if start < now - PAST_GRACE:
        errors.setdefault("start_time", []).append("must not be in the past")
    elif start > now + HORIZON:
        errors.setdefault("start_time", []).append("must be within 365 days from now")
    if errors:
        raise ValidationFailed("invalid booking window", details=errors)
