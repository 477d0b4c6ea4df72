"""Fair webhook delivery (issue 18): one send at a time per webhook, a few per owner,
and a circuit breaker per webhook.

- webhooks: sending_until (the lease of the one attempt in flight, NULL when none),
  failures (consecutive failed attempts), open_until (the breaker: no attempt before).
- webhook_deliveries: held (waiting for its webhook or its owner to have a free send;
  a send that ends takes its owner's oldest held or due one), and an index of each
  webhook's PENDING deliveries by next attempt, which that choice and the sweep read.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("webhooks", sa.Column("sending_until", sa.DateTime(timezone=True)))
    op.add_column(
        "webhooks", sa.Column("failures", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("webhooks", sa.Column("open_until", sa.DateTime(timezone=True)))
    op.add_column(
        "webhook_deliveries",
        sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )
    op.create_index(
        "ix_webhook_deliveries_pending",
        "webhook_deliveries",
        ["webhook_id", "next_attempt_at"],
        postgresql_where=sa.text("status = 'PENDING'"),
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_pending", table_name="webhook_deliveries")
    op.drop_column("webhook_deliveries", "held")
    op.drop_column("webhooks", "open_until")
    op.drop_column("webhooks", "failures")
    op.drop_column("webhooks", "sending_until")
