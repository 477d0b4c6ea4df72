"""Batch parents: SUCCEEDED once every item is decided, whichever room's worker decides last."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from models.services.task_status import item_counts, item_results
from models.tables.requests import FINISHED, BookingRequest, RequestStatus


def complete_parents(session: Session, parent_ids: set[uuid.UUID], now: datetime) -> None:
    """Mark each parent whose items are all decided as SUCCEEDED, in this transaction.

    The parent row is locked first (in id order, so two rooms' workers cannot deadlock);
    the count that follows is a new statement, so it sees every item committed by the
    worker that held the lock before us.
    """
    for parent_id in sorted(parent_ids):
        parent = session.get(BookingRequest, parent_id, with_for_update=True)
        if parent is None or parent.status in FINISHED:
            continue
        counts = item_counts(session, parent_id)
        if counts["done"] < counts["total"]:
            continue
        parent.status = RequestStatus.SUCCEEDED
        parent.progress = counts
        parent.result = {"items": item_results(session, parent_id)}
        parent.decided_at = now
        parent.updated_at = now
