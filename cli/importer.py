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
    with tqdm(total=total, unit="booking", desc="deciding") as bar:
        done = 0
        while done < total:
            time.sleep(0.3)
            with sessions() as session:
                counts = item_counts(session, batch_id)
            bar.update(counts["done"] - done)
            done = counts["done"]
            bar.set_postfix(confirmed=counts["confirmed"], rejected=counts["rejected"])


OUTCOMES = ("confirmed", "confirmed in part", "pending", "pending in part", "waitlisted")


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


def summarize(
    sessions: sessionmaker[Session], batch_id: uuid.UUID, lines: list[int], viewer: Viewer
) -> None:
    with sessions() as session:
        items = session.scalars(
            select(BookingRequest)
            .where(BookingRequest.parent_id == batch_id)
            .order_by(BookingRequest.seq)
        ).all()
        outcomes = [row_outcome(item) for item in items]
        rows = Counter(outcome for outcome, _, _ in outcomes)
        reasons = Counter(
            (item.error or {}).get("code", "UNKNOWN")
            for item in items
            if item.status in (RequestStatus.REJECTED, RequestStatus.FAILED)
        )
        click.echo(f"\n{'rows':<28}{'count':>7}")
        for outcome in OUTCOMES:
            if outcome in ("confirmed", "confirmed in part") or rows[outcome]:
                click.echo(f"{outcome:<28}{rows[outcome]:>7}")
        for code, count in reasons.most_common():
            click.echo(f"{'rejected: ' + code:<28}{count:>7}")
        made = sum(m for _, m, _ in outcomes)
        skipped = sum(k for _, _, k in outcomes)
        click.echo(f"{'bookings made':<28}{made:>7}")
        if skipped:
            click.echo(f"{'occurrences skipped':<28}{skipped:>7}")
        for line, item, (outcome, _, skipped_here) in zip(lines, items, outcomes, strict=True):
            if item.status in (RequestStatus.REJECTED, RequestStatus.FAILED):
                error = item.error or {}
                why = describe_conflicts(session, error, viewer)
                click.echo(f"  line {line}: {item.status.value} {error.get('message', '')}{why}")
            elif skipped_here:
                click.echo(f"  line {line}: {outcome}, {skipped_here} occurrences skipped")
