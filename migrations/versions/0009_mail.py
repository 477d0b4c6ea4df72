"""Notifications by email (issue 22): users.notify_email, the mail outbox and reminders.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

KINDS = ("invitation", "cancellation", "approval", "promoted", "reminder")
STATUSES = ("PENDING", "SENT", "FAILED", "SKIPPED")


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("notify_email", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    op.add_column(
        "booking_requests",
        sa.Column("waitlisted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "mail",
        sa.Column(
            "kind",
            sa.Enum(*KINDS, name="mail_kind", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("subject_id", sa.UUID(), nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=True),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                *STATUSES, name="mail_status", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail")),
    )
    op.create_index(
        "ix_mail_due",
        "mail",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.create_index("ix_mail_subject_id_recipient", "mail", ["subject_id", "recipient"])
    op.create_index("ix_mail_created_at", "mail", ["created_at"])
    op.create_index(
        "uq_mail_fresh",
        "mail",
        ["kind", "subject_id", "recipient"],
        unique=True,
        postgresql_where=sa.text("status = 'PENDING' AND attempts = 0"),
    )
    op.create_index(
        "uq_mail_reminder",
        "mail",
        ["subject_id", "recipient", "due_for"],
        unique=True,
        postgresql_where=sa.text("kind = 'reminder'"),
    )


def downgrade() -> None:
    op.drop_table("mail")  # its indexes go with it
    op.drop_column("booking_requests", "waitlisted_at")
    op.drop_column("users", "notify_email")
