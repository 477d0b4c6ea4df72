"""A room's confirmed bookings in memory, for deciding a batch of requests at once."""

from __future__ import annotations

import bisect
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    end: datetime
    booking_id: uuid.UUID = field(compare=False)

    def as_conflict(self) -> dict[str, str]:
        return {
            "booking_id": str(self.booking_id),
            "start_time": self.start.isoformat(),
            "end_time": self.end.isoformat(),
        }


class RoomCalendar:
    """Half-open [start, end) slots of one room; back-to-back slots do not conflict."""

    def __init__(self, slots: list[Slot] | None = None) -> None:
        self._slots: list[Slot] = sorted(slots or [])
        self._longest = max((s.end - s.start for s in self._slots), default=timedelta(0))

    def __len__(self) -> int:
        return len(self._slots)

    def conflicts(self, start: datetime, end: datetime) -> list[Slot]:
        """Slots overlapping [start, end), by start."""
        stop = bisect.bisect_left(self._slots, (end,), key=lambda s: (s.start,))
        found = []
        for slot in reversed(self._slots[:stop]):
            if slot.start + self._longest <= start:
                break  # nothing earlier can reach into the window
            if slot.end > start:
                found.append(slot)
        found.reverse()
        return found

    def add(self, slot: Slot) -> None:
        bisect.insort(self._slots, slot)
        self._longest = max(self._longest, slot.end - slot.start)

    def remove(self, booking_id: uuid.UUID) -> None:
        self._slots = [s for s in self._slots if s.booking_id != booking_id]
