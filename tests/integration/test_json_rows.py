"""models/services/json_rows.py: rows sent as one JSON parameter come back from
`jsonb_to_recordset` as the values they were, each in its column's type."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.services.json_rows import json_rows

_READ_BACK = """
SELECT id, at, note, data, flag, n
FROM jsonb_to_recordset(%(rows)s) AS v(id uuid, at timestamptz, note text, data jsonb,
                                       flag bool, n int)
"""


def test_rows_come_back_typed_and_unchanged(sessions: sessionmaker[Session]) -> None:
    rows = [
        {
            "id": uuid.uuid4(),
            "at": datetime(2027, 3, 28, 1, 30, 0, 123456, tzinfo=timezone(timedelta(hours=-5))),
            "note": 'quote " backslash \\ brace {} comma , tab \t é 会议 🙂',
            "data": {"attendees": ["a@example.com"], "nested": {"k": [1, None]}},
            "flag": True,
            "n": 7,
        },
        {"id": uuid.uuid4(), "at": datetime.now(UTC), "note": None, "data": None},
    ]
    with sessions() as session:
        found = session.connection().exec_driver_sql(_READ_BACK, {"rows": json_rows(rows)}).all()

    first, second = found
    assert first == (
        rows[0]["id"],
        rows[0]["at"],  # the same instant, to the microsecond
        rows[0]["note"],
        rows[0]["data"],
        True,
        7,
    )
    # A None and a missing key are both SQL NULL (a JSON null is not stored as 'null').
    assert second == (rows[1]["id"], rows[1]["at"], None, None, None, None)


def test_a_value_without_a_json_form_is_refused_not_sent_as_its_repr() -> None:
    wrapped = json_rows([{"tags": {"a"}}])
    assert wrapped.dumps is not None
    with pytest.raises(TypeError, match="set has no JSON form"):
        wrapped.dumps(wrapped.obj)
