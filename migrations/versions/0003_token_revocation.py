"""Token revocation: a token version per user, a list of logged-out tokens, and a
notification on every change either makes, so each API process drops what it cached.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The channel api/auth_events.py listens on. The payload says what changed:
# 'user:<id>', or 'token:<jti>:<expiry, epoch seconds>'.
NOTIFY_FUNCTION = """
CREATE FUNCTION notify_auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
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
    op.add_column(
        "users",
        sa.Column("token_version", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_revoked_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_tokens")),
    )
    op.create_index(op.f("ix_revoked_tokens_user_id"), "revoked_tokens", ["user_id"])
    op.create_index(op.f("ix_revoked_tokens_expires_at"), "revoked_tokens", ["expires_at"])
    op.execute(NOTIFY_FUNCTION)
    # A role change, a password change (token_version), a deleted user, a logout: whoever
    # makes it (the API, the CLI, psql), every API process hears of it.
    op.execute(
        "CREATE TRIGGER users_auth_change AFTER UPDATE OF role, token_version OR DELETE "
        "ON users FOR EACH ROW EXECUTE FUNCTION notify_auth_change()"
    )
    op.execute(
        "CREATE TRIGGER revoked_tokens_auth_change AFTER INSERT ON revoked_tokens "
        "FOR EACH ROW EXECUTE FUNCTION notify_auth_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER revoked_tokens_auth_change ON revoked_tokens")
    op.execute("DROP TRIGGER users_auth_change ON users")
    op.execute("DROP FUNCTION notify_auth_change()")
    op.drop_index(op.f("ix_revoked_tokens_expires_at"), table_name="revoked_tokens")
    op.drop_index(op.f("ix_revoked_tokens_user_id"), table_name="revoked_tokens")
    op.drop_table("revoked_tokens")
    op.drop_column("users", "token_version")
