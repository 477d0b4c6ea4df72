"""Hostile input found from outside: each was a 500 (or a broken feed) and is a 4xx now.

api/request_checks.py (depth, NUL in paths and chunked bodies), the one-line text
fields, the calendar's default window and the ticket's row lock.
"""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers import Api, assert_error, booking_body, future, request_count


def deep(levels: int) -> str:
    return '{"room_id": ' + "[" * levels + "]" * levels + "}"


@pytest.mark.parametrize("levels", [40, 400, 100_000])
def test_deeply_nested_json_is_a_4xx_and_stores_nothing(
    api: Api, user: dict[str, str], sessions: sessionmaker[Session], levels: int
) -> None:
    response = api.client.post(
        "/v1/bookings", data=deep(levels), content_type="application/json", headers=user
    )
    error = assert_error(response, 400 if levels > 1000 else 422)
    assert "nests deeper than 32" in error["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    assert request_count(sessions) == 0


def test_deep_json_from_an_anonymous_caller_is_401(api: Api) -> None:
    response = api.client.post("/v1/bookings", data=deep(400), content_type="application/json")
    assert_error(response, 401, "UNAUTHORIZED")


def test_a_nul_in_a_path_is_404(api: Api, user: dict[str, str]) -> None:
    assert_error(api.client.get("/v1/meetings/%00ABC", headers=user), 404, "NOT_FOUND")
    assert_error(api.client.get("/v1/meetings/%00ABC"), 401, "UNAUTHORIZED")


def test_a_calendar_from_the_last_year_there_is_answers(
    api: Api, user: dict[str, str], room: str
) -> None:
    response = api.client.get(
        f"/v1/rooms/{room}/calendar.ics?from=9999-11-30T00:00:00Z", headers=user
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_data(as_text=True).startswith("BEGIN:VCALENDAR")
    # Past the supported range (up to 9999-12-01, so no arithmetic overflows): a 422.
    beyond = api.client.get(
        f"/v1/rooms/{room}/calendar.ics?from=9999-12-31T00:00:00Z", headers=user
    )
    assert_error(beyond, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("attendees", ["Bob\r\nX-INJECTED:1"]),
        ("attendees", ["tab\there"]),
        ("attendees", ["line\u2028separator"]),
        ("title", "\u200b\ufeff"),
        ("title", " \u200b "),
        ("title", "two\nlines"),
    ],
)
def test_text_that_would_break_a_feed_or_show_nothing_is_refused(
    api: Api,
    user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
    field: str,
    value: object,
) -> None:
    body = booking_body(room, future(), **{field: value})
    error = assert_error(api.client.post("/v1/bookings", json=body, headers=user), 422)
    assert field in error["details"], error
    assert request_count(sessions) == 0


def test_names_with_accents_and_inner_spaces_still_pass(
    api: Api, user: dict[str, str], room: str, worker: object
) -> None:
    body = booking_body(room, future(), title="Réunion  d'équipe", attendees=["Zoë O'Brien"])
    task = api.book(user, body)
    assert api.wait_task(user, task)["status"] == "SUCCEEDED"


def test_a_ticket_closed_while_others_move_it_stays_closed(
    api: Api, app: Flask, admin: dict[str, str], user: dict[str, str]
) -> None:
    """1 PATCH to CLOSED and 15 to other states at once, ten rounds: the CLOSED one
    answers 200 and the ticket ends CLOSED (every move after it is a 409)."""
    others = ["IN_PROGRESS", "RESOLVED", "OPEN"] * 5
    for _ in range(10):
        ticket = api.open_ticket(user)
        url = f"/v1/tickets/{ticket['id']}"
        answers = patch_at_once(app, url, ["CLOSED", *others], admin)
        final = api.client.get(url, headers=admin).json["status"]
        assert answers[0] == ("CLOSED", 200, "CLOSED"), answers
        assert final == "CLOSED", answers
        assert all(code in (200, 409) for _, code, _ in answers), answers


def patch_at_once(
    app: Flask, url: str, statuses: list[str], headers: dict[str, str]
) -> list[tuple[str, int, str]]:
    """PATCH each status from a thread of its own, all released together; (status asked,
    HTTP status, ticket status answered) per request, in the order given."""
    answers: list[tuple[str, int, str]] = [("", 0, "")] * len(statuses)
    start = threading.Barrier(len(statuses))

    def run(i: int, status: str) -> None:
        client = app.test_client()
        start.wait()
        response = client.patch(url, json={"status": status}, headers=headers)
        answers[i] = (status, response.status_code, (response.json or {}).get("status", ""))

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(statuses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


MALFORMED_DATES = [
    "2027-03-01T09:00:00",  # no offset
    "2027-13-45T25:61:61Z",
    "10000-01-01T00:00:00Z",
    "-0001-01-01T00:00:00Z",
    "2027-03-01T09:00:00+25:00",
    "1e309",
    "99999999999999999999",
    "",
]
EXTREME_DATES = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00"]


def date_parameters(app: Flask) -> list[tuple[str, str]]:
    """(path, parameter) for every date-time query parameter of the live spec."""
    spec = app.test_client().get("/openapi.json").json
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "get":
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter["in"] == "query" and schema.get("format") == "date-time":
                    found.append((path, parameter["name"]))
    return found


def test_absurd_dates_in_every_date_query_parameter_are_4xx_in_the_error_shape(
    api: Api, app: Flask, user: dict[str, str], admin: dict[str, str], room: str
) -> None:
    parameters = date_parameters(app)
    assert len(parameters) >= 8, parameters  # availability, lists, calendars, audit
    for path, name in parameters:
        url = path.replace("{room_id}", room)
        for value in MALFORMED_DATES + EXTREME_DATES:
            response = api.client.get(url, query_string={name: value}, headers=admin)
            where = f"{url}?{name}={value!r}: {response.status_code}"
            assert response.status_code < 500, where
            if value in MALFORMED_DATES:
                assert_error(response, 422)
            elif response.status_code >= 400:
                assert set(response.json["error"]) == {"code", "message", "details"}, where


@pytest.mark.parametrize(
    "url",
    ["/v1/rooms?location=a%00b", "/v1/bookings?status=%00", "/v1/rooms?amenity=x%00&amenity=y"],
)
def test_a_nul_in_a_query_is_422(api: Api, user: dict[str, str], url: str) -> None:
    error = assert_error(api.client.get(url, headers=user), 422)
    assert "NUL" in error["message"]
