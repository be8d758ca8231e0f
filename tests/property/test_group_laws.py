"""Group laws on every backend: associativity, inverses, exponent homomorphism, encodings."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from degcore.errors import InvalidInput
from degcore.groups import Group
from tests.conftest import ALL_GROUPS, group_by_name, group_property
from tests.strategies import scalars


def _check_laws(group: Group, data: st.DataObject) -> None:
    a, b, c = (data.draw(scalars(group)) for _ in range(3))
    x, y, z = group.exp_g(a), group.exp_g(b), group.exp_g(c)
    q = group.order
    assert (x * y) * z == x * (y * z)
    assert x * y == y * x
    assert x * group.identity() == x
    assert x * group.inv(x) == group.identity()
    assert x / y == x * group.inv(y)
    assert group.exp_g(a + b) == x * y
    assert group.exp_g(a * b % q) == x**b
    assert group.exp_vartime(x, b) == x**b
    assert group.exp_g_vartime(a) == x
    fixed = group.fixed(x)
    assert fixed.exp(b) == fixed.exp_vartime(b) == x**b
    assert group.generator() ** a == x
    assert group.product([x, y, z]) == x * y * z
    assert group.product([]) == group.identity()
    assert group.decode(bytes(x)) == x
    assert len(bytes(x)) == group.element_bytes
    assert group.decode_scalar(group.encode_scalar(a)) == a
    assert hash(group.decode(bytes(y))) == hash(y)


test_laws, test_laws_modp4096 = group_property(_check_laws)


def _check_decode_of_corrupted_bytes(group: Group, data: st.DataObject) -> None:
    """A corrupted encoding either fails to decode or decodes to a member that re-encodes identically."""
    x = group.exp_g(data.draw(scalars(group)))
    raw = bytearray(bytes(x))
    i = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    raw[i] ^= data.draw(st.integers(min_value=1, max_value=255))
    try:
        y = group.decode(bytes(raw))
    except InvalidInput:
        return
    assert bytes(y) == bytes(raw)
    assert y != x


test_corrupted_encoding, test_corrupted_encoding_modp4096 = group_property(_check_decode_of_corrupted_bytes)


@pytest.mark.parametrize("name", ALL_GROUPS)
def test_independent_generators(name: str) -> None:
    group = group_by_name(name)
    gens = group.independent_generators(4, b"election-1")
    assert len(set(gens)) == 4
    assert group.generator() not in gens
    assert group.identity() not in gens
    assert gens == group.independent_generators(4, b"election-1")
    assert gens[0] != group.independent_generators(1, b"election-2")[0]
    for h in gens:
        assert group.decode(bytes(h)) == h


@pytest.mark.parametrize("name", ALL_GROUPS)
def test_mixing_groups_is_a_type_error(name: str) -> None:
    group = group_by_name(name)
    other = group_by_name("ristretto255" if name != "ristretto255" else "secp256k1")
    with pytest.raises(TypeError):
        group.mul(group.generator(), other.generator())
