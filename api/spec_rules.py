"""What the text fields accept, said in the OpenAPI document as JSON Schema patterns.

The rules themselves live in the marshmallow fields (models/domain/booking_input.py) and
api/request_checks.py; this only writes them down, so a client (or schemathesis) that
follows the spec sends nothing the API refuses:
- no string holds a NUL (Postgres cannot store one);
- a one-line field has no control characters nor line or paragraph separators;
- a required trimmed field has at least one visible character.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from models.domain.booking_input import INVISIBLE, OneLine, Trimmed

_CONTROL = "\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029"
_INVISIBLE = "".join(f"\\u{ord(ch):04x}" for ch in INVISIBLE)
NO_NUL = "^[^\\u0000]*$"
ONE_LINE = f"^[^{_CONTROL}]*$"
VISIBLE_ONE_LINE = f"^[^{_CONTROL}]*[^\\s{_CONTROL}{_INVISIBLE}][^{_CONTROL}]*$"
VISIBLE = f"^[^\\u0000]*[^\\s\\u0000{_INVISIBLE}][^\\u0000]*$"


def _needs_visible(field: fields.Field) -> bool:
    return any(
        isinstance(rule, validate.Length) and (rule.min or 0) >= 1 for rule in field.validators
    )


def text_patterns(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, str]:
    """An apispec attribute function (bound to its OpenAPIConverter)."""
    ret: dict[str, Any] = kwargs["ret"]
    if ret.get("type") != "string" or {"format", "enum", "pattern"} & set(ret):
        return {}
    if isinstance(field, OneLine):
        return {"pattern": VISIBLE_ONE_LINE if _needs_visible(field) else ONE_LINE}
    if isinstance(field, Trimmed) and _needs_visible(field):
        return {"pattern": VISIBLE}
    return {"pattern": NO_NUL}
