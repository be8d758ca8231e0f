"""encoding: canonical JSON (RFC 8785) and strict fixed-length hex."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from degcore.encoding import canonical_json, from_hex, to_hex
from degcore.errors import InvalidInput, NonCanonical


def test_canonical_json_sorts_keys_and_has_no_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [True, "é"]}) == '{"a":[true,"é"],"b":1}'.encode()


@pytest.mark.parametrize("bad", [{"x": 1.5}, {"x": None}, {"x": 2**53}, {"x": b"raw"}, {1: 2}])
def test_canonical_json_refuses_non_canonical_values(bad: object) -> None:
    with pytest.raises(InvalidInput):
        canonical_json(bad)  # type: ignore[arg-type]


def test_hex_round_trip_and_strictness() -> None:
    assert from_hex(to_hex(b"\x00\xab"), 2) == b"\x00\xab"
    with pytest.raises(NonCanonical):
        from_hex("00AB", 2)
    with pytest.raises(NonCanonical):
        from_hex("00ab", 3)
    with pytest.raises(NonCanonical):
        from_hex("0x0a", 2)
    with pytest.raises(InvalidInput):
        from_hex(12, 1)  # type: ignore[arg-type]


_json_values = st.recursive(
    st.one_of(
        st.text(),
        st.booleans(),
        st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(_json_values)
def test_the_fast_encoder_writes_exactly_rfc8785(value: object) -> None:
    """The fast path's bytes are RFC 8785's (keys from all of Unicode, control characters in strings)."""
    try:
        reference = bytes(rfc8785.dumps(value))
    except Exception:
        with pytest.raises(InvalidInput):
            canonical_json(value)  # type: ignore[arg-type]
        return
    assert canonical_json(value) == reference  # type: ignore[arg-type]


def test_keys_above_the_bmp_sort_by_utf16_code_units() -> None:
    value = {"\U0001f600": 1, "\uff61": 2}  # U+1F600 sorts before U+FF61 in UTF-16, after it by code point
    assert canonical_json(value) == bytes(rfc8785.dumps(value))
    assert canonical_json(value).index("\U0001f600".encode()) < canonical_json(value).index("\uff61".encode())
