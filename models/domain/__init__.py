"""Pure rules: no session, no I/O. The decision engine, recurrence, calendars."""
