"""People who book rooms."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.domain.states import Role
from models.tables.base import Base, UUIDPk, enum_column, utcnow


class User(UUIDPk, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"), default=Role.USER)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )
    # Tokens carry the version they were issued under; a password change bumps it, and
    # every token issued before stops working.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The calendar feed token's SHA-256 (hex); a new token replaces it. None: no feed.
    feed_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # False: no mail to this user (PATCH /v1/users/me), as organizer, attendee or approver.
    notify_email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class RevokedToken(Base):
    """A token logged out before its expiry; kept until then, deleted after."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Delegate(Base):
    """`user_id` lets `delegate_id` book on their behalf (POST /v1/users/me/delegates)."""

    __tablename__ = "delegates"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    delegate_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )

    delegate: Mapped[User] = relationship(foreign_keys=[delegate_id], lazy="selectin")


class ApiToken(UUIDPk, Base):
    """A service's token (`bk_…`, POST /v1/users/me/api-tokens): only its SHA-256 is kept.

    Deleting the row revokes it; a trigger (migration 0008) tells every API process."""

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Written at most once a minute per token and API process (api/principals.py).
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
