"""Webhooks end to end: the outbox written with each change, `bookings webhooks` sending
signed deliveries (verified here with the standardwebhooks library) to a receiver on
loopback, retries, FAILED, redelivery, ping, ownership, and a sender killed mid-send."""

from __future__ import annotations

import os
import signal
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook as Verifier

from models.domain.identity import Principal
from models.domain.states import Role, utcnow
from models.services.outbox import TASK_FINISHED, emit
from models.tables.webhooks import Event, WebhookDelivery
from models.webhooks import service as webhooks
from tests.helpers import Api, assert_error, booking_body, future, wait_until
from tests.roles import start_role, stop_role
from tests.webhook_receiver import Receiver, receiving

pytestmark = pytest.mark.usefixtures("worker", "sender")


class Sender:
    """`bookings webhooks`, the process that sends deliveries (one test replaces it)."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.proc = self.start()

    def start(self) -> Any:
        return start_role(["webhooks", "--concurrency", "4"], self.log, append=True)


@pytest.fixture(scope="module")
def sender(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[Sender]:
    running = Sender(tmp_path_factory.mktemp("webhooks") / "webhooks.log")
    yield running
    stop_role(running.proc)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving(Receiver()) as running:
        yield running


def subscribe(api: Api, who: dict[str, str], url: str, events: list[str] | None = None) -> dict:  # type: ignore[type-arg]
    response = api.client.post(
        "/v1/webhooks", json={"url": url, "events": events or ["*"]}, headers=who
    )
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def deliveries(api: Api, who: dict[str, str], webhook_id: str) -> list[dict[str, Any]]:
    return api.page(who, f"/v1/webhooks/{webhook_id}/deliveries")["items"]  # type: ignore[no-any-return]


def settled(api: Api, who: dict[str, str], webhook_id: str, count: int) -> list[dict[str, Any]]:
    """The webhook's deliveries once `count` of them are no longer PENDING."""
    found: list[dict[str, Any]] = []

    def done() -> bool:
        nonlocal found
        found = deliveries(api, who, webhook_id)
        return len([d for d in found if d["status"] != "PENDING"]) >= count

    wait_until(done, 30, lambda: f"{count} deliveries to settle: {found}")
    return found


def test_a_booking_is_told_with_signed_events_a_receiver_library_verifies(
    api: Api, user: dict[str, str], room: str, receiver: Receiver, app: Flask
) -> None:
    hook = subscribe(api, user, receiver.url)
    assert hook["secret"].startswith("whsec_")
    assert "secret" not in api.client.get(f"/v1/webhooks/{hook['id']}", headers=user).json

    task_id = api.book(user, booking_body(room, future()))
    assert api.wait_task(user, task_id)["status"] == "SUCCEEDED"
    wait_until(lambda: len(receiver.calls) >= 2, 30, "two deliveries")

    verifier = Verifier(hook["secret"])
    by_type = {}
    for call in receiver.calls:
        payload = verifier.verify(call.body, call.headers)  # raises on a bad signature
        assert call.headers["webhook-id"] == payload["id"]
        assert set(payload) == {"id", "type", "timestamp", "data"}
        by_type[payload["type"]] = payload
    assert by_type["task.finished"]["data"]["task_id"] == task_id
    assert by_type["task.finished"]["data"]["status"] == "SUCCEEDED"
    assert by_type["booking.confirmed"]["data"]["status"] == "CONFIRMED"
    assert by_type["booking.confirmed"]["data"]["meeting"]["state"] == "SCHEDULED"
    log = settled(api, user, hook["id"], 2)
    assert {(d["status"], d["attempts"], d["last_status_code"]) for d in log} == {
        ("DELIVERED", 1, 204)
    }
    metrics = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'bookings_webhook_backlog{stage="deliveries"} 0.0' in metrics
    assert 'bookings_webhook_deliveries_total{outcome="delivered"}' in metrics
    assert "bookings_webhook_delivered_after_seconds_count" in metrics


def test_a_receiver_failing_its_first_calls_gets_the_same_event_later(
    api: Api, user: dict[str, str], receiver: Receiver
) -> None:
    receiver.fail_first = 2
    hook = subscribe(api, user, receiver.url, ["webhook.ping"])

    assert api.client.post(f"/v1/webhooks/{hook['id']}/ping", headers=user).status_code == 202

    [delivery] = settled(api, user, hook["id"], 1)
    assert (delivery["status"], delivery["attempts"]) == ("DELIVERED", 3)
    assert len({c.headers["webhook-id"] for c in receiver.calls}) == 1  # one event, 3 sends
    assert len(receiver.calls) == 3


def test_a_receiver_that_never_succeeds_ends_failed_after_the_attempts(
    api: Api, user: dict[str, str], receiver: Receiver
) -> None:
    receiver.fail_always = True
    hook = subscribe(api, user, receiver.url, ["webhook.ping"])
    api.client.post(f"/v1/webhooks/{hook['id']}/ping", headers=user)

    [delivery] = settled(api, user, hook["id"], 1)

    assert delivery["status"] == "FAILED"
    assert delivery["attempts"] == 4  # WEBHOOK_MAX_ATTEMPTS in the test environment
    assert delivery["last_status_code"] == 500
    assert delivery["last_error"].startswith("HTTP 500: receiver says no")
    assert len(delivery["last_error"]) <= 200  # an excerpt, never the whole answer
    assert len(receiver.calls) == 4


def test_a_redirect_is_not_followed(api: Api, user: dict[str, str], receiver: Receiver) -> None:
    with receiving(Receiver()) as elsewhere:
        receiver.redirect_to = elsewhere.url
        hook = subscribe(api, user, receiver.url, ["webhook.ping"])
        api.client.post(f"/v1/webhooks/{hook['id']}/ping", headers=user)

        [delivery] = settled(api, user, hook["id"], 1)

        assert (delivery["status"], delivery["last_status_code"]) == ("FAILED", 302)
        assert elsewhere.calls == []


def test_redelivery_sends_the_same_event_id_again(
    api: Api, user: dict[str, str], receiver: Receiver
) -> None:
    hook = subscribe(api, user, receiver.url, ["webhook.ping"])
    api.client.post(f"/v1/webhooks/{hook['id']}/ping", headers=user)
    [delivery] = settled(api, user, hook["id"], 1)

    again = api.client.post(
        f"/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver", headers=user
    )

    assert again.status_code == 202
    wait_until(lambda: len(receiver.calls) == 2, 30, "the redelivery")
    first, second = receiver.calls
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["event_id"]
    assert first.json["type"] == "webhook.ping"


def test_a_users_webhook_gets_only_their_own_events_and_an_admins_gets_all(
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    admin: dict[str, str],
    room: str,
) -> None:
    with receiving(Receiver()) as mine, receiving(Receiver()) as everything:
        my_hook = subscribe(api, user, mine.url, ["booking.confirmed"])
        subscribe(api, admin, everything.url, ["booking.confirmed"])
        api.confirmed_booking(user, booking_body(room, future()))
        api.confirmed_booking(other_user, booking_body(room, future(hours=3)))

        wait_until(lambda: len(everything.calls) == 2, 30, "the admin's two deliveries")
        # Every delivery of an event is made by the one statement that fans it out, so
        # once the admin's two exist, the user's are all made too: one, their own.
        assert len(deliveries(api, user, my_hook["id"])) == 1
        wait_until(lambda: len(mine.calls) >= 1, 30, "the user's delivery")
        assert {c.json["data"]["organizer_id"] for c in mine.calls} == {api.me(user)}


def test_visibility_is_checked_again_when_sending(
    api: Api, admin: dict[str, str], user: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    """An admin's webhook sees everyone's events; demoted before the send, no longer."""
    hook = subscribe(api, admin, "http://127.0.0.1:9/none", ["task.finished"])
    someone = api.me(user)
    with sessions.begin() as session:
        task = session.execute(
            text(
                "INSERT INTO booking_requests (id, kind, requester_id, payload, status) "
                "VALUES (gen_random_uuid(), 'booking', :u, '{}', 'REJECTED') RETURNING id"
            ),
            {"u": someone},
        ).scalar_one()
        emit(session, tasks=[(task, TASK_FINISHED)], now=utcnow())
        # All in one transaction: no sender sees the delivery before this claim does.
        [delivery_id] = webhooks.dispatch(session, utcnow())
        session.execute(text("UPDATE users SET role = 'USER' WHERE email = 'admin@example.com'"))
        attempt = webhooks.claim(session, delivery_id, utcnow())
    assert isinstance(attempt, webhooks.Attempt) and attempt.visible is False
    assert hook["id"]


def test_a_change_that_rolls_back_leaves_no_event(
    api: Api, user: dict[str, str], sessions: sessionmaker[Session], receiver: Receiver
) -> None:
    subscribe(api, user, receiver.url)
    someone = api.me(user)
    with pytest.raises(RuntimeError), sessions.begin() as session:
        task = session.execute(
            text(
                "INSERT INTO booking_requests (id, kind, requester_id, payload, status) "
                "VALUES (gen_random_uuid(), 'booking', :u, '{}', 'REJECTED') RETURNING id"
            ),
            {"u": someone},
        ).scalar_one()
        assert emit(session, tasks=[(task, TASK_FINISHED)], now=utcnow()) == 1
        raise RuntimeError("the change fails after its event was written")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_no_event_is_written_while_no_webhook_is_active(
    api: Api, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    api.confirmed_booking(user, booking_body(room, future()))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_urls_that_reach_private_addresses_are_refused_unless_allowed(
    api: Api, user: dict[str, str], app: Flask
) -> None:
    from api import create_app

    strict = create_app(replace(app.extensions["bookings"].settings, webhook_allow_private=False))
    client = strict.test_client()
    for url in (
        "https://127.0.0.1/hook",
        "https://localhost/hook",  # a name that resolves to loopback
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data",
        "http://example.com/hook",  # not https
    ):
        response = client.post("/v1/webhooks", json={"url": url, "events": ["*"]}, headers=user)
        body = assert_error(response, 422, "VALIDATION_ERROR")
        assert "url" in body["details"], (url, body)
    assert (
        api.client.post(
            "/v1/webhooks", json={"url": "http://127.0.0.1:1/x", "events": ["*"]}, headers=user
        ).status_code
        == 201
    )  # the suite allows private addresses (WEBHOOK_ALLOW_PRIVATE)


def test_bad_bodies_and_other_peoples_webhooks(
    api: Api, user: dict[str, str], other_user: dict[str, str], receiver: Receiver
) -> None:
    for body in (
        {"url": receiver.url, "events": ["booking.exploded"]},
        {"url": receiver.url, "events": []},
        {"url": receiver.url, "events": ["*", "*"]},
        {"events": ["*"]},
    ):
        assert_error(api.client.post("/v1/webhooks", json=body, headers=user), 422)
    hook = subscribe(api, user, receiver.url)
    for method, path in (
        ("GET", f"/v1/webhooks/{hook['id']}"),
        ("GET", f"/v1/webhooks/{hook['id']}/deliveries"),
        ("POST", f"/v1/webhooks/{hook['id']}/ping"),
        ("DELETE", f"/v1/webhooks/{hook['id']}"),
    ):
        assert_error(api.client.open(path, method=method, headers=other_user), 404)
    assert api.client.delete(f"/v1/webhooks/{hook['id']}", headers=user).status_code == 204
    assert api.page(user, "/v1/webhooks")["items"] == []


def test_a_sender_killed_mid_send_delivers_after_it_is_back(
    api: Api,
    user: dict[str, str],
    sender: Sender,
    tmp_path: Path,
    sessions: sessionmaker[Session],
) -> None:
    """The first send hangs; the sender is SIGKILLed while it waits. Started again, with
    beat sweeping, the delivery goes out once its lease has passed: same event id."""
    hold = threading.Event()
    beat = start_role(["beat", "--schedule-dir", str(tmp_path)], tmp_path / "beat.log")
    try:
        with receiving(Receiver(hold=hold)) as receiver:
            hook = subscribe(api, user, receiver.url, ["webhook.ping"])
            api.client.post(f"/v1/webhooks/{hook['id']}/ping", headers=user)
            assert receiver.held.wait(30), "the first send never arrived"
            os.killpg(sender.proc.pid, signal.SIGKILL)
            sender.proc.wait()
            hold.set()  # the killed sender never reads this answer
            sender.proc = sender.start()  # the module's later tests use it too
            [delivery] = settled(api, user, hook["id"], 1)
        assert delivery["status"] == "DELIVERED"
        assert delivery["attempts"] == 2
        assert len({c.headers["webhook-id"] for c in receiver.calls}) == 1
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
    finally:
        stop_role(beat)


def test_old_events_are_purged_once_nothing_is_left_to_send(
    api: Api, user: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    from models.services.housekeeping import purge_events

    hook = subscribe(api, user, "http://127.0.0.1:9/none", ["webhook.ping"])
    with sessions.begin() as session:
        webhook = webhooks.visible_webhook(
            session, uuid.UUID(hook["id"]), Principal(uuid.UUID(api.me(user)), Role.USER)
        )
        done, waiting, recent = (webhooks.ping(session, webhook, utcnow()) for _ in range(3))
        delivered = "status = 'DELIVERED', next_attempt_at = NULL"
        later = "next_attempt_at = now() + interval '1 day'"
        for change, delivery_id in ((delivered, done), (later, waiting)):
            session.execute(
                text(f"UPDATE webhook_deliveries SET {change} WHERE id = :id"),
                {"id": delivery_id},
            )
        session.execute(
            text(
                "UPDATE events SET created_at = now() - interval '31 days' WHERE id IN "
                "(SELECT event_id FROM webhook_deliveries WHERE id IN (:a, :b))"
            ),
            {"a": done, "b": waiting},
        )

    assert purge_events(sessions, now=utcnow(), retention_days=30) == 1
    with sessions() as session:
        kept = set(session.scalars(select(WebhookDelivery.id)))
    assert kept == {waiting, recent}
