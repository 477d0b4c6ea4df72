"""`bookings seed`: demo users, rooms and bookings (the bookings go through the real pipeline)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models.domain.identity import Principal
from models.services import accounts, room_catalog
from models.services.accept import NewBooking, Waker, submit
from models.tables.rooms import Room
from models.tables.users import User

DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - printed to the person who ran `bookings up`
ADMIN = ("admin@example.com", "Ada Admin")
USERS = [("alice@example.com", "Alice"), ("bob@example.com", "Bob")]
ROOMS: list[dict[str, Any]] = [
    {
        "name": "Atlas",
        "capacity": 8,
        "location": "Berlin, 2nd floor",
        "building": "Spreehaus",
        "floor": "2",
        "amenities": ["screen", "whiteboard"],
        "timezone": "Europe/Berlin",
    },
    {
        "name": "Hudson",
        "capacity": 14,
        "location": "New York, 5th floor",
        "building": "Hudson Yards 30",
        "floor": "5",
        "amenities": ["screen", "video", "whiteboard"],
        "timezone": "America/New_York",
        "auto_release_minutes": 10,
    },
    {
        "name": "Kiosk",
        "capacity": 2,
        "location": "Berlin, ground floor",
        "building": "Spreehaus",
        "floor": "0",
        "amenities": ["phone"],
        "timezone": "Europe/Berlin",
    },
    {
        "name": "Thames",
        "capacity": 20,
        "location": "London, 1st floor",
        "amenities": ["screen", "video"],
        "timezone": "Europe/London",
        "auto_release_minutes": 15,
    },
]


def is_seeded(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        return bool(session.scalar(select(func.count()).select_from(User)))


def seed(sessions: sessionmaker[Session], waker: Waker) -> list[tuple[str, str]]:
    """Create the demo data once; return the (email, password) logins."""
    with sessions.begin() as session:
        admin = accounts.create_admin(
            session, email=ADMIN[0], password=DEMO_PASSWORD, name=ADMIN[1]
        )
        people = [admin]
        for email, name in USERS:
            existing = session.scalars(select(User).where(User.email == email)).first()
            people.append(
                existing
                or accounts.register(session, email=email, name=name, password=DEMO_PASSWORD)
            )
        for fields in ROOMS:
            if not session.scalars(select(Room).where(Room.name == fields["name"])).first():
                room_catalog.create_room(session, dict(fields))
        rooms = list(session.scalars(select(Room).order_by(Room.name)))
    tomorrow = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(
        days=1
    )
    for day in range(5):
        for i, room in enumerate(rooms):
            start = tomorrow + timedelta(days=day, hours=i)
            booking = {
                "room_id": room.id,
                "start_time": start,
                "end_time": start + timedelta(hours=1),
                "title": f"Demo meeting {day + 1}.{i + 1}",
            }
            organizer = people[(day + i) % len(people)]
            caller = Principal(organizer.id, organizer.role)
            submit(sessions, waker, caller, NewBooking(booking))
    return [(ADMIN[0], DEMO_PASSWORD)] + [(email, DEMO_PASSWORD) for email, _ in USERS]
