"""Append-only audit trail, written in the same transaction as the change it records."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base, UUIDPk, utcnow


class AuditEvent(UUIDPk, Base):
    __tablename__ = "audit_events"

    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow, index=True
    )
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    booking_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    room_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
