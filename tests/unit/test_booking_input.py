"""models/domain/booking_input.py: bodies into payloads, and what a request may ask for."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from models.domain.booking_input import batch_payloads
from models.domain.payloads import BookingPayload, SeriesPayload
from models.errors import ValidationFailed

ROOM = uuid.uuid4()
NOW = datetime.now(UTC)
START = (NOW + timedelta(days=2)).replace(microsecond=0)


def item(hours: int, **extra: object) -> dict[str, object]:
    start = START + timedelta(hours=hours)
    return {
        "room_id": str(ROOM),
        "start_time": start.isoformat(),
        "end_time": (start + timedelta(minutes=30)).isoformat(),
        "title": "Sync",
        **extra,
    }


def zones(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    return {i: "Europe/Berlin" for i in ids if i == ROOM}


def test_items_become_typed_payloads_and_series_are_expanded() -> None:
    weekly = item(1, recurrence={"freq": "WEEKLY", "count": 3})

    single, series = batch_payloads([item(0), weekly], zones, now=NOW)

    assert isinstance(single, BookingPayload) and single.start == START
    assert isinstance(series, SeriesPayload) and len(series.occurrences) == 3
    assert series.timezone == "Europe/Berlin"  # the room's zone by default


def test_every_bad_item_is_named_and_nothing_is_returned() -> None:
    unknown_room = {**item(0), "room_id": str(uuid.uuid4())}
    with pytest.raises(ValidationFailed) as caught:
        batch_payloads([item(0), {"title": "x"}, unknown_room], zones, now=NOW)

    assert set(caught.value.details["items"]) == {"1", "2"}
    assert caught.value.details["items"]["2"] == {"room_id": ["no such room"]}


def test_a_batch_asking_for_more_than_10000_occurrences_in_all_is_refused() -> None:
    daily = [item(i, recurrence={"freq": "DAILY", "count": 101}) for i in range(100)]

    with pytest.raises(ValidationFailed) as caught:
        batch_payloads(daily, zones, now=NOW)
    assert "10000 occurrences" in caught.value.message
    assert len(batch_payloads(daily[:99], zones, now=NOW)) == 99  # 9,999: fine
