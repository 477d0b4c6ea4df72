"""`bookings import FILE`: submit a CSV or JSON file as one batch and follow it to the end.

CSV columns (a header row names them; only the first five are required):
  room | room_id | rooms (several at once: a;b), start_time, end_time, title,
  [description], [attendees: a;b], [external_meeting_url], [waitlist: true|false],
  [organizer: an email, to book for them], and for a recurring row: freq, [interval],
  count | until, [by_weekday: MO;WE], [timezone], [conflict_policy].
JSON: a list of booking / recurring bodies exactly as POST /v1/bookings/batch takes them,
or {"items": [...]}; a "room" name may stand in for "room_id", a list of "rooms" for
"room_ids" and an "organizer" email for "organizer_id".
"""

from __future__ import annotations

import csv
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from models.domain.identity import Principal, Viewer
from models.domain.states import RequestStatus, Role
from models.errors import DomainError, ValidationFailed
from models.services.accept import NewBatch, Waker, submit
from models.services.booking_queries import sees_details
from models.services.task_status import item_counts
from models.tables.bookings import Booking
from models.tables.requests import BookingRequest
from models.tables.rooms import Room
from models.tables.users import User

RECURRENCE_COLUMNS = ("freq", "interval", "count", "until", "by_weekday")
_FLAGS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _csv_item(row: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
    for listed in ("attendees", "rooms"):
        if listed in item:
            item[listed] = [a.strip() for a in item[listed].split(";") if a.strip()]
    if "waitlist" in item:
        flag = item["waitlist"].strip().lower()
        # Anything else is left as written: validation names the row and the column.
        item["waitlist"] = _FLAGS.get(flag, item["waitlist"])
    if "freq" in item:
        rule: dict[str, Any] = {k: item.pop(k) for k in RECURRENCE_COLUMNS if k in item}
        for number in ("interval", "count"):
            if number in rule and rule[number].isdigit():
                rule[number] = int(rule[number])
        if "by_weekday" in rule:
            rule["by_weekday"] = [d.strip().upper() for d in rule["by_weekday"].split(";")]
        item["recurrence"] = rule
    return item


def read_items(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """The file's items, and the line (CSV) or position (JSON, from 1) each came from."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        items = data["items"] if isinstance(data, dict) else data
        return list(items), list(range(1, len(items) + 1))
    reader = csv.DictReader(text.splitlines())
    items, lines = [], []
    for row in reader:
        items.append(_csv_item(row))
        lines.append(reader.line_num)
    return items, lines


def resolve_names(session: Session, items: list[dict[str, Any]]) -> None:
    """Room names (`room`, `rooms`) and organizer emails (`organizer`) as the ids the API
    takes; one that names nothing is left for validation to name, row and column."""
    names = {item["room"] for item in items if "room" in item and "room_id" not in item}
    names |= {name for item in items for name in item.get("rooms") or ()}
    by_name = {r.name: r.id for r in session.scalars(select(Room).where(Room.name.in_(names)))}
    emails = {str(item["organizer"]).strip().lower() for item in items if "organizer" in item}
    found = session.execute(select(User.email, User.id).where(User.email.in_(emails)))
    by_email = {email: user_id for email, user_id in found}
    for item in items:
        name = item.pop("room", None)
        if name is not None and "room_id" not in item:
            item["room_id"] = str(by_name.get(name, f"unknown room {name!r}"))
        several = item.pop("rooms", None)
        if several is not None and "room_ids" not in item:
            item["room_ids"] = [str(by_name.get(n, f"unknown room {n!r}")) for n in several]
        email = item.pop("organizer", None)
        if email is not None and "organizer_id" not in item:
            known = by_email.get(str(email).strip().lower())
            item["organizer_id"] = str(known or f"unknown user {email!r}")


def import_file(
    sessions: sessionmaker[Session], waker: Waker, path: Path, email: str | None
) -> int:
    items, lines = read_items(path)
    if not items:
        raise click.ClickException(f"{path} holds no bookings")
    with sessions() as session:
        if email is None:
            first_admin = select(User).where(User.role == Role.ADMIN).order_by(User.created_at)
            user = session.scalars(first_admin).first()
        else:
            user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
        if user is None:
            raise click.ClickException(
                f"no user {email or '(no admin yet: bookings create-admin)'}"
            )
        resolve_names(session, items)
        caller = Principal(user.id, user.role)
    try:
        accepted = submit(sessions, waker, caller, NewBatch(items, file=path.name))
    except ValidationFailed as exc:
        click.echo(f"{path}: nothing was submitted; fix these and try again:", err=True)
        problems_by_item = exc.details.get("items")
        if not isinstance(problems_by_item, dict):  # the whole file asks for too much
            click.echo(f"  {exc.message}", err=True)
            return 1
        for index, problems in problems_by_item.items():
            click.echo(f"  line {lines[int(index)]}: {json.dumps(problems)}", err=True)
        return 1
    except DomainError as exc:  # an organizer the importing user may not book for
        click.echo(f"{path}: nothing was submitted: {exc.message}", err=True)
        return 1
    asked = occurrences_asked(sessions, accepted.request_id)
    click.echo(
        f"submitted {len(items)} rows ({asked} bookings once series are expanded) "
        f"as task {accepted.request_id}"
    )
    follow(sessions, accepted.request_id, len(items))
    summarize(sessions, accepted.request_id, lines, Principal(user.id, user.role))
    return 0


def occurrences_asked(sessions: sessionmaker[Session], batch_id: uuid.UUID) -> int:
    """The bookings a batch asks for, a series' occurrences counted one by one."""
    with sessions() as session:
        payloads = session.scalars(
            select(BookingRequest.payload).where(BookingRequest.parent_id == batch_id)
        )
        return sum(len(p.get("occurrences") or [None]) for p in payloads)


def follow(sessions: sessionmaker[Session], batch_id: uuid.UUID, total: int) -> None:
    """A progress bar of the batch's rows (its items), as the task's own progress counts
    them: a recurring row is one row, however many bookings it expands into."""
    with tqdm(total=total, unit="row", desc="rows decided") as bar:
        done = 0
        while done < total:
            time.sleep(0.3)
            with sessions() as session:
                counts = item_counts(session, batch_id)
            bar.update(counts["done"] - done)
            done = counts["done"]
            bar.set_postfix(succeeded=counts["confirmed"], rejected=counts["rejected"])


OUTCOMES = ("confirmed", "confirmed in part", "pending", "pending in part", "waitlisted")
REFUSED = (RequestStatus.REJECTED, RequestStatus.FAILED)
SKIPS_SHOWN = 10  # skipped occurrences listed one by one per row; the rest are counted


def counted(count: int, noun: str) -> str:
    """`1 occurrence`, `2 occurrences`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def row_outcome(item: BookingRequest) -> tuple[str, int, int]:
    """(outcome, bookings made, occurrences skipped) of one row: a series that booked
    some of its occurrences and skipped others is "confirmed in part", not "confirmed";
    in a room that requires approval the bookings are "pending"; a row that waits for
    its slot is "waitlisted"."""
    if item.status == RequestStatus.WAITLISTED:
        return "waitlisted", 0, 0
    if item.status != RequestStatus.SUCCEEDED:
        return "rejected", 0, 0
    result = item.result or {}
    state = "pending" if result.get("booking_status") == "PENDING" else "confirmed"
    occurrences = result.get("occurrences")
    if occurrences is None:
        return state, 1, 0
    skipped = sum(1 for o in occurrences if o["status"] == "SKIPPED")
    made = len(occurrences) - skipped
    return (f"{state} in part" if skipped else state), made, skipped


def skipped_occurrences(item: BookingRequest) -> list[dict[str, Any]]:
    """The entries of a series' occurrences that were skipped, each naming its refusal."""
    if item.status != RequestStatus.SUCCEEDED:
        return []
    return [o for o in (item.result or {}).get("occurrences") or [] if o["status"] == "SKIPPED"]


def bookings_asked(item: BookingRequest) -> int:
    """The bookings a row asks for: a series' occurrences, or one."""
    return len(item.payload.get("occurrences") or [None])


def why_skipped(entry: dict[str, Any], describe: Callable[[dict[str, Any]], str]) -> str:
    """One skipped occurrence: when, the refusal's code, the rule and limit it broke,
    and what it collided with (`describe` says that)."""
    why = entry.get("code", "UNKNOWN")
    rule = entry.get("rule")
    if rule:
        why += f" ({rule['name']}: {rule['limit']})"
    return f"{entry['start_time']} to {entry['end_time']}: {why}{describe(entry)}"


def describe_conflicts(session: Session, error: dict[str, Any], viewer: Viewer) -> str:
    """When and, where the importing user may see it, what the row collided with."""
    conflicts = error.get("conflicts") or []
    if not conflicts:
        return ""
    shown = conflicts[:3]
    ids = [uuid.UUID(c["booking_id"]) for c in shown]
    found = {b.id: b for b in session.scalars(select(Booking).where(Booking.id.in_(ids)))}
    parts = []
    for conflict, booking_id in zip(shown, ids, strict=True):
        booking = found.get(booking_id)
        what = f' "{booking.title}"' if booking and sees_details(viewer, booking) else ""
        parts.append(f"{conflict['start_time']} to {conflict['end_time']}{what}")
    more = f" and {len(conflicts) - len(shown)} more" if len(conflicts) > len(shown) else ""
    return "; conflicts with " + ", ".join(parts) + more


def summary_lines(
    items: Sequence[BookingRequest],
    lines: Sequence[int],
    describe: Callable[[dict[str, Any]], str],
) -> list[str]:
    """The summary of a decided batch: its rows by outcome (the unit of the progress
    bar), then its bookings (a series counted by occurrence, as "submitted" counted
    them), then each row that was not booked whole, by its line in the file, saying why.
    `describe` says what an error or a skipped occurrence collided with."""
    outcomes = [row_outcome(item) for item in items]
    rows = Counter(outcome for outcome, _, _ in outcomes)
    refused = [item for item in items if item.status in REFUSED]
    by_row = [
        (outcome, rows[outcome])
        for outcome in OUTCOMES
        if outcome in ("confirmed", "confirmed in part") or rows[outcome]
    ]
    reasons = Counter((item.error or {}).get("code", "UNKNOWN") for item in refused)
    by_row += [(f"rejected: {code}", count) for code, count in reasons.most_common()]

    skips = Counter(o.get("code", "UNKNOWN") for item in items for o in skipped_occurrences(item))
    not_made = sum(bookings_asked(item) for item in refused)
    waiting = sum(bookings_asked(i) for i in items if i.status == RequestStatus.WAITLISTED)
    by_booking = [("made", sum(made for _, made, _ in outcomes))]
    by_booking += [(f"skipped: {code}", count) for code, count in skips.most_common()]
    by_booking += [("not made: row rejected", not_made)] if not_made else []
    by_booking += [("waiting: row waitlisted", waiting)] if waiting else []

    width = max(28, *(len(label) + 2 for label, _ in by_row + by_booking))
    out = []
    for title, counts in (("rows", by_row), ("bookings", by_booking)):
        out.append(f"\n{title:<{width}}{'count':>7}")
        out += [f"{label:<{width}}{count:>7}" for label, count in counts]

    for line, item, (outcome, _, skipped) in zip(lines, items, outcomes, strict=True):
        if item.status in REFUSED:
            error = item.error or {}
            message = error.get("message", "")
            out.append(f"  line {line}: {item.status.value} {message}{describe(error)}")
        elif skipped:
            out.append(f"  line {line}: {outcome}, {counted(skipped, 'occurrence')} skipped:")
            entries = skipped_occurrences(item)
            out += [f"    {why_skipped(entry, describe)}" for entry in entries[:SKIPS_SHOWN]]
            rest = Counter(o.get("code", "UNKNOWN") for o in entries[SKIPS_SHOWN:])
            if rest:
                codes = ", ".join(f"{code} {count}" for code, count in rest.most_common())
                out.append(f"    and {len(entries) - SKIPS_SHOWN} more: {codes}")
    return out


def summarize(
    sessions: sessionmaker[Session], batch_id: uuid.UUID, lines: list[int], viewer: Viewer
) -> None:
    with sessions() as session:
        items = session.scalars(
            select(BookingRequest)
            .where(BookingRequest.parent_id == batch_id)
            .order_by(BookingRequest.seq)
        ).all()
        for text in summary_lines(items, lines, lambda e: describe_conflicts(session, e, viewer)):
            click.echo(text)
