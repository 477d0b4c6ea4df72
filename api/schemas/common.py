"""Shared schema pieces: replies, pagination, list envelopes, the error shape."""

from __future__ import annotations

from enum import Enum
from functools import cache
from typing import Any

from marshmallow import Schema, fields, validate

from api.errors import ERROR_CODES
from models.domain.booking_input import AwareTime, OneLine, Trimmed

__all__ = [
    "ErrorSchema",
    "OneLine",
    "PageQuery",
    "Reply",
    "Trimmed",
    "WindowQuery",
    "one_of",
    "page_of",
]


class Reply(Schema):
    """A schema the API answers with (it never reads one). The OpenAPI document lists
    every field of a reply as required, since it is always in the answer (null only
    where the field allows none), except those marked `metadata={"optional": True}`:
    the ones an answer may leave out (api/spec_rules.py SchemaConverter)."""


def one_of(values: type[Enum] | tuple[str, ...]) -> validate.OneOf:
    """A closed set of strings, shown as the field's `enum` in the OpenAPI document (for a
    reply's field that holds the plain string, where fields.Enum would want a member)."""
    choices = [member.value for member in values] if isinstance(values, type) else values
    return validate.OneOf(choices)


class PageQuery(Schema):
    limit = fields.Int(load_default=50, validate=validate.Range(1, 200))
    offset = fields.Int(load_default=0, validate=validate.Range(0, 2**31 - 1))


class WindowQuery(PageQuery):
    from_ = AwareTime(data_key="from", format="iso")
    to = AwareTime(format="iso")


@cache
def page_of(item: type[Schema]) -> type[Schema]:
    """The list envelope {items, total, limit, offset} for one item schema."""
    return Reply.from_dict(
        {
            "items": fields.List(fields.Nested(item)),
            "total": fields.Int(),
            "limit": fields.Int(),
            "offset": fields.Int(),
        },
        name=f"{item.__name__.removesuffix('Schema')}Page",
    )


class ErrorBody(Reply):
    code = fields.Str(validate=one_of(ERROR_CODES), metadata={"description": "what went wrong"})
    message = fields.Str(metadata={"description": "the same, for people"})
    details = fields.Dict(
        metadata={"description": "per code: the fields a 422 refused, the service a 503 names"}
    )


class ErrorSchema(Reply):
    error = fields.Nested(ErrorBody)


class StrictBool(fields.Boolean):
    """JSON true or false only (marshmallow's Boolean takes 0, 1, "yes", "off", …)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value
