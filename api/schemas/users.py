"""Users, registration and tokens."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import OneLine, Reply
from models.domain.booking_input import AwareTime
from models.domain.states import Role


class RegisterSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=320))
    name = OneLine(required=True, validate=validate.Length(1, 200))
    password = fields.Str(required=True, load_only=True, validate=validate.Length(8, 1024))


class TokenRequestSchema(Schema):
    email = fields.Str(required=True, validate=validate.Length(1, 320))
    password = fields.Str(required=True, load_only=True, validate=validate.Length(1, 1024))


class PasswordChangeSchema(Schema):
    current_password = fields.Str(required=True, load_only=True, validate=validate.Length(1, 1024))
    new_password = fields.Str(required=True, load_only=True, validate=validate.Length(8, 1024))


class TokenSchema(Reply):
    access_token = fields.Str(
        metadata={"description": "send it as `Authorization: Bearer <access_token>`"}
    )
    token_type = fields.Str(validate=validate.OneOf(["Bearer"]))
    expires_in = fields.Int(metadata={"description": "seconds until it stops working"})


class UserSchema(Reply):
    id = fields.UUID()
    email = fields.Str()
    name = fields.Str()
    role = fields.Enum(Role, by_value=True)
    created_at = AwareTime(format="iso")


class DelegateInSchema(Schema):
    user_id = fields.UUID(required=True, metadata={"description": "who may book for you"})


class DelegateSchema(Reply):
    """Someone the caller lets book on their behalf."""

    user_id = fields.UUID()
    name = fields.Str()
    email = fields.Str()
    created_at = AwareTime(format="iso")


class ApiTokenInSchema(Schema):
    name = OneLine(
        required=True,
        validate=validate.Length(1, 100),
        metadata={"description": "what it is for, e.g. the service using it"},
    )
    expires_in_days = fields.Int(
        validate=validate.Range(1, 365),
        metadata={"description": "its lifetime; 90 when not given"},
    )


class ApiTokenSchema(Reply):
    """A service's bearer token (never the token itself, which is shown only once)."""

    id = fields.UUID()
    name = fields.Str()
    created_at = AwareTime(format="iso")
    expires_at = AwareTime(format="iso")
    last_used_at = AwareTime(
        format="iso",
        allow_none=True,
        metadata={"description": "to the minute; null when never used"},
    )


class ApiTokenCreatedSchema(ApiTokenSchema):
    token = fields.Str(
        metadata={
            "description": "`bk_…`: send it as `Authorization: Bearer bk_…`; shown only here"
        },
    )


class ProfileSchema(UserSchema):
    """The user, as GET /v1/users/me shows them (the contract's shape), with their own
    settings: only PATCH /v1/users/me answers with these."""

    notify_email = fields.Bool(metadata={"description": "false: no mail is sent to this user"})
