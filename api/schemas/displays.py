"""Door displays and the check-in page: the display token's answer, the sign-in form."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import Reply


class DisplayTokenSchema(Reply):
    token = fields.Str(metadata={"description": "shown only here; only its SHA-256 is stored"})
    display_url = fields.Str(
        metadata={"description": "the page for the screen beside the door (opens with the token)"}
    )


class CheckInForm(Schema):
    """The organizer's sign-in on the check-in page (a form, as a browser sends it)."""

    email = fields.Str(required=True, validate=validate.Length(1, 320))
    password = fields.Str(required=True, validate=validate.Length(1, 1024))
