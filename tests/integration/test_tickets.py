"""Tickets: who sees what, and which status changes make sense."""

from __future__ import annotations

import pytest

from tests.helpers import Api


def test_users_see_their_own_tickets_and_admins_see_all(
    api: Api, user: dict[str, str], other_user: dict[str, str], admin: dict[str, str], room: str
) -> None:
    mine = api.open_ticket(user, room_id=room)
    theirs = api.open_ticket(other_user)

    assert mine["status"] == "OPEN" and mine["room_id"] == room
    own = api.client.get("/v1/tickets", headers=user).json
    assert [t["id"] for t in own["items"]] == [mine["id"]] and own["total"] == 1
    assert api.client.get(f"/v1/tickets/{theirs['id']}", headers=user).status_code == 404
    everything = api.client.get("/v1/tickets", headers=admin).json
    assert {t["id"] for t in everything["items"]} == {mine["id"], theirs["id"]}
    by_room = api.client.get(f"/v1/tickets?room_id={room}", headers=admin).json
    assert [t["id"] for t in by_room["items"]] == [mine["id"]]


def test_only_admins_change_status(api: Api, user: dict[str, str], admin: dict[str, str]) -> None:
    ticket = api.open_ticket(user)
    refused = api.client.patch(
        f"/v1/tickets/{ticket['id']}", json={"status": "RESOLVED"}, headers=user
    )
    assert refused.status_code == 403

    moved = api.client.patch(
        f"/v1/tickets/{ticket['id']}", json={"status": "IN_PROGRESS"}, headers=admin
    )

    assert moved.status_code == 200 and moved.json["status"] == "IN_PROGRESS"
    listed = api.client.get("/v1/tickets?status=IN_PROGRESS", headers=user).json
    assert [t["id"] for t in listed["items"]] == [ticket["id"]]


@pytest.mark.parametrize(
    ("path", "refused"),
    [(["CLOSED"], "OPEN"), (["RESOLVED", "CLOSED"], "IN_PROGRESS"), (["CLOSED"], "RESOLVED")],
)
def test_transitions_that_make_no_sense_are_409(
    api: Api, user: dict[str, str], admin: dict[str, str], path: list[str], refused: str
) -> None:
    ticket = api.open_ticket(user)
    for status in path:
        ok = api.client.patch(f"/v1/tickets/{ticket['id']}", json={"status": status}, headers=admin)
        assert ok.status_code == 200, ok.json

    response = api.client.patch(
        f"/v1/tickets/{ticket['id']}", json={"status": refused}, headers=admin
    )

    assert response.status_code == 409
    assert response.json["error"]["code"] == "INVALID_TRANSITION"
    assert api.client.get(f"/v1/tickets/{ticket['id']}", headers=admin).json["status"] == path[-1]


def test_reopening_a_resolved_ticket_is_allowed(
    api: Api, user: dict[str, str], admin: dict[str, str]
) -> None:
    ticket = api.open_ticket(user)
    api.client.patch(f"/v1/tickets/{ticket['id']}", json={"status": "RESOLVED"}, headers=admin)
    reopened = api.client.patch(
        f"/v1/tickets/{ticket['id']}", json={"status": "OPEN"}, headers=admin
    )
    assert reopened.status_code == 200 and reopened.json["status"] == "OPEN"


def test_bad_ticket_input(api: Api, user: dict[str, str], admin: dict[str, str]) -> None:
    ticket = api.open_ticket(user)
    unknown = api.client.patch(
        f"/v1/tickets/{ticket['id']}", json={"status": "DONE"}, headers=admin
    )
    assert unknown.status_code == 422 and "status" in unknown.json["error"]["details"]
    missing = api.client.post("/v1/tickets", json={"title": "x"}, headers=user)
    assert missing.status_code == 422 and "description" in missing.json["error"]["details"]
    no_room = api.client.post(
        "/v1/tickets",
        headers=user,
        json={"title": "x", "description": "y", "room_id": "00000000-0000-4000-8000-000000000000"},
    )
    assert no_room.status_code == 404
    assert api.client.get("/v1/tickets", headers=user).json["total"] == 1


def test_work_can_resume_on_a_resolved_ticket(
    api: Api, user: dict[str, str], admin: dict[str, str]
) -> None:
    ticket = api.open_ticket(user)
    api.client.patch(f"/v1/tickets/{ticket['id']}", json={"status": "RESOLVED"}, headers=admin)
    resumed = api.client.patch(
        f"/v1/tickets/{ticket['id']}", json={"status": "IN_PROGRESS"}, headers=admin
    )
    assert resumed.status_code == 200 and resumed.json["status"] == "IN_PROGRESS"
