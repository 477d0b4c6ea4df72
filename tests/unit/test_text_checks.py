"""The text checks' shortcut (api/request_checks._plainly_fine) never lets through a body
the full walk would refuse: NUL, unpaired surrogates (escaped or UTF-8-encoded) and
nesting past the limit."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from api.request_checks import MAX_JSON_DEPTH, _plainly_fine, _text_problem

TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=8)
BODIES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=40,
)


def parsed(raw: bytes) -> Any:
    return json.loads(raw)  # as Flask's get_json: bytes, surrogates passed through


@given(BODIES, st.booleans())
def test_the_shortcut_only_passes_bodies_the_walk_passes(body: Any, ascii_only: bool) -> None:
    try:
        raw = json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    except (UnicodeEncodeError, RecursionError):
        return
    if _plainly_fine(raw):
        assert _text_problem(parsed(raw)) is None


def test_what_it_sends_to_the_walk() -> None:
    assert _plainly_fine(b'{"title": "Standup", "attendees": ["a@example.com"]}')
    assert not _plainly_fine(b'{"title": "a\\u0000b"}')  # an escaped NUL
    assert not _plainly_fine(b'{"title": "\\ud800"}')  # an escaped lone surrogate
    encoded_surrogate = '{"title": "\ud800"}'.encode("utf-8", "surrogatepass")
    assert _text_problem(parsed(encoded_surrogate)) == "text"
    assert not _plainly_fine(encoded_surrogate)
    nested = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
    assert _text_problem(parsed(nested)) == "depth"
    assert not _plainly_fine(nested)
    assert not _plainly_fine('{"title": "Café"}'.encode())  # not ASCII: walked
