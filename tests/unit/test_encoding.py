"""encoding: canonical JSON (RFC 8785) and strict fixed-length hex."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from degcore.encoding import (
    canonical_json,
    from_hex,
    from_rfc3339,
    member_bytes,
    parse_canonical,
    plain_canonical_json,
    to_hex,
    to_rfc3339,
)
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


_any_json = st.recursive(
    st.one_of(
        st.text(),
        st.booleans(),
        st.none(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(min_value=-(2**60), max_value=2**60),
        st.sampled_from(["null", "1234567890123456789", "x:1234567890123456", "é", "\U0001f600"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


def _reference_verdict(data: bytes) -> object:
    """What parse_canonical must return for ``data``: the value, or NonCanonical (one spelling only)."""
    value = json.loads(data)
    try:
        if bytes(rfc8785.dumps(value)) != data:
            return NonCanonical
        canonical_json(value)  # refuses floats, null, integers beyond ±(2^53−1)
    except Exception:
        return NonCanonical
    return value


@settings(max_examples=400)
@given(
    _any_json,
    st.booleans(),
    st.booleans(),
    st.sampled_from([(",", ":"), (", ", ": "), (",", ": ")]),
)
def test_parsing_accepts_exactly_the_canonical_spelling(
    value: object, sort_keys: bool, ensure_ascii: bool, separators: tuple[str, str]
) -> None:
    """Every spelling json.dumps can give of any value (floats, nulls, long integers, non-ASCII keys
    and strings included): parse_canonical accepts exactly RFC 8785's bytes of a degcore value."""
    data = json.dumps(value, sort_keys=sort_keys, ensure_ascii=ensure_ascii, separators=separators).encode()
    expected = _reference_verdict(data)
    if expected is NonCanonical:
        with pytest.raises(InvalidInput):
            parse_canonical(data, "test")
    else:
        assert parse_canonical(data, "test") == expected


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1.0}',
        b'{"a":1e3}',
        b'{"a":NaN}',
        b'{"a":Infinity}',
        b'{"a":null}',
        b'{"a":9007199254740992}',
        b'{"a":-9007199254740992}',
        b"9007199254740992",
        b"[1,-9007199254740992]",
        b'{"a":"\\ud800"}',
        b'{"a":1,"a":1}',
        b'{"b":1,"a":2}',
        b'{"a":"\\u0041"}',
        b'{"a": 1}',
    ],
)
def test_parsing_refuses_each_other_spelling(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        parse_canonical(data, "test")


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":9007199254740991}',
        b'{"a":"null"}',
        b'{"k":"x:1234567890123456789"}',
        b'{"\\u00e9":1}',
        bytes(rfc8785.dumps({"\U0001f600": 1, "\uff61": 2})),  # UTF-16 key order, not code points
    ],
)
def test_parsing_takes_values_that_only_look_unusual(data: bytes) -> None:
    """The fast path's byte tests send these to the general path, which takes them."""
    if data == b'{"\\u00e9":1}':  # é must be written as itself: its escape is another spelling
        with pytest.raises(NonCanonical):
            parse_canonical(data, "test")
        assert parse_canonical('{"é":1}'.encode(), "test") == {"é": 1}
        return
    assert parse_canonical(data, "test") == json.loads(data)


_plain_values = st.recursive(
    st.one_of(st.text(), st.booleans(), st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(alphabet=st.characters(max_codepoint=0xFFFF)), children, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(_plain_values)
def test_the_unchecked_writer_agrees_where_it_is_used(value: object) -> None:
    """plain_canonical_json is canonical_json for values with keys in the BMP (ids, fixed keys) and any
    strings; and every part of a parsed canonical document comes back as its own bytes."""
    try:
        expected = canonical_json(value)  # type: ignore[arg-type]
    except InvalidInput:  # a lone surrogate: neither writes it
        return
    assert plain_canonical_json(value) == expected  # type: ignore[arg-type]
    parsed = parse_canonical(expected, "test")
    if isinstance(parsed, dict):
        for part in parsed.values():
            assert plain_canonical_json(part) in expected


@settings(max_examples=500)
@given(st.text(alphabet="0123456789abcdefABCDEF \t\nxé", max_size=10), st.integers(0, 5))
def test_hex_accepts_exactly_lowercase_digits_of_the_length(text: str, length: int) -> None:
    """from_hex against its definition: 2·length characters, each 0-9 or a-f; anything else refused."""
    valid = len(text) == 2 * length and all(c in "0123456789abcdef" for c in text)
    if valid:
        assert from_hex(text, length) == bytes.fromhex(text)
    else:
        with pytest.raises(NonCanonical):
            from_hex(text, length)


# Strings that spell out member boundaries, to be escaped wherever they appear inside a value.
_tricky_text = st.one_of(
    st.text(), st.sampled_from([',"next":', '"key":', '{"key":', '\\",\\"next\\":', "\\"])
)
_tricky_values = st.recursive(
    st.one_of(_tricky_text, st.booleans(), st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(_tricky_text, st.sampled_from(["key", "next"])), children, max_size=4),
    ),
    max_leaves=12,
)


@given(
    before=st.dictionaries(st.sampled_from(["a", "b", "c"]), st.one_of(_tricky_text, st.integers(0, 9))),
    value=_tricky_values,
    after=st.dictionaries(st.sampled_from(["nexu", "x", "y"]), _tricky_text, max_size=3),
    next_value=st.one_of(_tricky_text, st.dictionaries(_tricky_text, _tricky_text, max_size=3)),
)
@settings(max_examples=300)
def test_a_member_cut_from_canonical_bytes_is_its_canonical_json(
    before: dict[str, object], value: object, after: dict[str, str], next_value: object
) -> None:
    """member_bytes under its stated conditions: earlier members plain, no later member named next."""
    document = {**before, "key": value, "next": next_value, **after}
    if isinstance(next_value, dict) and "next" in next_value:
        return  # outside what member_bytes promises
    data = canonical_json(document)  # type: ignore[arg-type]
    assert member_bytes(data, "key", "next") == canonical_json(value)  # type: ignore[arg-type]


def test_member_bytes_says_which_member_is_missing() -> None:
    with pytest.raises(InvalidInput, match="'key'"):
        member_bytes(b'{"a":1}', "key", "next")
    with pytest.raises(InvalidInput, match="'next'"):
        member_bytes(b'{"key":1,"z":2}', "key", "next")


@given(st.datetimes(timezones=st.just(UTC)))
def test_a_time_reads_back_from_its_one_spelling(moment: datetime) -> None:
    text = to_rfc3339(moment)
    assert from_rfc3339(text) == moment
    assert from_rfc3339(text) == moment  # the second read comes from the cache, and is the same


@given(st.text(alphabet="0123456789-:TZ.+ ", max_size=32))
def test_any_text_is_read_as_a_time_only_in_its_canonical_spelling(text: str) -> None:
    try:
        moment = from_rfc3339(text, "at")
    except (InvalidInput, NonCanonical) as exc:
        assert str(exc).startswith("at: ")
    else:
        assert to_rfc3339(moment) == text


@pytest.mark.parametrize(
    "text",
    [
        "2026-09-18T05:00:00+00:00",
        "2026-09-18T05:00:00",
        "2026-09-18T05:00:00.000000Z",
        "2026-09-18 05:00:00Z",
        "2026-02-30T05:00:00Z",
        "2026-09-18T05:00:00.5Z",
    ],
)
def test_other_spellings_of_a_time_are_refused_every_time(text: str) -> None:
    for _ in range(2):  # a refusal is not cached as an instant
        with pytest.raises(InvalidInput, match=r"^when: "):
            from_rfc3339(text, "when")


def test_a_time_must_be_text() -> None:
    with pytest.raises(NonCanonical, match=r"^at: "):
        from_rfc3339(1_790_000_000, "at")
