"""A steady booking load and the invariants it must keep, whatever breaks meanwhile.

Used by tests/integration/test_faults_under_load.py and bench/soak.py. The load books
single rooms at a fixed rate over many rooms (each request its own free slot: all must
succeed) and one hot room (a few slots asked for again and again: the first asker of
each slot must win, FIFO, and every later one be rejected).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from models.services import accounts
from tests.helpers import booking_body, future

HOT_SLOTS = 6  # the hot room's slots; every fourth request asks for one of them


@dataclass
class Sent:
    task_id: str
    room: str
    start: datetime
    hot: bool
    at: float = 0.0  # time.monotonic() when the 202 came


@dataclass
class Load:
    """Requests at `rate` per second from a thread, until stopped."""

    client: FlaskClient
    headers: dict[str, str]
    rooms: list[str]
    hot_room: str
    rate: float = 25.0
    sent: list[Sent] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    bodies_5xx: list[str] = field(default_factory=list)
    slowest: float = 0.0  # seconds, the longest wait for an answer
    without_retry_after: int = 0  # 503s that did not say when to try again

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load", daemon=True)
        self._base = future(hours=24 * 7)
        self._n = 0
        self._lock = threading.Lock()

    def start(self) -> Load:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(60)

    def _run(self) -> None:
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.send_one()
            next_at += interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def send_one(self) -> Sent | None:
        with self._lock:
            n, self._n = self._n, self._n + 1
        hot = n % 4 == 0
        if hot:
            room, start = self.hot_room, self._base + timedelta(hours=n // 4 % HOT_SLOTS)
        else:
            room = self.rooms[n % len(self.rooms)]
            # a slot of its own: no other request of this room asks for it
            start = self._base + timedelta(hours=HOT_SLOTS + n // len(self.rooms))
        began = time.monotonic()
        try:
            response = self.client.post(
                "/v1/bookings", json=booking_body(room, start, 30), headers=self.headers
            )
        except Exception as exc:  # a crash of the test client is a 5xx for our purposes
            self.statuses[599] += 1
            self.bodies_5xx.append(repr(exc))
            return None
        answered = time.monotonic()
        self.slowest = max(self.slowest, answered - began)
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.bodies_5xx.append(response.get_data(as_text=True)[:500])
        if response.status_code == 503 and "Retry-After" not in response.headers:
            self.without_retry_after += 1
        if response.status_code != 202:
            return None
        sent = Sent(str(response.json["task_id"]), room, start, hot, answered)
        self.sent.append(sent)
        return sent


def load_through(app: Flask, sessions: sessionmaker[Session], **kw: Any) -> Load:
    """A Load through `app` by an admin of its own into 12 rooms and a hot one, all new
    (a tag of its own, so several loads may share a database)."""
    client = app.test_client()
    tag = os.urandom(3).hex()
    email = f"admin-{tag}@example.com"
    with sessions.begin() as session:
        accounts.create_admin(
            session,
            email=email,
            password="x" * 12,
            cost=app.extensions["bookings"].settings.password_cost,
        )
    token = client.post("/v1/auth/token", json={"email": email, "password": "x" * 12})
    headers = {"Authorization": f"Bearer {token.json['access_token']}"}

    def room(name: str) -> str:
        made = client.post(
            "/v1/rooms", json={"name": f"{name} {tag}", "capacity": 8}, headers=headers
        )
        assert made.status_code == 201, made.json
        return str(made.json["id"])

    return Load(client, headers, [room(f"Room {i}") for i in range(12)], room("Hot"), **kw)


def stop_and_drain(
    load: Load,
    sessions: sessionmaker[Session],
    what: str,
    details: Callable[[], str] | None = None,
    timeout: float = 120.0,
) -> None:
    """Stop the load and wait until every request it had accepted is decided."""
    from tests.faults import wait_until

    load.stop()
    wait_until(
        lambda: undecided_count(sessions, load.sent) == 0,
        timeout,
        f"every request accepted {what} to be decided",
        every=0.5,
        details=details,
    )


def undecided_count(sessions: sessionmaker[Session], sent: list[Sent]) -> int:
    ids = [s.task_id for s in sent]
    with sessions() as session:
        return int(
            session.scalar(
                text(
                    "SELECT count(*) FROM booking_requests WHERE id = ANY(CAST(:ids AS uuid[])) "
                    "AND status IN ('QUEUED', 'PROCESSING')"
                ),
                {"ids": ids},
            )
            or 0
        )


@dataclass(frozen=True)
class Problem:
    """A broken promise: `kind` is lost, undecided, overlap, duplicate, mismatch or order;
    `count` how many it stands for."""

    kind: str
    text: str
    count: int = 1


def violations(sessions: sessionmaker[Session], sent: list[Sent]) -> list[str]:
    """Every broken promise among the requests sent (an empty list when all held)."""
    return [problem.text for problem in problems(sessions, sent)]


def problems(sessions: sessionmaker[Session], sent: list[Sent]) -> list[Problem]:
    """violations(), each with its kind (what bench/cluster.py counts)."""
    problems: list[Problem] = []
    ids = [s.task_id for s in sent]
    with sessions() as session:
        rows = session.execute(
            text(
                "SELECT id::text, seq, status, decided_at FROM booking_requests "
                "WHERE id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"ids": ids},
        ).all()
        per_request = dict(
            session.execute(
                text(
                    "SELECT request_id::text, count(*) FROM bookings "
                    "WHERE request_id = ANY(CAST(:ids AS uuid[])) GROUP BY request_id"
                ),
                {"ids": ids},
            ).all()
        )
        overlapping = session.scalar(
            text(
                "SELECT count(*) FROM bookings a JOIN bookings b ON a.room_id = b.room_id "
                "AND a.id < b.id AND a.status = 'CONFIRMED' AND b.status = 'CONFIRMED' "
                "AND tstzrange(a.start_time, a.end_time) && tstzrange(b.start_time, b.end_time)"
            )
        )
    found = {row.id: row for row in rows}
    if len(found) != len(ids):
        lost = len(ids) - len(found)
        problems.append(Problem("lost", f"{lost} accepted request(s) have no row", lost))
    statuses = Counter(row.status for row in rows)
    if statuses["FAILED"] or statuses["QUEUED"] or statuses["PROCESSING"]:
        problems.append(Problem("undecided", f"not decided cleanly: {dict(statuses)}"))
    if overlapping:
        said = f"{overlapping} pair(s) of overlapping confirmed bookings"
        problems.append(Problem("overlap", said, int(overlapping)))
    for task_id, count in per_request.items():
        if count != 1:
            said = f"request {task_id} made {count} bookings (decided twice)"
            problems.append(Problem("duplicate", said))
    succeeded = {row.id for row in rows if row.status == "SUCCEEDED"}
    if set(per_request) != succeeded:
        problems.append(
            Problem("mismatch", "the SUCCEEDED requests and the bookings made do not match")
        )
    # Spread rooms: every request had a slot of its own, so each must have succeeded.
    for s in sent:
        if not s.hot and s.task_id in found and found[s.task_id].status != "SUCCEEDED":
            said = f"{s.task_id} ({found[s.task_id].status}) asked for a free slot"
            problems.append(Problem("order", said))
    # The hot room, FIFO: of each slot's askers, the first (lowest seq) won, nobody else.
    by_slot: dict[datetime, list[Sent]] = {}
    for s in sent:
        if s.hot and s.task_id in found:
            by_slot.setdefault(s.start, []).append(s)
    for start, askers in by_slot.items():
        ordered = sorted(askers, key=lambda s: found[s.task_id].seq)
        winners = [s.task_id for s in ordered if found[s.task_id].status == "SUCCEEDED"]
        if winners != [ordered[0].task_id]:
            said = f"slot {start:%H:%M}: first asker did not win alone ({winners})"
            problems.append(Problem("order", said))
    # FIFO in time too: within a room, a later request is never decided before an earlier.
    per_room: dict[str, list[tuple[int, datetime]]] = {}
    for s in sent:
        row = found.get(s.task_id)
        if row is not None and row.decided_at is not None:
            per_room.setdefault(s.room, []).append((row.seq, row.decided_at))
    for room, decided in per_room.items():
        times = [at for _, at in sorted(decided)]
        if any(later < earlier for earlier, later in itertools.pairwise(times)):
            said = f"room {room}: a later request was decided before an earlier one"
            problems.append(Problem("order", said))
    return problems


def decided_times(sessions: sessionmaker[Session], sent: list[Sent]) -> list[float]:
    """When each decided request of `sent` was decided (epoch seconds, the database's clock)."""
    with sessions() as session:
        return [
            float(t)
            for t in session.scalars(
                text(
                    "SELECT extract(epoch FROM decided_at) FROM booking_requests "
                    "WHERE id = ANY(CAST(:ids AS uuid[])) AND decided_at IS NOT NULL"
                ),
                {"ids": [s.task_id for s in sent]},
            )
        ]


def longest_pause(times: list[float], since: float, until: float) -> float:
    """The longest stretch within [since, until] with none of `times` in it (seconds)."""
    marks = [since, *sorted(t for t in times if since < t < until), until]
    return max(b - a for a, b in itertools.pairwise(marks))
