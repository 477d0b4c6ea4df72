"""Partial index of meetings not yet ENDED, for the housekeeping jobs.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_meetings_open",
        "meetings",
        ["booking_id"],
        postgresql_where=sa.text("state <> 'ENDED'"),
    )


def downgrade() -> None:
    op.drop_index("ix_meetings_open", table_name="meetings")
