"""Reading a calendar feed with vobject: a parser of its own, as a calendar application
has, not the icalendar library that wrote the feed.

vobject keeps the first VTIMEZONE it parses for each TZID for the rest of the process
and reads every later feed naming that TZID with it, though each feed's VTIMEZONE covers
its own years. So every read here starts afresh: a feed's times are read with its own.
"""

from __future__ import annotations

from typing import Any

import vobject
import vobject.icalendar

_ZONES: dict[str, Any] = vars(vobject.icalendar)["__tzidMap"]


def read_calendar(text: str) -> Any:
    """The VCALENDAR component vobject makes of `text`."""
    for tzid in [tzid for tzid in _ZONES if tzid != "UTC"]:
        del _ZONES[tzid]
    return vobject.readOne(text)
