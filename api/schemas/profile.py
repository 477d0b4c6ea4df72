"""The caller's own settings (PATCH /v1/users/me)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, validates_schema

from api.schemas.common import StrictBool


class ProfilePatchSchema(Schema):
    notify_email = StrictBool(
        metadata={
            "description": "false stops every mail to you (invitations, changes, "
            "cancellations, approvals, reminders); true turns it on again",
            "example": False,
        },
    )

    @validates_schema
    def something_to_change(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("name at least one setting to change", "_schema")
