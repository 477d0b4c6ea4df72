"""Door displays: the one live display token of a room, stored as its SHA-256."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base, utcnow


class RoomDisplay(Base):
    """The room's display token (POST /v1/rooms/{id}/display-token): a new one replaces
    the row's hash, so the one before stops opening the page."""

    __tablename__ = "room_displays"

    room_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )
