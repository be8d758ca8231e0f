"""encoding: canonical JSON (RFC 8785) and strict fixed-length hex."""

from __future__ import annotations

import pytest

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
