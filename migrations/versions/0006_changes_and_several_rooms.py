"""Changing bookings, several rooms at once, booking on behalf (issue 17).

- bookings: version (a change adds one), group_id (the bookings of one several-rooms
  request), booked_by (the sender, when not the organizer), original_start (a series
  occurrence's first start: its RECURRENCE-ID once moved).
- The exclusion constraint is checked at commit (DEFERRABLE INITIALLY DEFERRED): a
  series shifted by a week moves each occurrence onto the next one's old slot, and only
  the state a decision ends in must hold. Its guarantee is unchanged.
- booking_requests: rooms (every room a request may touch, when more than one) and
  subject_id (the booking, series or group it changes), and two new kinds.
- delegates: whom a user lets book on their behalf.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

KINDS = ["booking", "series", "batch", "cancel", "closure", "approval"]
EXCLUSION = (
    "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_no_overlap "
    "EXCLUDE USING gist (room_id WITH =, tstzrange(start_time, end_time, '[)') WITH &&) "
    "WHERE (status IN ('PENDING', 'CONFIRMED')){}"
)


def _kinds(values: list[str]) -> None:
    op.drop_constraint(op.f("ck_booking_requests_request_kind"), "booking_requests", type_="check")
    listed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint(
        op.f("ck_booking_requests_request_kind"), "booking_requests", f"kind IN ({listed})"
    )


def upgrade() -> None:
    op.add_column("bookings", sa.Column("group_id", sa.UUID(), nullable=True))
    op.add_column("bookings", sa.Column("booked_by", sa.UUID(), nullable=True))
    op.add_column(
        "bookings",
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )
    op.add_column(
        "bookings", sa.Column("original_start", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "bookings", sa.Column("external_meeting_url", sa.String(length=2000), nullable=True)
    )
    # The URL a booking's meeting has, or will have once approved (its request's).
    op.execute(
        "UPDATE bookings b SET external_meeting_url = m.external_meeting_url "
        "FROM meetings m WHERE m.booking_id = b.id"
    )
    op.execute(
        "UPDATE bookings b SET external_meeting_url = r.payload->>'external_meeting_url' "
        "FROM booking_requests r WHERE r.id = b.request_id AND b.status = 'PENDING'"
    )
    # Nothing could move before this revision: every occurrence is where it was booked.
    op.execute("UPDATE bookings SET original_start = start_time WHERE series_id IS NOT NULL")
    op.create_foreign_key(
        op.f("fk_bookings_booked_by_users"), "bookings", "users", ["booked_by"], ["id"]
    )
    op.create_index(
        "ix_bookings_group_id",
        "bookings",
        ["group_id"],
        postgresql_where=sa.text("group_id IS NOT NULL"),
    )
    op.create_index(
        "ix_bookings_booked_by",
        "bookings",
        ["booked_by"],
        postgresql_where=sa.text("booked_by IS NOT NULL"),
    )
    op.execute("ALTER TABLE bookings DROP CONSTRAINT ex_bookings_no_overlap")
    op.execute(EXCLUSION.format(" DEFERRABLE INITIALLY DEFERRED"))

    op.add_column(
        "booking_requests", sa.Column("rooms", postgresql.ARRAY(sa.UUID()), nullable=True)
    )
    op.add_column("booking_requests", sa.Column("subject_id", sa.UUID(), nullable=True))
    # A room's queue of one-room requests, and the queue and waitlist of several-room
    # ones by room (models/tables/requests.py says why the first leaves them out).
    op.drop_index("ix_booking_requests_queued", table_name="booking_requests")
    op.create_index(
        "ix_booking_requests_queued",
        "booking_requests",
        ["room_id", "seq"],
        postgresql_where=sa.text("status = 'QUEUED' AND rooms IS NULL"),
    )
    op.create_index(
        "ix_booking_requests_queued_several",
        "booking_requests",
        ["room_id", "seq"],
        postgresql_where=sa.text("status = 'QUEUED' AND rooms IS NOT NULL"),
    )
    for status in ("queued", "waitlisted"):
        op.create_index(
            f"ix_booking_requests_{status}_rooms",
            "booking_requests",
            ["rooms"],
            postgresql_using="gin",
            postgresql_where=sa.text(f"status = '{status.upper()}' AND rooms IS NOT NULL"),
        )
    op.create_index(
        "ix_booking_requests_subject",
        "booking_requests",
        ["subject_id"],
        postgresql_where=sa.text("status = 'QUEUED' AND subject_id IS NOT NULL"),
    )
    _kinds([*KINDS[:4], "change", "series_change", *KINDS[4:]])

    op.create_table(
        "delegates",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("delegate_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["delegate_id"],
            ["users.id"],
            name=op.f("fk_delegates_delegate_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_delegates_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "delegate_id", name=op.f("pk_delegates")),
    )


def downgrade() -> None:
    """Back to 0005: change requests go (the older code cannot read them); several-rooms
    requests keep their first room; the bookings keep their rows, without group, sender
    or version."""
    op.drop_table("delegates")
    op.execute("DELETE FROM booking_requests WHERE kind IN ('change', 'series_change')")
    _kinds(KINDS)
    op.drop_index("ix_booking_requests_subject", table_name="booking_requests")
    for status in ("queued", "waitlisted"):
        op.drop_index(f"ix_booking_requests_{status}_rooms", table_name="booking_requests")
    op.drop_index("ix_booking_requests_queued_several", table_name="booking_requests")
    op.drop_index("ix_booking_requests_queued", table_name="booking_requests")
    op.create_index(
        "ix_booking_requests_queued",
        "booking_requests",
        ["room_id", "seq"],
        postgresql_where=sa.text("status = 'QUEUED'"),
    )
    op.drop_column("booking_requests", "subject_id")
    op.drop_column("booking_requests", "rooms")
    op.execute("ALTER TABLE bookings DROP CONSTRAINT ex_bookings_no_overlap")
    op.execute(EXCLUSION.format(""))
    op.drop_index("ix_bookings_booked_by", table_name="bookings")
    op.drop_index("ix_bookings_group_id", table_name="bookings")
    op.drop_constraint(op.f("fk_bookings_booked_by_users"), "bookings", type_="foreignkey")
    op.drop_column("bookings", "external_meeting_url")
    op.drop_column("bookings", "original_start")
    op.drop_column("bookings", "version")
    op.drop_column("bookings", "booked_by")
    op.drop_column("bookings", "group_id")
