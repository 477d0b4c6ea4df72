"""Users, registration and tokens."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import OneLine
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


class TokenSchema(Schema):
    access_token = fields.Str()
    token_type = fields.Str()
    expires_in = fields.Int()


class UserSchema(Schema):
    id = fields.UUID()
    email = fields.Str()
    name = fields.Str()
    role = fields.Enum(Role, by_value=True)
    created_at = AwareTime(format="iso")


class DelegateInSchema(Schema):
    user_id = fields.UUID(required=True, metadata={"description": "who may book for you"})


class DelegateSchema(Schema):
    """Someone the caller lets book on their behalf."""

    user_id = fields.UUID()
    name = fields.Str()
    email = fields.Str()
    created_at = AwareTime(format="iso")
