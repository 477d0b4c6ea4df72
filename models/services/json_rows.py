"""Many rows as one statement parameter: a JSON array that Postgres turns back into rows
with `jsonb_to_recordset(%(rows)s) AS v(id uuid, start_time timestamptz, ...)`.

The writes that take rows by the batch (new bookings with their meetings and audit
events, changes, cancellations, approvals, the decided requests' outcomes, the API's
grouped insert) used to pass one array per column and `unnest()` them. psycopg dumps a
list parameter in Python, element by element, and works out each list's element type at
each execution: a three-row insert of 19 columns cost 0.26 ms of the worker's CPU to
dump. The same rows as one JSON document cost 0.06 ms (`json.dumps` is C). Postgres
reads each value with its column's type, as it read the arrays' elements.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from functools import partial
from typing import Any

from psycopg.types.json import Jsonb


def _plain(value: object) -> str:
    """What JSON has no type for, as the text Postgres reads for its column's type."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):  # aware: the offset travels with it
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} has no JSON form here")


_dumps = partial(json.dumps, default=_plain, separators=(",", ":"), ensure_ascii=False)


def json_rows(rows: list[dict[str, Any]]) -> Jsonb:
    """The rows as one jsonb parameter (uuids and datetimes as text)."""
    return Jsonb(rows, dumps=_dumps)
