"""API tokens: long-lived bearer tokens for services and scripts (`bk_…`).

A token is shown once, when made; only its SHA-256 is stored. It belongs to a user and
acts as that user with the user's current role, so a role change applies to it at once.
It is not tied to the password (it keeps working across password changes: revoke it by
deleting it) and it always expires (`expires_in_days`, 90 when not given, at most 365).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import Session

from models.domain.feed_tokens import feed_token_digest, new_api_token
from models.domain.states import utcnow
from models.errors import NotFound, ValidationFailed
from models.tables.users import ApiToken

DEFAULT_DAYS = 90
MAX_PER_USER = 50  # live (unexpired) tokens; the next is a 422
TOUCH_SECONDS = 60  # last_used_at is written at most this often per token


@dataclass(frozen=True)
class KnownToken:
    """What authentication needs of a token row."""

    id: uuid.UUID
    user_id: uuid.UUID
    expires_at: datetime


def create(
    session: Session, user_id: uuid.UUID, *, name: str, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token row and the token itself (which is not stored, and not shown again)."""
    now = utcnow()
    live = session.scalar(
        select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.expires_at > now)
    )
    if (live or 0) >= MAX_PER_USER:
        raise ValidationFailed(
            f"a user may have at most {MAX_PER_USER} live API tokens; delete one first",
            details={"name": [f"at most {MAX_PER_USER} live tokens"]},
        )
    token = new_api_token()
    row = ApiToken(
        user_id=user_id,
        name=name.strip(),
        token_hash=feed_token_digest(token),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days or DEFAULT_DAYS),
    )
    session.add(row)
    session.flush()
    return row, token


def tokens_of(user_id: uuid.UUID) -> Select[Any]:
    """A user's tokens, newest first (the expired ones too, until deleted)."""
    return (
        select(ApiToken)
        .where(ApiToken.user_id == user_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id)
    )


def revoke(session: Session, user_id: uuid.UUID, token_id: uuid.UUID) -> None:
    """Delete one of the user's tokens; another user's (or none) is a 404."""
    gone = session.execute(
        delete(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.user_id == user_id)
        .returning(ApiToken.id)
    ).first()
    if gone is None:
        raise NotFound("no such API token", details={"api_token_id": str(token_id)})


def find(session: Session, token: str) -> KnownToken | None:
    """The token's row by its hash (expired or not), or None: unknown or revoked."""
    row = session.execute(
        select(ApiToken.id, ApiToken.user_id, ApiToken.expires_at).where(
            ApiToken.token_hash == feed_token_digest(token)
        )
    ).first()
    return KnownToken(row.id, row.user_id, row.expires_at) if row else None


def touch(session: Session, token_id: uuid.UUID) -> None:
    """Say the token was used now, unless that was said less than TOUCH_SECONDS ago (by
    any process): one small write a minute per token, whatever the request rate."""
    now = utcnow()
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at < now - timedelta(seconds=TOUCH_SECONDS),
            ),
        )
        .values(last_used_at=now)
    )
