"""`bookings import`: a CSV or JSON file becomes one batch, followed to the end."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cli.main import main
from models.tables.bookings import Booking
from tests.helpers import Api, future, request_count, wait_decided
from tests.roles import run_apart

pytestmark = pytest.mark.usefixtures("worker")


def rows_csv(room_name: str, count: int) -> str:
    start = future()
    lines = ["room,start_time,end_time,title,attendees"]
    for i in range(count):
        s = start + timedelta(hours=i)
        lines.append(
            f"{room_name},{s.isoformat()},{(s + timedelta(minutes=50)).isoformat()},"
            f"Sync {i},a@example.com;b@example.com"
        )
    s = start + timedelta(minutes=10)  # clashes with the first row
    lines.append(f"{room_name},{s.isoformat()},{(s + timedelta(minutes=20)).isoformat()},Clash,")
    return "\n".join(lines) + "\n"


def test_import_csv_books_rows_and_reports_the_rejected_line(
    tmp_path: Path,
    api: Api,
    user: dict[str, str],
    admin: dict[str, str],
    sessions: sessionmaker[Session],
) -> None:
    api.create_room(admin, name="Orion", capacity=4)
    path = tmp_path / "bookings.csv"
    path.write_text(rows_csv("Orion", 6))

    result = CliRunner().invoke(main, ["import", str(path), "--as", "alice@example.com"])

    assert result.exit_code == 0, result.output
    assert "submitted 7 rows (7 bookings once series are expanded)" in result.output
    assert "rows decided" in result.output and "7/7" in result.output  # the bar counts rows
    assert "confirmed                         6" in result.output
    assert "rejected: CONFLICT                1" in result.output
    assert "made                              6" in result.output
    assert "not made: row rejected            1" in result.output
    assert "line 8: REJECTED" in result.output  # header is line 1, the clash the 8th
    # The clash names what it hit: alice's own booking, so with its title.
    assert '"Sync 0"' in result.output.split("line 8: REJECTED", 1)[1]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 6
        attendees = session.scalars(select(Booking.attendees)).first()
    assert attendees == ["a@example.com", "b@example.com"]


def test_import_refuses_a_file_with_a_bad_row_and_submits_nothing(
    tmp_path: Path, user: dict[str, str], room: str, sessions: sessionmaker[Session]
) -> None:
    good = {
        "room_id": room,
        "start_time": future().isoformat(),
        "end_time": (future() + timedelta(hours=1)).isoformat(),
        "title": "ok",
    }
    bad = {**good, "end_time": (future() - timedelta(hours=1)).isoformat()}
    path = tmp_path / "bookings.json"
    path.write_text(json.dumps([good, good | {"title": "also ok"}, bad]))

    result = CliRunner().invoke(main, ["import", str(path), "--as", "alice@example.com"])

    assert result.exit_code == 1
    assert "line 3" in result.output and "end_time" in result.output
    assert request_count(sessions) == 0


def test_import_counts_the_bookings_a_series_made_and_the_occurrences_it_skipped(
    tmp_path: Path, api: Api, user: dict[str, str], admin: dict[str, str]
) -> None:
    api.create_room(admin, name="Vega", capacity=4)
    start = future()
    later = start + timedelta(weeks=2)  # the series' third week is taken by this row
    path = tmp_path / "series.csv"
    path.write_text(
        "room,start_time,end_time,title,freq,count,conflict_policy\n"
        f"Vega,{later.isoformat()},{(later + timedelta(hours=1)).isoformat()},Taken,,,\n"
        f"Vega,{start.isoformat()},{(start + timedelta(hours=1)).isoformat()},Weekly,WEEKLY,4,"
        "skip_conflicts\n"
    )

    result = CliRunner().invoke(main, ["import", str(path), "--as", "alice@example.com"])

    assert result.exit_code == 0, result.output
    assert "submitted 2 rows (5 bookings once series are expanded)" in result.output
    # The bar counts rows, as the summary's first table does; its second counts bookings.
    assert "rows decided" in result.output and "2/2" in result.output
    rows, bookings = result.output.split("\nrows ", 1)[1].split("\nbookings ", 1)
    assert "confirmed                         1" in rows
    assert "confirmed in part                 1" in rows
    assert "made                              4" in bookings
    assert "skipped: CONFLICT                 1" in bookings
    # The skip names its occurrence, its reason and (alice's own) what it collided with.
    detail = bookings.split("line 3: confirmed in part, 1 occurrence skipped:\n", 1)[1]
    skip = detail.splitlines()[0]
    assert skip.startswith(f"    {later.isoformat()} to ") and ": CONFLICT; conflicts with " in skip
    assert skip.endswith('"Taken"'), skip


def test_import_takes_waitlist_and_counts_pending_and_waitlisted_rows(
    tmp_path: Path, api: Api, user: dict[str, str], admin: dict[str, str]
) -> None:
    api.create_room(admin, name="Orion", capacity=4)
    api.create_room(admin, name="Lyra", capacity=4, policy={"requires_approval": True})
    start, end = future(), future() + timedelta(hours=1)
    path = tmp_path / "rows.csv"
    path.write_text(
        "room,start_time,end_time,title,waitlist\n"
        f"Orion,{start.isoformat()},{end.isoformat()},First,\n"
        f"Orion,{start.isoformat()},{end.isoformat()},Waits,yes\n"
        f"Lyra,{start.isoformat()},{end.isoformat()},Asks,false\n"
    )

    result = CliRunner().invoke(main, ["import", str(path), "--as", "alice@example.com"])

    assert result.exit_code == 0, result.output
    assert "confirmed                         1" in result.output
    assert "pending                           1" in result.output
    assert "waitlisted                        1" in result.output
    assert "rejected: " not in result.output  # no refusal row in the summary


def test_an_import_run_alone_counts_in_the_hosts_metrics(
    tmp_path: Path, api: Api, user: dict[str, str], admin: dict[str, str]
) -> None:
    """`bookings import` in a shell of its own: its accepted batch lands in the metrics
    folder the API adds up (`.bookings/metrics` where it runs), not in a dying process."""
    import sys

    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    api.create_room(admin, name="Lyra", capacity=4)
    path = tmp_path / "one.csv"
    path.write_text("\n".join(rows_csv("Lyra", 1).splitlines()[:2]) + "\n")  # no clash row
    done = run_apart(
        [sys.executable, "-m", "cli", "import", str(path), "--as", "alice@example.com"],
        tmp_path,
        without=("PROMETHEUS_MULTIPROC_DIR",),
    )
    assert done.returncode == 0, done.stdout + done.stderr

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path / ".bookings" / "metrics"))
    text = generate_latest(registry).decode()
    assert 'bookings_requests_accepted_total{kind="batch"} 1.0' in text, text[:2000]


def test_a_second_run_does_not_print_the_demo_logins_again(
    worker: object, sessions: sessionmaker[Session]
) -> None:
    """What `bookings up` says of the demo data once every role is ready."""
    from cli.up import _seed_first_run

    first = _seed_first_run()
    second = _seed_first_run()

    assert "demo login: admin@example.com / demo-password-1" in first
    assert not any("demo login" in line for line in second)
    assert second == ["demo data: already there (bookings seed adds it again)"]
    wait_decided(sessions)  # the demo bookings, decided by the worker


def test_create_admin_if_missing_never_resets_a_password(api: Api) -> None:
    first = ["create-admin", "--email", "ops@example.com", "--password", "first-password"]
    again = ["create-admin", "--if-missing", "--email", "ops@example.com", "--password", "x" * 9]

    assert CliRunner().invoke(main, first).exit_code == 0
    second = CliRunner().invoke(main, again)

    assert second.exit_code == 0 and "left as it is" in second.output
    api.login("ops@example.com", "first-password")  # still the first one


def test_import_books_several_rooms_and_for_the_organizer_a_row_names(
    tmp_path: Path,
    api: Api,
    user: dict[str, str],
    other_user: dict[str, str],
    admin: dict[str, str],
    sessions: sessionmaker[Session],
) -> None:
    """A `rooms` column (names, a;b) books them together; an `organizer` email books for
    that user, as the importing user may (an admin: anyone); an unknown one names its
    line and nothing is submitted."""
    for name in ("East", "West"):
        api.create_room(admin, name=name, capacity=4)
    start = future()
    end = start + timedelta(hours=1)
    path = tmp_path / "bookings.csv"
    path.write_text(
        "rooms,organizer,start_time,end_time,title\n"
        f"East;West,bob@example.com,{start.isoformat()},{end.isoformat()},Workshop\n"
    )

    result = CliRunner().invoke(main, ["import", str(path)])  # as the first admin

    assert result.exit_code == 0, result.output
    assert "confirmed                         1" in result.output
    bob = api.me(other_user)
    with sessions() as session:
        made = session.execute(select(Booking.organizer_id, Booking.group_id)).all()
    assert len(made) == 2
    assert {str(organizer) for organizer, _ in made} == {bob}
    assert len({group for _, group in made}) == 1 and made[0][1] is not None

    path.write_text(
        "room,organizer,start_time,end_time,title\n"
        f"East,nobody@example.com,{start.isoformat()},{end.isoformat()},Who\n"
    )
    before = request_count(sessions)
    refused = CliRunner().invoke(main, ["import", str(path)])
    assert refused.exit_code == 1
    assert "line 2" in refused.output and "organizer_id" in refused.output
    assert request_count(sessions) == before
