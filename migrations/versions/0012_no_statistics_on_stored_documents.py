"""No planner statistics on the JSON documents the write path stores (issue 19).

ANALYZE samples up to 30,000 rows and, for every column, sorts and counts their values;
for a jsonb column it first detoasts each one. The request's payload, result, error and
progress, an audit event's data and a webhook event's data are stored and read back
whole, never compared in a WHERE clause or indexed, so the planner has no use for their
statistics (jsonb operators estimate with constants anyway). Computing them was half of
autovacuum's ANALYZE of booking_requests (222 -> 101 ms at 24,000 rows), and autovacuum
ANALYZEs these tables about once a minute at 100 bookings/s: the soak's slowest second
(575 ms) came while three of them ran at once (docs/performance.md).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DOCUMENTS = {
    "booking_requests": ("payload", "result", "error", "progress"),
    "audit_events": ("data",),
    "events": ("data",),
}


def _set_statistics(target: int) -> None:
    for table, columns in DOCUMENTS.items():
        for column in columns:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS {target}")


def upgrade() -> None:
    _set_statistics(0)


def downgrade() -> None:
    _set_statistics(-1)  # the server's default_statistics_target
