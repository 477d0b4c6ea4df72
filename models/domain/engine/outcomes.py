"""How a decision is told: the task's status, document, progress and effects."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from models.domain.engine.state import Effect, Outcome, RoomRequest
from models.domain.rules import Refusal
from models.domain.states import RequestStatus

EXPIRED_MESSAGE = "the booking's start time passed while it waited for the slot"


def succeeded(
    request: RoomRequest,
    result: dict[str, Any],
    effects: Sequence[Effect] = (),
    *,
    total: int = 1,
    confirmed: int | None = None,
) -> Outcome:
    confirmed = total if confirmed is None else confirmed
    progress = progress_of(total, confirmed)
    return Outcome(request.id, RequestStatus.SUCCEEDED, result, None, progress, tuple(effects))


def rejected(
    request: RoomRequest,
    refusal: Refusal,
    *,
    result: dict[str, Any] | None = None,
    total: int = 1,
    extra_error: dict[str, Any] | None = None,
    effects: Sequence[Effect] = (),
) -> Outcome:
    error = {**refusal.as_error(), **(extra_error or {})}
    progress = progress_of(total, 0)
    return Outcome(request.id, RequestStatus.REJECTED, result, error, progress, tuple(effects))


def waitlisted(request: RoomRequest, refusal: Refusal) -> Outcome:
    """Refused only because the slot is taken: it waits (a waiter that waits again says
    nothing new: no event)."""
    return Outcome(
        request.id,
        RequestStatus.WAITLISTED,
        None,
        refusal.as_error(),
        waiting(),
        quiet=request.requeued,
    )


def requeued(request: RoomRequest) -> Outcome:
    """A waiter whose slot freed goes back into its rooms' queues, at its acceptance
    place, for a decider holding them all."""
    return Outcome(request.id, RequestStatus.QUEUED, None, None, waiting(), quiet=True)


def expired(request: RoomRequest) -> Outcome:
    return rejected(request, Refusal("WAITLIST_EXPIRED", EXPIRED_MESSAGE))


def failed(request_id: uuid.UUID, message: str, *, total: int = 1) -> Outcome:
    """A fault, not a business outcome: the request broke its decider or the database."""
    error = {"code": "INTERNAL_ERROR", "message": message}
    return Outcome(request_id, RequestStatus.FAILED, None, error, progress_of(total, 0))


def progress_of(total: int, confirmed: int) -> dict[str, int]:
    return {"total": total, "done": total, "confirmed": confirmed, "rejected": total - confirmed}


def waiting() -> dict[str, int]:
    return {"total": 1, "done": 0, "confirmed": 0, "rejected": 0}
