"""Who is asking: the caller as the rules see it (an id and a role), not the whole user row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from models.domain.states import Role


class Viewer(Protocol):
    """Anything with an id and an admin flag: a User row or a Principal."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def is_admin(self) -> bool: ...


@dataclass(frozen=True)
class Principal:
    """The caller of an authenticated request."""

    id: uuid.UUID
    role: Role
    token_version: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN
