"""Registering users, checking and changing passwords, logging out, making admins.

`cost` is the password-hash cost (Settings.password_cost); it defaults to the production
one, so a caller that does not pass it gets production-strength hashes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.domain.passwords import DEFAULT_COST, hash_password, verify_password
from models.domain.states import Role
from models.domain.tokens import TokenClaims
from models.errors import Conflict, Unauthorized, ValidationFailed
from models.tables.users import RevokedToken, User


@cache
def _dummy_hash(cost: int) -> str:
    """Verifying against this when the email is unknown keeps both paths equally slow, so
    response time does not reveal which emails are registered. Made on first use, once
    per cost, so importing this module hashes nothing."""
    return hash_password("not-a-real-password", cost=cost)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def register(
    session: Session, *, email: str, name: str, password: str, cost: int = DEFAULT_COST
) -> User:
    user = User(
        email=normalize_email(email),
        name=name.strip(),
        password_hash=hash_password(password, cost=cost),
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("that email is already registered", code="EMAIL_TAKEN") from exc
    return user


def authenticate(session: Session, *, email: str, password: str, cost: int = DEFAULT_COST) -> User:
    """`cost` is what new hashes are made with: an unknown email costs a verify at it."""
    user = session.scalars(select(User).where(User.email == normalize_email(email))).first()
    if user is None:
        verify_password(password, _dummy_hash(cost))
        raise Unauthorized("wrong email or password")
    if not verify_password(password, user.password_hash):
        raise Unauthorized("wrong email or password")
    return user


def change_password(
    session: Session,
    user_id: uuid.UUID,
    *,
    current_password: str,
    new_password: str,
    cost: int = DEFAULT_COST,
) -> User:
    """Set a new password and bump the token version: every token issued before stops
    working, the caller's own included (the client logs in again)."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise Unauthorized("the token's user no longer exists")
    if not verify_password(current_password, user.password_hash):
        raise ValidationFailed(
            "the current password is wrong",
            details={"current_password": ["is not the current password"]},
        )
    user.password_hash = hash_password(new_password, cost=cost)
    user.token_version += 1
    user.feed_token_hash = None  # a leaked feed URL stops too: ask for a new token
    session.flush()
    return user


def update_profile(session: Session, user_id: uuid.UUID, *, notify_email: bool | None) -> User:
    """The caller's own settings: `notify_email` False stops every mail to them."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise Unauthorized("the token's user no longer exists")
    if notify_email is not None:
        user.notify_email = notify_email
    session.flush()
    return user


def logout(session: Session, claims: TokenClaims) -> None:
    """Revoke one token until its own expiry; forget the revocations that have expired."""
    now = datetime.now(UTC)
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    session.execute(
        insert(RevokedToken)
        .values(
            jti=claims.token_id,
            user_id=claims.user_id,
            expires_at=datetime.fromtimestamp(claims.expires, UTC),
        )
        .on_conflict_do_nothing()
    )


def create_admin(
    session: Session,
    *,
    email: str,
    password: str,
    name: str = "Admin",
    cost: int = DEFAULT_COST,
) -> User:
    """Make a new admin, or promote (and reset the password of) an existing user."""
    user = session.scalars(select(User).where(User.email == normalize_email(email))).first()
    if user is None:
        user = User(
            email=normalize_email(email),
            name=name,
            role=Role.ADMIN,
            password_hash=hash_password(password, cost=cost),
        )
        session.add(user)
    else:
        user.role = Role.ADMIN
        user.password_hash = hash_password(password, cost=cost)
        user.token_version += 1  # a new password: the old one's tokens stop working
    session.flush()
    return user
