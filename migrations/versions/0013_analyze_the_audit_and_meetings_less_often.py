"""ANALYZE `audit_events` and `meetings` at a quarter's growth, not a tenth (issue 19).

Every accepted booking adds a row to `booking_requests`, `bookings`, `meetings` and
`audit_events`, so with autovacuum's default (ANALYZE after 50 rows + 10% of the table
changed) the four cross their thresholds in the same minute and are analyzed at once:
the soak's slowest second (535 ms) came with four ANALYZEs running together on two
cores. The planner leans on the statistics of `booking_requests` (the queues) and
`bookings` (the calendar's ranges), which keep the default; audit events are read by
booking or time for one admin screen, meetings by their booking or join code, so
their statistics may lag further. At a quarter they are analyzed about 2.5 times less
often and rarely in the same minute as the other two.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

LAGGING = ("audit_events", "meetings")
SCALE_FACTOR = 0.25


def upgrade() -> None:
    for table in LAGGING:
        op.execute(f"ALTER TABLE {table} SET (autovacuum_analyze_scale_factor = {SCALE_FACTOR})")


def downgrade() -> None:
    for table in LAGGING:
        op.execute(f"ALTER TABLE {table} RESET (autovacuum_analyze_scale_factor)")
