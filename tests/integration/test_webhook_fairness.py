"""Fair webhook delivery: one user's hanging receivers do not hold up anyone else's events,
a user may have at most WEBHOOK_MAX_PER_USER webhooks, and a receiver that keeps failing
opens a circuit breaker that shows in its delivery log and closes again on a success.

The sender here is `bookings webhooks` with its defaults (8 threads, the 10 s timeout)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from models.webhooks.service import BREAKER_FAILURES
from tests.helpers import Api, assert_error, booking_body, future, wait_until
from tests.roles import start_role, stop_role
from tests.webhook_receiver import Receiver, receiving

pytestmark = pytest.mark.usefixtures("worker", "sender")


@pytest.fixture(scope="module")
def sender(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[Any]:
    log: Path = tmp_path_factory.mktemp("fair-webhooks") / "webhooks.log"
    proc = start_role(["webhooks"], log)  # the default concurrency
    yield proc
    stop_role(proc)


@pytest.fixture
def hanging() -> Iterator[Receiver]:
    """A receiver that takes every call and answers none (until the test ends)."""
    with receiving(Receiver(hold=threading.Event())) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving(Receiver()) as running:
        yield running


def subscribe(api: Api, who: dict[str, str], url: str, events: list[str]) -> str:
    response = api.client.post("/v1/webhooks", json={"url": url, "events": events}, headers=who)
    assert response.status_code == 201, response.json
    return str(response.json["id"])


def test_one_users_hanging_receivers_do_not_delay_anyone_elses_events(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    make_room: Any,
    sessions: sessionmaker[Session],
    hanging: Receiver,
    receiver: Receiver,
) -> None:
    """30 webhooks of one user at a receiver that never answers, then that user's 6
    bookings (a dozen events each webhook wants); then another user's 20 bookings, one a
    second, while the hanging sends time out and are retried. Each of the other user's 20
    events is delivered within 5 s of being written."""
    attacker = api.me(user)
    url = hanging.url
    for _ in range(20):
        subscribe(api, user, url, ["*"])
    with sessions.begin() as session:  # ten more, as a user from before the cap had
        session.execute(
            text(
                "INSERT INTO webhooks (id, owner_id, url, events, secret, active, created_at,"
                " updated_at) SELECT gen_random_uuid(), :owner, :url, '[\"*\"]',"
                " 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', true, now(), now()"
                " FROM generate_series(1, 10)"
            ),
            {"owner": attacker, "url": url},
        )
    subscribe(api, other_user, receiver.url, ["task.finished"])
    room = make_room(name="Fair")
    first = future(hours=30)
    tasks = [
        api.book(user, booking_body(room, first + timedelta(hours=i), minutes=30)) for i in range(6)
    ]
    wait_until(lambda: len(hanging.calls) >= 2, 15, "the hanging receiver to be called")
    for i in range(20):  # over 20 s: through the hanging sends' timeouts and retries
        tasks.append(
            api.book(other_user, booking_body(room, first + timedelta(hours=10 + i), minutes=30))
        )
        time.sleep(1)
    for task in tasks:
        api.wait_task(user if task in tasks[:6] else other_user, task)
    lags: list[Any] = []

    def delivered() -> bool:
        nonlocal lags
        with sessions() as session:
            lags = session.scalars(
                text(
                    "SELECT extract(epoch FROM d.delivered_at - e.created_at) FROM"
                    " webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id"
                    " JOIN events e ON e.id = d.event_id"
                    " WHERE w.owner_id <> :attacker AND d.status = 'DELIVERED'"
                ),
                {"attacker": attacker},
            ).all()
        return len(lags) >= 20

    wait_until(delivered, 60, lambda: f"the other user's 20 events: {len(lags)} delivered")
    with sessions() as session:
        in_flight = session.scalar(
            text("SELECT count(*) FROM webhooks WHERE owner_id = :o AND sending_until > now()"),
            {"o": attacker},
        )
    assert len(lags) == 20
    assert max(float(lag) for lag in lags) <= 5.0, sorted(lags)
    assert in_flight is not None and in_flight <= 2  # two sends at a time, at most


def test_the_webhook_after_the_most_allowed_is_a_422(api: Api, user: dict[str, str]) -> None:
    for n in range(20):
        subscribe(api, user, f"http://127.0.0.1:9/h{n}", ["*"])
    body = assert_error(
        api.client.post(
            "/v1/webhooks", json={"url": "http://127.0.0.1:9/x", "events": ["*"]}, headers=user
        ),
        422,
        "VALIDATION_ERROR",
    )
    assert "WEBHOOK_MAX_PER_USER" in body["message"]
    assert len(api.page(user, "/v1/webhooks", {"limit": 100})["items"]) == 20


def test_a_failing_receiver_opens_the_breaker_which_a_success_closes(
    api: Api,
    user: dict[str, str],
    make_room: Any,
    sessions: sessionmaker[Session],
    receiver: Receiver,
) -> None:
    """WEBHOOK_MAX_ATTEMPTS is 4 in the tests: two deliveries failing bring five failed
    attempts in a row, and the breaker opens. Events after that are not sent: their
    skipped attempts are counted and the delivery log says why. A ping is the breaker's
    trial at once; its success closes it, and what waited goes out."""
    receiver.fail_always = True
    hook = subscribe(api, user, receiver.url, ["task.finished", "booking.confirmed"])
    room = make_room(name="Breaker")
    api.wait_task(user, api.book(user, booking_body(room, future(hours=40))))

    def breaker() -> tuple[int, Any]:
        with sessions() as session:
            row = session.execute(
                text("SELECT failures, open_until FROM webhooks WHERE id = :id"), {"id": hook}
            ).one()
        return int(row[0]), row[1]

    wait_until(lambda: breaker()[0] >= BREAKER_FAILURES, 30, "the breaker to open")
    assert breaker()[1] is not None
    calls = len(receiver.calls)
    later = api.wait_task(user, api.book(user, booking_body(room, future(hours=44))))
    sender = api.client.application.extensions["bookings"].sender

    def skipped() -> list[dict[str, Any]]:
        sender.publish_dispatch()  # as beat's sweep does every few seconds
        log = api.page(user, f"/v1/webhooks/{hook}/deliveries")["items"]
        mine = [d for d in log if d["event_id"] and "not sent" in (d["last_error"] or "")]
        return mine if len(mine) >= 2 else []

    shown = wait_until(skipped, 15, "the later events' skipped attempts in the log")
    assert all(d["status"] == "PENDING" and d["attempts"] >= 1 for d in shown), shown
    assert all("circuit open after" in d["last_error"] for d in shown), shown
    assert len(receiver.calls) == calls  # nothing sent while it was open
    assert later["status"] == "SUCCEEDED"

    receiver.fail_always = False
    assert api.client.post(f"/v1/webhooks/{hook}/ping", headers=user).status_code == 202
    wait_until(lambda: breaker() == (0, None), 15, "the ping's success to close the breaker")

    def all_delivered() -> bool:
        sender.publish_dispatch()  # beat's sweep, for retries that came due meanwhile
        log = api.page(user, f"/v1/webhooks/{hook}/deliveries")["items"]
        return all(d["status"] != "PENDING" for d in log)

    wait_until(all_delivered, 30, "what waited to go out once the breaker closed", interval=0.5)


def test_a_delivery_whose_last_attempt_waits_for_the_trial_fails_with_it(
    sessions: sessionmaker[Session], api: Api, user: dict[str, str]
) -> None:
    """skip_open counts a skipped attempt but never a delivery's last one, which waits for
    the breaker's trial; a trial that fails fails it too. So a dead receiver's deliveries
    end FAILED on their own schedule, and its backlog does not grow without bound."""
    from models.domain.states import utcnow
    from models.webhooks import service as webhooks

    owner = api.me(user)
    now = utcnow()
    with sessions.begin() as session:
        hook = session.execute(
            text(
                "INSERT INTO webhooks (id, owner_id, url, events, secret, active, failures,"
                " open_until, created_at, updated_at) VALUES (gen_random_uuid(), :o,"
                " 'http://127.0.0.1:9/x', '[\"*\"]', 'whsec_x', true, 5, :open, :now, :now)"
                " RETURNING id"
            ),
            {"o": owner, "open": now + timedelta(seconds=60), "now": now},
        ).scalar_one()
        ids = {}
        for name, attempts in (("early", 1), ("last", 3), ("trial", 3)):
            event = session.execute(
                text(
                    "INSERT INTO events (id, type, user_id, data, created_at, dispatched_at)"
                    " VALUES (gen_random_uuid(), 'task.finished', :o, '{}', :now, :now)"
                    " RETURNING id"
                ),
                {"o": owner, "now": now},
            ).scalar_one()
            ids[name] = session.execute(
                text(
                    "INSERT INTO webhook_deliveries (id, webhook_id, event_id, status, attempts,"
                    " next_attempt_at, created_at) VALUES (gen_random_uuid(), :w, :e,"
                    " 'PENDING', :a, :due, :now) RETURNING id"
                ),
                {
                    "w": hook,
                    "e": event,
                    "a": attempts,
                    "due": now - timedelta(seconds=1),
                    "now": now,
                },
            ).scalar_one()
        skipped = webhooks.skip_open(session, now, max_attempts=4, base_seconds=30)

    def row(name: str) -> Any:
        with sessions() as session:
            return session.execute(
                text(
                    "SELECT status, attempts, next_attempt_at, last_error"
                    " FROM webhook_deliveries WHERE id = :id"
                ),
                {"id": ids[name]},
            ).one()

    assert skipped == 1
    early = row("early")
    assert (early.status, early.attempts) == ("PENDING", 2)
    assert timedelta(seconds=59) < early.next_attempt_at - now <= timedelta(seconds=61)
    assert "not sent" in early.last_error
    assert tuple(row("last")[:2]) == ("PENDING", 3)  # its last attempt waits for the trial

    later = now + timedelta(seconds=61)  # the cool-down has passed: the trial
    with sessions.begin() as session:
        attempt = webhooks.claim(session, ids["trial"], later)
    assert isinstance(attempt, webhooks.Attempt)
    with sessions.begin() as session:
        webhooks.record(
            session,
            attempt,
            now=later,
            status_code=None,
            error="timed out",
            max_attempts=4,
            base_seconds=30,
        )
    assert tuple(row("trial")[:2]) == ("FAILED", 4)
    last = row("last")
    assert (last.status, last.attempts) == ("FAILED", 4)
    assert "trial, which failed: timed out" in last.last_error
    assert row("early").status == "PENDING"  # not due yet: its own schedule goes on
