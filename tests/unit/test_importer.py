"""`bookings import`'s output: what the bar counts, and a summary that says why."""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from typing import Any

import pytest

from cli import importer
from cli.importer import counted, follow, summary_lines
from models.domain.states import RequestStatus
from models.tables.requests import BookingRequest

DAY = "2030-01-07"


def window(hour: int) -> dict[str, Any]:
    return {
        "start_time": f"{DAY}T{hour:02}:00:00+00:00",
        "end_time": f"{DAY}T{hour:02}:50:00+00:00",
    }


def row(status: RequestStatus, **fields: Any) -> BookingRequest:
    return BookingRequest(status=status, payload=fields.pop("payload", {}), **fields)


def booked(hour: int) -> dict[str, Any]:
    return {**window(hour), "status": "CONFIRMED", "booking_id": str(uuid.uuid4())}


def skipped(hour: int, code: str, **more: Any) -> dict[str, Any]:
    return {**window(hour), "status": "SKIPPED", "booking_id": None, "code": code, **more}


TAKEN = {"booking_id": str(uuid.uuid4()), **window(9)}


def series(*entries: dict[str, Any]) -> BookingRequest:
    return row(
        RequestStatus.SUCCEEDED,
        payload={"occurrences": [window(0)] * len(entries)},
        result={"booking_status": "CONFIRMED", "occurrences": list(entries)},
    )


def describe(found: dict[str, Any]) -> str:
    """What the CLI's describe_conflicts says, without a database."""
    return "; conflicts with Taken" if found.get("conflicts") else ""


def tables(text: str) -> tuple[dict[str, int], dict[str, int]]:
    """The summary's two tables, `rows` and `bookings` (label -> count), checking that
    every line of them is as wide as the others: the counts line up."""
    found: dict[str, dict[str, int]] = {}
    lines = [line for line in text.splitlines() if line[:1].isalpha()]
    assert len({len(line) for line in lines}) == 1, lines
    for line in lines:
        label, count = line.rsplit(maxsplit=1)
        if count == "count":
            table = found[label] = {}
        else:
            table[label.strip()] = int(count)
    assert list(found) == ["rows", "bookings"]
    return found["rows"], found["bookings"]


def test_counted_says_one_occurrence_and_two_occurrences() -> None:
    assert counted(1, "occurrence") == "1 occurrence"
    assert counted(2, "occurrence") == "2 occurrences"
    assert counted(0, "occurrence") == "0 occurrences"


def test_the_summary_counts_rows_then_bookings_and_says_why_each_was_skipped() -> None:
    items = [
        row(RequestStatus.SUCCEEDED, result={"booking_id": "b", "booking_status": "CONFIRMED"}),
        series(
            booked(9),
            skipped(10, "CONFLICT", conflicts=[TAKEN]),
            booked(11),
            skipped(
                12,
                "DURATION_OUT_OF_POLICY",
                conflicts=[],
                rule={"name": "max_duration_minutes", "limit": 30},
            ),
        ),
        series(booked(9), skipped(10, "ROOM_CLOSED", conflicts=[])),
        row(
            RequestStatus.REJECTED,
            payload={"occurrences": [window(1), window(2), window(3)]},
            error={
                "code": "CONFLICT",
                "message": "3 of 3 occurrences conflict",
                "conflicts": [TAKEN],
            },
        ),
        row(RequestStatus.WAITLISTED),
    ]

    text = "\n".join(summary_lines(items, [2, 3, 4, 5, 6], describe))

    # Rows, as the bar counted them: one a line of the file, whatever it expands into.
    rows, bookings = tables(text)
    assert rows == {
        "confirmed": 1,
        "confirmed in part": 2,
        "waitlisted": 1,
        "rejected: CONFLICT": 1,
    }
    # Bookings, as "submitted" counted them (a series by occurrence): 1 + 4 + 2 + 3 + 1
    # asked, every one accounted for.
    assert bookings == {
        "made": 4,
        "skipped: CONFLICT": 1,
        "skipped: DURATION_OUT_OF_POLICY": 1,
        "skipped: ROOM_CLOSED": 1,
        "not made: row rejected": 3,
        "waiting: row waitlisted": 1,
    }
    assert sum(bookings.values()) == 1 + 4 + 2 + 3 + 1
    # Each skip, under its line, with its reason; singular where it is one.
    assert "  line 3: confirmed in part, 2 occurrences skipped:\n" in text
    assert (
        f"    {DAY}T10:00:00+00:00 to {DAY}T10:50:00+00:00: CONFLICT; conflicts with Taken" in text
    )
    assert (
        f"    {DAY}T12:00:00+00:00 to {DAY}T12:50:00+00:00: DURATION_OUT_OF_POLICY "
        "(max_duration_minutes: 30)"
    ) in text
    assert "  line 4: confirmed in part, 1 occurrence skipped:\n" in text
    assert f"{DAY}T10:00:00+00:00 to {DAY}T10:50:00+00:00: ROOM_CLOSED" in text
    assert "1 occurrences" not in text
    assert "  line 5: REJECTED 3 of 3 occurrences conflict; conflicts with Taken" in text
    assert "line 2" not in text and "line 6" not in text  # booked whole, or waiting


def test_a_row_with_many_skips_lists_the_first_and_counts_the_rest() -> None:
    entries = [skipped(h, "CONFLICT", conflicts=[]) for h in range(12)]
    entries += [skipped(h, "ROOM_CLOSED", conflicts=[]) for h in range(12, 15)]
    text = "\n".join(summary_lines([series(booked(20), *entries)], [2], describe))

    assert "line 2: confirmed in part, 15 occurrences skipped:" in text
    listed = [line for line in text.splitlines() if line.startswith(f"    {DAY}")]
    assert len(listed) == importer.SKIPS_SHOWN
    assert "    and 5 more: ROOM_CLOSED 3, CONFLICT 2" in text


def test_the_bar_counts_rows_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    progress = iter([1, 3])
    monkeypatch.setattr(importer.time, "sleep", lambda _: None)
    monkeypatch.setattr(
        importer,
        "item_counts",
        lambda *_: {"total": 3, "done": next(progress), "confirmed": 2, "rejected": 1},
    )

    follow(lambda: nullcontext(), uuid.uuid4(), 3)  # type: ignore[arg-type, return-value]

    bar = capsys.readouterr().err
    assert "rows decided" in bar and "3/3" in bar and "row/s" in bar
    assert "booking" not in bar
