"""Initial schema: every table, the no-overlap exclusion constraint, checks and indexes.

Reviewed by hand: autogenerate cannot be trusted with EXCLUDE constraints, so the
btree_gist extension and the constraint are written out explicitly below.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # btree_gist lets a GiST index mix `room_id =` with `tstzrange &&`.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "rooms",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column(
            "amenities",
            postgresql.ARRAY(sa.String(length=100)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("auto_release_minutes", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
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
        sa.CheckConstraint(
            "auto_release_minutes IS NULL OR auto_release_minutes > 0",
            name=op.f("ck_rooms_auto_release_positive"),
        ),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_rooms_capacity_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("name", name=op.f("uq_rooms_name")),
    )
    op.create_table(
        "users",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "ADMIN",
                "USER",
                name="user_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "audit_events",
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=True),
        sa.Column("room_id", sa.UUID(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"], unique=False)
    op.create_index(
        op.f("ix_audit_events_booking_id"), "audit_events", ["booking_id"], unique=False
    )
    op.create_index(op.f("ix_audit_events_room_id"), "audit_events", ["room_id"], unique=False)
    op.create_table(
        "booking_requests",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "booking",
                "series",
                "batch",
                "cancel",
                name="request_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("room_id", sa.UUID(), nullable=True),
        sa.Column("requester_id", sa.UUID(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "QUEUED",
                "PROCESSING",
                "SUCCEEDED",
                "REJECTED",
                "FAILED",
                name="request_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("progress", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("body_hash", sa.String(length=64), nullable=True),
        sa.Column("parent_id", sa.UUID(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "accepted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
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
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["booking_requests.id"],
            name=op.f("fk_booking_requests_parent_id_booking_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_booking_requests_requester_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_booking_requests_room_id_rooms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_requests")),
        sa.UniqueConstraint(
            "requester_id",
            "idempotency_key",
            name=op.f("uq_booking_requests_requester_id_idempotency_key"),
        ),
        sa.UniqueConstraint("seq", name=op.f("uq_booking_requests_seq")),
    )
    op.create_index(
        "ix_booking_requests_created_at", "booking_requests", ["created_at"], unique=False
    )
    op.create_index(
        "ix_booking_requests_parent_id", "booking_requests", ["parent_id"], unique=False
    )
    op.create_index(
        "ix_booking_requests_queued",
        "booking_requests",
        ["room_id", "seq"],
        unique=False,
        postgresql_where=sa.text("status = 'QUEUED'"),
    )
    op.create_index(
        op.f("ix_booking_requests_requester_id"), "booking_requests", ["requester_id"], unique=False
    )
    op.create_table(
        "booking_series",
        sa.Column("room_id", sa.UUID(), nullable=False),
        sa.Column("organizer_id", sa.UUID(), nullable=False),
        sa.Column("request_id", sa.UUID(), nullable=True),
        sa.Column("rule", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "conflict_policy",
            sa.Enum(
                "all_or_nothing",
                "skip_conflicts",
                name="conflict_policy",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["organizer_id"], ["users.id"], name=op.f("fk_booking_series_organizer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_booking_series_room_id_rooms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_series")),
    )
    op.create_index(
        op.f("ix_booking_series_organizer_id"), "booking_series", ["organizer_id"], unique=False
    )
    op.create_index(op.f("ix_booking_series_room_id"), "booking_series", ["room_id"], unique=False)
    op.create_table(
        "tickets",
        sa.Column("created_by", sa.UUID(), nullable=False),
        sa.Column("room_id", sa.UUID(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "OPEN",
                "IN_PROGRESS",
                "RESOLVED",
                "CLOSED",
                name="ticket_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
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
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_tickets_created_by_users")
        ),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_tickets_room_id_rooms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    op.create_index(op.f("ix_tickets_created_by"), "tickets", ["created_by"], unique=False)
    op.create_index(op.f("ix_tickets_room_id"), "tickets", ["room_id"], unique=False)
    op.create_table(
        "bookings",
        sa.Column("room_id", sa.UUID(), nullable=False),
        sa.Column("organizer_id", sa.UUID(), nullable=False),
        sa.Column("series_id", sa.UUID(), nullable=True),
        sa.Column("request_id", sa.UUID(), nullable=True),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "attendees",
            postgresql.ARRAY(sa.String(length=320)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "CONFIRMED",
                "CANCELLED",
                name="booking_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
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
        sa.CheckConstraint("end_time > start_time", name=op.f("ck_bookings_end_after_start")),
        sa.ForeignKeyConstraint(
            ["organizer_id"], ["users.id"], name=op.f("fk_bookings_organizer_id_users")
        ),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_bookings_room_id_rooms")),
        sa.ForeignKeyConstraint(
            ["series_id"], ["booking_series.id"], name=op.f("fk_bookings_series_id_booking_series")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    # The guarantee: no two CONFIRMED bookings of one room overlap; '[)' allows back-to-back.
    op.execute(
        "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_no_overlap "
        "EXCLUDE USING gist (room_id WITH =, tstzrange(start_time, end_time, '[)') WITH &&) "
        "WHERE (status = 'CONFIRMED')"
    )
    op.create_index("ix_bookings_created_at", "bookings", ["created_at"], unique=False)
    op.create_index(
        "ix_bookings_organizer_id_start_time",
        "bookings",
        ["organizer_id", "start_time"],
        unique=False,
    )
    op.create_index(op.f("ix_bookings_request_id"), "bookings", ["request_id"], unique=False)
    op.create_index(
        "ix_bookings_room_id_start_time", "bookings", ["room_id", "start_time"], unique=False
    )
    op.create_index(op.f("ix_bookings_series_id"), "bookings", ["series_id"], unique=False)
    op.create_table(
        "meetings",
        sa.Column("booking_id", sa.UUID(), nullable=False),
        sa.Column("join_code", sa.String(length=16), nullable=False),
        sa.Column("external_meeting_url", sa.String(length=2000), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "SCHEDULED",
                "ACTIVE",
                "ENDED",
                name="meeting_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_meetings_booking_id_bookings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_meetings_booking_id")),
        sa.UniqueConstraint("join_code", name=op.f("uq_meetings_join_code")),
    )


def downgrade() -> None:
    op.drop_table("meetings")
    op.drop_index(op.f("ix_bookings_series_id"), table_name="bookings")
    op.drop_index("ix_bookings_room_id_start_time", table_name="bookings")
    op.drop_index(op.f("ix_bookings_request_id"), table_name="bookings")
    op.drop_index("ix_bookings_organizer_id_start_time", table_name="bookings")
    op.drop_index("ix_bookings_created_at", table_name="bookings")
    op.drop_table("bookings")
    op.drop_index(op.f("ix_tickets_room_id"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_created_by"), table_name="tickets")
    op.drop_table("tickets")
    op.drop_index(op.f("ix_booking_series_room_id"), table_name="booking_series")
    op.drop_index(op.f("ix_booking_series_organizer_id"), table_name="booking_series")
    op.drop_table("booking_series")
    op.drop_index(op.f("ix_booking_requests_requester_id"), table_name="booking_requests")
    op.drop_index(
        "ix_booking_requests_queued",
        table_name="booking_requests",
        postgresql_where=sa.text("status = 'QUEUED'"),
    )
    op.drop_index("ix_booking_requests_parent_id", table_name="booking_requests")
    op.drop_index("ix_booking_requests_created_at", table_name="booking_requests")
    op.drop_table("booking_requests")
    op.drop_index(op.f("ix_audit_events_room_id"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_booking_id"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_at"), table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_table("users")
    op.drop_table("rooms")
