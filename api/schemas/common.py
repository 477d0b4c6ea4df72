"""Shared schema pieces: pagination, list envelopes, the error shape."""

from __future__ import annotations

from functools import cache
from typing import Any

from marshmallow import Schema, fields, validate


class PageQuery(Schema):
    limit = fields.Int(load_default=50, validate=validate.Range(1, 200))
    offset = fields.Int(load_default=0, validate=validate.Range(0, 2**31 - 1))


class WindowQuery(PageQuery):
    from_ = fields.AwareDateTime(data_key="from", format="iso")
    to = fields.AwareDateTime(format="iso")


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


class Trimmed(fields.Str):
    """A string without its surrounding whitespace, so a blank value fails Length(1, …)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return str(super()._deserialize(value, attr, data, **kwargs)).strip()
