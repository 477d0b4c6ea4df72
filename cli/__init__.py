"""The bookings command."""
