"""Shared schema pieces: pagination, list envelopes, the error shape."""

from __future__ import annotations

from functools import cache

from marshmallow import Schema, fields, validate

from models.domain.booking_input import AwareTime, OneLine, Trimmed

__all__ = ["ErrorSchema", "OneLine", "PageQuery", "Trimmed", "WindowQuery", "page_of"]


class PageQuery(Schema):
    limit = fields.Int(load_default=50, validate=validate.Range(1, 200))
    offset = fields.Int(load_default=0, validate=validate.Range(0, 2**31 - 1))


class WindowQuery(PageQuery):
    from_ = AwareTime(data_key="from", format="iso")
    to = AwareTime(format="iso")


@cache
def page_of(item: type[Schema]) -> type[Schema]:
    """The list envelope {items, total, limit, offset} for one item schema."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item)),
            "total": fields.Int(),
            "limit": fields.Int(),
            "offset": fields.Int(),
        },
        name=f"{item.__name__.removesuffix('Schema')}Page",
    )


class ErrorBody(Schema):
    code = fields.Str(required=True)
    message = fields.Str(required=True)
    details = fields.Dict()


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBody, required=True)
