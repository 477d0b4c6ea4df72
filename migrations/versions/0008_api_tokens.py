"""API tokens (issue 21): a service's long-lived bearer token, stored as its SHA-256, and a
notification when one is deleted, so every API process stops accepting it at once.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# notify_auth_change (0003), with a payload for a deleted API token: 'apitoken:<id>'.
NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION notify_auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'revoked_tokens' THEN
        PERFORM pg_notify('auth_changes', 'token:' || NEW.jti::text || ':'
            || extract(epoch FROM NEW.expires_at)::text);
    ELSIF TG_TABLE_NAME = 'api_tokens' THEN
        PERFORM pg_notify('auth_changes', 'apitoken:' || OLD.id::text);
    ELSE
        PERFORM pg_notify('auth_changes', 'user:' || OLD.id::text);
    END IF;
    RETURN NULL;
END
$$
"""

OLD_NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION notify_auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'revoked_tokens' THEN
        PERFORM pg_notify('auth_changes', 'token:' || NEW.jti::text || ':'
            || extract(epoch FROM NEW.expires_at)::text);
    ELSE
        PERFORM pg_notify('auth_changes', 'user:' || OLD.id::text);
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])
    op.execute(NOTIFY_FUNCTION)
    # A deleted token, however deleted (the API, its user's deletion, psql).
    op.execute(
        "CREATE TRIGGER api_tokens_auth_change AFTER DELETE ON api_tokens "
        "FOR EACH ROW EXECUTE FUNCTION notify_auth_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER api_tokens_auth_change ON api_tokens")
    op.execute(OLD_NOTIFY_FUNCTION)
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
