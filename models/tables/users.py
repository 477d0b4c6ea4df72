"""People who book rooms."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base, UUIDPk, enum_column, utcnow


class Role(enum.StrEnum):
    ADMIN = "ADMIN"
    USER = "USER"


class User(UUIDPk, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"), default=Role.USER)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN
