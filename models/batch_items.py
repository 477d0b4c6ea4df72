"""A batch's items: how far along they are, and each one's task."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.booking_request import FINISHED, BookingRequest, RequestStatus


def item_counts(session: Session, parent_id: uuid.UUID) -> dict[str, int]:
    """The batch's progress: items in all, decided, confirmed, rejected (or failed)."""
    child = BookingRequest
    row = session.execute(
        select(
            func.count(),
            func.count().filter(child.status.in_(FINISHED)),
            func.count().filter(child.status == RequestStatus.SUCCEEDED),
        ).where(child.parent_id == parent_id)
    ).one()
    total, done, confirmed = row
    return {"total": total, "done": done, "confirmed": confirmed, "rejected": done - confirmed}


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
