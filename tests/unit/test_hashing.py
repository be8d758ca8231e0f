"""hashing: RFC 9380 expand_message_xmd vectors, transcript framing and challenges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from degcore.errors import InvalidInput
from degcore.groups import get_group
from degcore.hashing import Fields, Transcript, expand_message_xmd, hash_to_scalar, sha256
from tests.conftest import load_vector


def test_expand_message_xmd_rfc9380_vectors() -> None:
    data = load_vector("ristretto255/rfc9380_expand_message_xmd_sha512.json")
    dst = data["DST"].encode()
    assert data["tests"], "vector file holds no cases"
    for case in data["tests"]:
        out = expand_message_xmd(case["msg"].encode(), dst, int(case["len_in_bytes"], 16))
        assert out.hex() == case["uniform_bytes"], case["msg"]


def test_expand_message_rejects_impossible_lengths() -> None:
    with pytest.raises(InvalidInput):
        expand_message_xmd(b"", b"dst", 256 * 64)
    with pytest.raises(InvalidInput):
        expand_message_xmd(b"", b"x" * 256, 32)


def _t() -> Transcript:
    return Transcript("degcore/4/test", "ristretto255", bytes(32))


def test_transcript_fields_are_framed() -> None:
    q = get_group("ristretto255")
    # Moving bytes between adjacent fields changes the challenge (length prefixes).
    assert _t().raw("a", b"xy").raw("b", b"z").challenge(q) != _t().raw("a", b"x").raw("b", b"yz").challenge(
        q
    )
    # The same bytes under another label or type differ.
    assert _t().raw("a", b"x").challenge(q) != _t().raw("b", b"x").challenge(q)
    assert _t().raw("a", b"x").challenge(q) != _t().scalar("a", b"x").challenge(q)
    # The header binds the tag, the group and the context.
    base = _t().challenge(q)
    assert Transcript("degcore/4/other", "ristretto255", bytes(32)).challenge(q) != base
    assert Transcript("degcore/4/test", "secp256k1", bytes(32)).challenge(q) != base
    assert Transcript("degcore/4/test", "ristretto255", b"\x01" + bytes(31)).challenge(q) != base
    # Challenges are deterministic and do not consume the transcript.
    t = _t().integer("n", 5)
    assert t.challenge(q) == t.challenge(q) == _t().integer("n", 5).challenge(q)


def test_transcript_rejects_foreign_tags_and_bad_integers() -> None:
    with pytest.raises(InvalidInput):
        Transcript("helios/proof", "ristretto255", bytes(32))
    with pytest.raises(InvalidInput):
        _t().integer("n", -1)
    with pytest.raises(InvalidInput):
        _t().integer("n", 1 << 64)


@dataclass
class _Field:
    order: int
    scalar_byteorder: Literal["big", "little"]


@given(st.binary(max_size=64), st.integers(min_value=2, max_value=2**256), st.sampled_from(["big", "little"]))
def test_hash_to_scalar_in_range(msg: bytes, order: int, byteorder: Literal["big", "little"]) -> None:
    assert 0 <= hash_to_scalar(msg, b"degcore/4/test", _Field(order, byteorder)) < order


@pytest.mark.parametrize("name", ["ristretto255", "secp256k1", "modp4096"])
def test_challenge_is_hash_to_scalar_of_the_framed_fields(name: str) -> None:
    group = get_group(name)
    t = Transcript("degcore/4/test", name, bytes(32))
    framed = b"".join(
        kind + len(label).to_bytes(4, "big") + label + len(value).to_bytes(4, "big") + value
        for kind, label, value in [
            (b"T", b"protocol", b"degcore/4/test"),
            (b"T", b"group", name.encode()),
            (b"B", b"context", bytes(32)),
        ]
    )
    assert t.challenge(group) == group.hash_to_scalar(framed, b"degcore/4/test")


def test_sha256_is_length_prefixed() -> None:
    assert sha256(b"ab", b"c") != sha256(b"a", b"bc")
    assert len(sha256(b"")) == 32


def test_a_copied_transcript_continues_independently_from_the_shared_prefix() -> None:
    group = get_group("ristretto255")
    prefix = Transcript("degcore/4/test", group.name, bytes(32)).text("x", "shared")
    fork = prefix.copy().text("y", "one")
    fresh = Transcript("degcore/4/test", group.name, bytes(32)).text("x", "shared").text("y", "one")
    assert fork.challenge(group) == fresh.challenge(group)
    assert prefix.challenge(group) != fork.challenge(group)  # the prefix was not changed by the fork
    assert prefix.copy().text("y", "two").challenge(group) != fork.challenge(group)


@given(st.binary(max_size=40), st.integers(0, 2**64 - 1), st.integers(0, 5))
def test_prepared_fields_hash_as_the_calls_they_stand_for(context: bytes, k: int, count: int) -> None:
    """Fields framed beforehand, a list's framing reused: the same challenge as field by field."""
    group = get_group("ristretto255")
    a, b = group.exp_g(3), group.exp_g(5)
    values = [group.exp_g(7 + i) for i in range(count)]
    direct = Transcript("degcore/4/test", group.name, context).element("h", a).integer("k", k)
    direct.integer("xs.len", count)
    for i, v in enumerate(values):
        direct.element(f"xs[{i}]", v)
    prepared = Transcript("degcore/4/test", group.name, context).fields(
        Fields().element("h", a).integer("k", k)
    )
    prepared.elements("xs", values)
    assert prepared.challenge(group) == direct.challenge(group)
    assert prepared.element("b", b).challenge(group) == direct.element("b", b).challenge(group)
    both = Transcript("degcore/4/test", group.name, context).named_elements(("a", a), ("b", b))
    one_by_one = Transcript("degcore/4/test", group.name, context).element("a", a).element("b", b)
    assert both.challenge(group) == one_by_one.challenge(group)
    with pytest.raises(InvalidInput):
        Fields().integer("k", 2**64)
