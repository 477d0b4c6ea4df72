"""The dry run: what the rooms' decider would make of a request now, writing nothing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models.domain.engine import RoomRequest, decide_one
from models.domain.identity import Viewer
from models.domain.payloads import BookingPayload, SeriesPayload
from models.domain.states import RequestStatus
from models.services.room_store import PgRoomTx


def check_request(
    session: Session, viewer: Viewer, payload: BookingPayload | SeriesPayload, now: datetime
) -> dict[str, Any]:
    """`{ok, refusals, occurrences?}` from the engine against the current state, in the
    caller's (read-only) transaction. No promise: others may book first."""
    request = RoomRequest(uuid.UUID(int=0), 0, viewer.id, payload, viewer.is_admin)
    tx = PgRoomTx(session)
    facts = tx.room_facts(sorted(request.rooms))
    snapshot = tx.load(facts, [request], now, waitlist=False)
    outcome = decide_one(snapshot, request, now=now)
    report: dict[str, Any] = {"ok": outcome.status == RequestStatus.SUCCEEDED, "refusals": []}
    if outcome.error is not None:
        report["refusals"].append(
            {
                k: v
                for k, v in outcome.error.items()
                if k in ("code", "message", "rule", "conflicts", "room_id")
            }
        )
    occurrences = (outcome.result or {}).get("occurrences")
    if occurrences is not None:
        report["occurrences"] = [{**o, "booking_id": None} for o in occurrences]
        if outcome.error is None:
            report["refusals"] = _distinct(o for o in occurrences if "code" in o)
    if isinstance(payload, BookingPayload) and outcome.status == RequestStatus.WAITLISTED:
        report["waitlisted"] = True  # it would wait for the slot: not booked now
    return report


def _distinct(skipped: Any) -> list[dict[str, Any]]:
    """One refusal per code and rule among a series' skipped occurrences."""
    seen: dict[tuple[str, str | None], dict[str, Any]] = {}
    for entry in skipped:
        rule = entry.get("rule")
        key = (entry["code"], rule["name"] if rule else None)
        if key not in seen:
            seen[key] = {
                "code": entry["code"],
                "message": f"occurrence {entry['start_time']} is refused",
                **({"rule": rule} if rule else {}),
                "conflicts": entry["conflicts"],
            }
    return list(seen.values())
