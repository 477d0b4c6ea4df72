"""Registering users, checking passwords, making admins."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.domain.passwords import hash_password, verify_password
from models.errors import Conflict, Unauthorized
from models.tables.users import Role, User

# Verifying against this when the email is unknown keeps both paths equally slow,
# so response time does not reveal which emails are registered.
_DUMMY_HASH = hash_password("not-a-real-password")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def register(session: Session, *, email: str, name: str, password: str) -> User:
    user = User(
        email=normalize_email(email), name=name.strip(), password_hash=hash_password(password)
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("that email is already registered", code="EMAIL_TAKEN") from exc
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    user = session.scalars(select(User).where(User.email == normalize_email(email))).first()
    if user is None:
        verify_password(password, _DUMMY_HASH)
        raise Unauthorized("wrong email or password")
    if not verify_password(password, user.password_hash):
        raise Unauthorized("wrong email or password")
    return user


def create_admin(session: Session, *, email: str, password: str, name: str = "Admin") -> User:
    """Make a new admin, or promote (and reset the password of) an existing user."""
    user = session.scalars(select(User).where(User.email == normalize_email(email))).first()
    if user is None:
        user = User(
            email=normalize_email(email),
            name=name,
            role=Role.ADMIN,
            password_hash=hash_password(password),
        )
        session.add(user)
    else:
        user.role = Role.ADMIN
        user.password_hash = hash_password(password)
    session.flush()
    return user
