"""Booking on someone's behalf: whom a user lets book for them, and who may book for whom."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Select, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.identity import Viewer
from models.errors import Forbidden, NotFound, ValidationFailed
from models.tables.users import Delegate, User


def check_on_behalf(
    session: Session, caller: Viewer, organizers: Iterable[uuid.UUID | None]
) -> None:
    """An admin may book for any user; a user for those who named them a delegate (and
    for themselves); anyone else is refused (Forbidden). A user that does not exist is
    a 422 to an admin, and as refused as any other to a user (nothing is learnt)."""
    wanted = {o for o in organizers if o is not None and o != caller.id}
    if not wanted:
        return
    if caller.is_admin:
        known = set(session.scalars(select(User.id).where(User.id.in_(wanted))))
        if wanted - known:
            raise ValidationFailed(
                "no such user", details={"organizer_id": ["no user has this id"]}
            )
        return
    allowed = set(
        session.scalars(
            select(Delegate.user_id).where(
                Delegate.delegate_id == caller.id, Delegate.user_id.in_(wanted)
            )
        )
    )
    if wanted - allowed:
        raise Forbidden(
            "you may book only for yourself and for users who named you their delegate",
            details={"organizer_id": sorted(str(o) for o in wanted - allowed)},
        )


def add_delegate(session: Session, user_id: uuid.UUID, delegate_id: uuid.UUID) -> Delegate:
    """`delegate_id` may book for `user_id` from now on (again: no change)."""
    if delegate_id == user_id:
        raise ValidationFailed(
            "you book for yourself already", details={"user_id": ["must be someone else"]}
        )
    if session.get(User, delegate_id) is None:
        raise NotFound("no such user", details={"user_id": str(delegate_id)})
    session.execute(
        insert(Delegate)
        .values(user_id=user_id, delegate_id=delegate_id)
        .on_conflict_do_nothing(index_elements=["user_id", "delegate_id"])
    )
    found = session.get(Delegate, (user_id, delegate_id), populate_existing=True)
    assert found is not None
    return found


def remove_delegate(session: Session, user_id: uuid.UUID, delegate_id: uuid.UUID) -> None:
    gone = session.execute(
        delete(Delegate)
        .where(Delegate.user_id == user_id, Delegate.delegate_id == delegate_id)
        .returning(Delegate.delegate_id)
    ).first()
    if gone is None:
        raise NotFound("no such delegate")


def delegate_search(user_id: uuid.UUID) -> Select[Delegate]:
    """Whom the user lets book for them (each with who they are), oldest first."""
    return (
        select(Delegate)
        .where(Delegate.user_id == user_id)
        .order_by(Delegate.created_at, Delegate.delegate_id)
    )
