"""Task state for clients: a batch's items, how far along they are, the task document."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.domain.states import FINISHED, RequestKind, RequestStatus
from models.services.outbox import TASK_FINISHED, emit
from models.tables.requests import BookingRequest


def item_counts(session: Session, parent_id: uuid.UUID) -> dict[str, int]:
    """The batch's progress: items in all, decided, confirmed, rejected (or failed). An
    item on the waitlist counts as decided (its own task follows it further)."""
    child = BookingRequest
    row = session.execute(
        select(
            func.count(),
            func.count().filter(child.status.in_([*FINISHED, RequestStatus.WAITLISTED])),
            func.count().filter(child.status == RequestStatus.SUCCEEDED),
            func.count().filter(child.status.in_([RequestStatus.REJECTED, RequestStatus.FAILED])),
        ).where(child.parent_id == parent_id)
    ).one()
    total, done, confirmed, rejected = row
    return {"total": total, "done": done, "confirmed": confirmed, "rejected": rejected}


def item_results(session: Session, parent_id: uuid.UUID) -> list[dict[str, object]]:
    rows = session.execute(
        select(BookingRequest.id, BookingRequest.status)
        .where(BookingRequest.parent_id == parent_id)
        .order_by(BookingRequest.seq)
    ).all()
    return [
        {"index": i, "task_id": str(task_id), "status": status.value}
        for i, (task_id, status) in enumerate(rows)
    ]


def task_document(session: Session, found: BookingRequest) -> dict[str, Any]:
    """The task as the contract shows it; an unfinished batch is summed from its items."""
    doc: dict[str, Any] = {
        name: getattr(found, name)
        for name in ("id", "kind", "status", "created_at", "updated_at", "result", "error")
    }
    doc["status"] = found.status.value
    if found.status.settled:
        doc["progress"] = found.progress
    elif found.kind == RequestKind.BATCH:
        doc["progress"] = item_counts(session, found.id)
        doc["result"] = {"items": item_results(session, found.id)}
        doc["status"] = "PROCESSING" if doc["progress"]["done"] else "QUEUED"
    else:
        total = len(found.payload.get("occurrences") or [None])
        doc["progress"] = {"total": total, "done": 0, "confirmed": 0, "rejected": 0}
    return doc


def complete_batches(
    session: Session, parent_ids: set[uuid.UUID], now: datetime
) -> list[uuid.UUID]:
    """Mark each batch whose items are all decided as SUCCEEDED, in this transaction.

    Whichever room's decider settles a batch's last item completes it. The parent row is
    locked first (in id order, so two rooms' deciders cannot deadlock); the count that
    follows is a new statement, so it sees every item committed by the decider that held
    the lock before us.
    """
    completed = []
    for parent_id in sorted(parent_ids):
        parent = session.get(BookingRequest, parent_id, with_for_update=True)
        if parent is None or parent.status in FINISHED:
            continue
        counts = item_counts(session, parent_id)
        if counts["done"] < counts["total"]:
            continue
        completed.append(parent_id)
        parent.status = RequestStatus.SUCCEEDED
        parent.progress = counts
        parent.result = {"items": item_results(session, parent_id)}
        parent.decided_at = now
        parent.updated_at = now
    if completed:
        session.flush()
    return completed


WITHDRAWN = {"code": "WITHDRAWN", "message": "the submitter withdrew the request from the waitlist"}


def reject_waiting(
    session: Session, error: dict[str, str], now: datetime, *where: Any
) -> list[uuid.UUID]:
    """WAITLISTED requests (those `where` picks) become REJECTED with `error`, with their
    task.finished events; their ids. One conditional UPDATE: a decider promoting one holds
    its row (FOR UPDATE), so this waits for that transaction, then finds the row decided
    and leaves it."""
    result: Any = session.execute(
        update(BookingRequest)
        .where(BookingRequest.status == RequestStatus.WAITLISTED, *where)
        .values(
            status=RequestStatus.REJECTED,
            error=error,
            progress={"total": 1, "done": 1, "confirmed": 0, "rejected": 1},
            decided_at=now,
            updated_at=now,
        )
        .returning(BookingRequest.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(result.scalars())
    emit(session, tasks=[(i, TASK_FINISHED) for i in ids], now=now)
    return ids


def withdraw(session: Session, found: BookingRequest, now: datetime) -> bool:
    """A WAITLISTED request becomes REJECTED WITHDRAWN; False if it is no longer WAITLISTED."""
    return bool(reject_waiting(session, WITHDRAWN, now, BookingRequest.id == found.id))
