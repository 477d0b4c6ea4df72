"""Room policies, closures, approvals and the waitlist (issue 11).

- rooms.policy: the room's rules as JSON ({} is none).
- bookings may be PENDING (waiting for an approver), and a PENDING booking holds its
  slot: the exclusion constraint now covers PENDING and CONFIRMED.
- booking_requests may be WAITLISTED, and be of kind closure or approval.
- room_closures: windows in which a room cannot be booked.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _check(table: str, name: str, column: str, values: list[str]) -> None:
    """Replace an enum column's CHECK (models/tables/base.enum_column) with these values."""
    op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    listed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, f"{column} IN ({listed})")


EXCLUSION = (
    "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_no_overlap "
    "EXCLUDE USING gist (room_id WITH =, tstzrange(start_time, end_time, '[)') WITH &&) "
    "WHERE (status IN ({}))"
)


def upgrade() -> None:
    op.add_column(
        "rooms",
        sa.Column(
            "policy",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    _check("bookings", "booking_status", "status", ["PENDING", "CONFIRMED", "CANCELLED"])
    op.execute("ALTER TABLE bookings DROP CONSTRAINT ex_bookings_no_overlap")
    op.execute(EXCLUSION.format("'PENDING', 'CONFIRMED'"))
    op.create_index(
        "ix_bookings_pending",
        "bookings",
        ["start_time"],
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    _check(
        "booking_requests",
        "request_status",
        "status",
        ["QUEUED", "PROCESSING", "WAITLISTED", "SUCCEEDED", "REJECTED", "FAILED"],
    )
    _check(
        "booking_requests",
        "request_kind",
        "kind",
        ["booking", "series", "batch", "cancel", "closure", "approval"],
    )
    op.create_index(
        "ix_booking_requests_waitlisted",
        "booking_requests",
        ["room_id", "seq"],
        postgresql_where=sa.text("status = 'WAITLISTED'"),
    )
    op.create_table(
        "room_closures",
        sa.Column("room_id", sa.UUID(), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("request_id", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("end_time > start_time", name=op.f("ck_room_closures_end_after_start")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_room_closures_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_room_closures_room_id_rooms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_closures")),
    )
    op.create_index(
        "ix_room_closures_room_id_start_time", "room_closures", ["room_id", "start_time"]
    )


def downgrade() -> None:
    """Back to 0003: PENDING bookings are cancelled and WAITLISTED requests rejected, since
    the older schema knows neither; closures and policies are dropped."""
    op.drop_index("ix_room_closures_room_id_start_time", table_name="room_closures")
    op.drop_table("room_closures")
    op.drop_index("ix_booking_requests_waitlisted", table_name="booking_requests")
    op.execute(
        "UPDATE booking_requests SET status = 'REJECTED', "
        """error = '{"code": "WAITLIST_EXPIRED", "message": "the schema was downgraded"}' """
        "WHERE status = 'WAITLISTED'"
    )
    op.execute("DELETE FROM booking_requests WHERE kind IN ('closure', 'approval')")
    _check("booking_requests", "request_kind", "kind", ["booking", "series", "batch", "cancel"])
    _check(
        "booking_requests",
        "request_status",
        "status",
        ["QUEUED", "PROCESSING", "SUCCEEDED", "REJECTED", "FAILED"],
    )
    op.drop_index("ix_bookings_pending", table_name="bookings")
    op.execute("ALTER TABLE bookings DROP CONSTRAINT ex_bookings_no_overlap")
    op.execute(
        "UPDATE bookings SET status = 'CANCELLED', cancel_reason = 'APPROVAL_EXPIRED' "
        "WHERE status = 'PENDING'"
    )
    op.execute(EXCLUSION.format("'CONFIRMED'"))
    _check("bookings", "booking_status", "status", ["CONFIRMED", "CANCELLED"])
    op.drop_column("rooms", "policy")
