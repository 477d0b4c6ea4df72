"""RFC 5546 (iTIP), section 3.2: the properties a VEVENT of a REQUEST or a CANCEL must,
may only once, and must not carry, checked on a parsed calendar (icalendar's)."""

from __future__ import annotations

from typing import Any

from icalendar import Calendar

# Property: (least, most) per VEVENT; None: no upper bound.
REQUEST = {
    "ATTENDEE": (1, None),
    "DTSTAMP": (1, 1),
    "DTSTART": (1, 1),
    "ORGANIZER": (1, 1),
    "SUMMARY": (1, 1),
    "UID": (1, 1),
    "SEQUENCE": (0, 1),
    "DESCRIPTION": (0, 1),
    "DTEND": (0, 1),
    "LOCATION": (0, 1),
    "RECURRENCE-ID": (0, 1),
    "RRULE": (0, 1),
    "STATUS": (0, 1),
    "LAST-MODIFIED": (0, 1),
}
CANCEL = {
    "DTSTAMP": (1, 1),
    "ORGANIZER": (1, 1),
    "SEQUENCE": (1, 1),
    "UID": (1, 1),
    "DTSTART": (0, 1),
    "DTEND": (0, 1),
    "SUMMARY": (0, 1),
    "DESCRIPTION": (0, 1),
    "LOCATION": (0, 1),
    "RECURRENCE-ID": (0, 1),
    "RRULE": (0, 1),
    "STATUS": (0, 1),
    "LAST-MODIFIED": (0, 1),
}
TABLES = {"REQUEST": REQUEST, "CANCEL": CANCEL}


def _count(event: Any, name: str) -> int:
    value = event.get(name)
    if value is None:
        return 0
    return len(value) if isinstance(value, list) else 1


def problems(calendar: Calendar) -> list[str]:
    """Where the calendar breaks RFC 5546 3.2.2 (REQUEST) or 3.2.5 (CANCEL)."""
    found: list[str] = []
    method = str(calendar.get("METHOD", ""))
    table = TABLES.get(method)
    if table is None:
        return [f"METHOD is {method!r}, not REQUEST or CANCEL"]
    for name in ("PRODID", "VERSION"):
        if name not in calendar:
            found.append(f"VCALENDAR lacks {name}")
    if str(calendar.get("VERSION")) != "2.0":
        found.append("VERSION is not 2.0")
    events = [c for c in calendar.walk("VEVENT")]
    if not events:
        found.append("no VEVENT")
    if len({str(e.get("UID")) for e in events}) > 1:
        found.append("VEVENTs with different UIDs")
    zones = {str(z.get("TZID")) for z in calendar.walk("VTIMEZONE")}
    recurring = any("RRULE" in e for e in events)
    for event in events:
        where = f"VEVENT {event.get('RECURRENCE-ID', '')!s}".strip()
        for name, (least, most) in table.items():
            count = _count(event, name)
            if count < least or (most is not None and count > most):
                found.append(f"{where}: {name} {count} times")
        if "DTEND" in event and "DURATION" in event:
            found.append(f"{where}: DTEND and DURATION")
        if "VALARM" in [c.name for c in event.subcomponents] and method == "CANCEL":
            found.append(f"{where}: a VALARM in a CANCEL")
        status = str(event.get("STATUS", ""))
        if method == "REQUEST" and status not in ("", "TENTATIVE", "CONFIRMED"):
            found.append(f"{where}: STATUS {status} in a REQUEST")
        if method == "CANCEL" and status not in ("", "CANCELLED"):
            found.append(f"{where}: STATUS {status} in a CANCEL")
        if method == "REQUEST" and int(event.get("SEQUENCE", 0)) > 0 and "SEQUENCE" not in event:
            found.append(f"{where}: no SEQUENCE")
        if "RECURRENCE-ID" in event and method == "REQUEST" and not recurring:
            found.append(f"{where}: a RECURRENCE-ID without its recurring master")
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            tzid = event[name].params.get("TZID") if name in event else None
            if tzid and tzid not in zones:
                found.append(f"{where}: {name} names TZID {tzid} without its VTIMEZONE")
    return found
