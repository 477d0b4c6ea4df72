"""Buildings and floors on rooms (issue 23), and what find-time reads.

Both are optional text, matched ignoring case by GET /v1/rooms, availability and
find-time (an expression index on lower(building), lower(floor)). Find-time reads a
room's bookings and closures through the (room_id, start_time) indexes 0001 made.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rooms", sa.Column("building", sa.String(length=100), nullable=True))
    op.add_column("rooms", sa.Column("floor", sa.String(length=100), nullable=True))
    op.create_index(
        "ix_rooms_building_floor",
        "rooms",
        [sa.text("lower(building)"), sa.text("lower(floor)")],
    )


def downgrade() -> None:
    op.drop_index("ix_rooms_building_floor", table_name="rooms")
    op.drop_column("rooms", "floor")
    op.drop_column("rooms", "building")
