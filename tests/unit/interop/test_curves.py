"""Verificatum's named curves: the constants, the generic group, and vmn's generators on P-256."""

from __future__ import annotations

import gmpy2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from degcore.errors import InvalidInput, UnsupportedFormat
from degcore.groups.curves import CURVES
from degcore.groups.p256 import P256
from degcore.groups.weierstrass import WeierstrassGroup, sqrt_mod
from degcore.interop.verificatum.bytetree import Leaf, node
from degcore.interop.verificatum.export import ec_pgroup
from degcore.interop.verificatum.groups import parse_pgroup
from tests.conftest import load_vector

_DISTINCT = sorted({c.name: c for c in CURVES.values()}.values(), key=lambda c: c.name)
_OPENSSL = {
    "P-192": ec.SECP192R1(),
    "P-224": ec.SECP224R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
    "secp256k1": ec.SECP256K1(),
    "brainpoolp256r1": ec.BrainpoolP256R1(),
    "brainpoolp384r1": ec.BrainpoolP384R1(),
    "brainpoolp512r1": ec.BrainpoolP512R1(),
}


@pytest.mark.parametrize("curve", _DISTINCT, ids=lambda c: c.name)
def test_every_curve_is_a_prime_order_group_with_its_base_point(curve: object) -> None:
    group = parse_pgroup(ec_pgroup(curve.name)).group  # type: ignore[attr-defined]
    c = curve
    assert gmpy2.is_prime(c.p) and gmpy2.is_prime(c.n)  # type: ignore[attr-defined]
    assert abs(c.p + 1 - c.n) <= 2 * gmpy2.isqrt(c.p) + 1  # type: ignore[attr-defined]  # Hasse, cofactor 1
    g = group.generator()
    assert group.exp(g, c.n - 1) == group.inv(g)  # type: ignore[attr-defined]  # n·G = ∞
    assert group.coordinates(g) == (c.gx, c.gy)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(_OPENSSL))
def test_the_generic_group_agrees_with_openssl(name: str) -> None:
    group = WeierstrassGroup(CURVES[name]) if name != "P-256" else None
    assert group is not None
    for k in (1, 2, 3, 2**64 + 5, group.order - 2):
        numbers = ec.derive_private_key(k, _OPENSSL[name]).public_key().public_numbers()
        assert group.coordinates(group.exp_g(k)) == (numbers.x, numbers.y)
    bases = [group.exp_g(k) for k in (5, 7, 11)]
    assert group.multi_exp(bases, [3, 4, 5]) == group.exp_g(5 * 3 + 7 * 4 + 11 * 5)


def test_p256_under_every_name_is_degcores_own_backend() -> None:
    for name in ("P-256", "secp256r1", "prime256v1"):
        assert parse_pgroup(ec_pgroup(name)).group is P256
    assert parse_pgroup(ec_pgroup("P-384")).group is parse_pgroup(ec_pgroup("secp384r1")).group


def test_an_unknown_curve_is_unsupported() -> None:
    with pytest.raises(UnsupportedFormat, match="P-999"):
        parse_pgroup(ec_pgroup("P-999"))


@settings(max_examples=80)
@given(st.integers(min_value=0))
def test_square_roots_mod_p224_tonelli_shanks(v: int) -> None:
    p = CURVES["P-224"].p  # p ≡ 1 (mod 4): the general branch
    root = sqrt_mod(v, p)
    if root is None:
        assert gmpy2.legendre(v % p, p) == -1
    else:
        assert root * root % p == v % p


@settings(max_examples=40)
@given(st.integers(min_value=1))
def test_encodings_round_trip_and_reject_points_off_the_curve(k: int) -> None:
    vg = parse_pgroup(ec_pgroup("P-224"))
    group = vg.group
    e = group.exp_g(k)
    assert group.decode(group.encode(e)) == e
    assert vg.element(vg.element_tree(e), "e") == e
    x, y = group.coordinates(e)  # type: ignore[attr-defined,misc]
    length = vg.element_length
    with pytest.raises(InvalidInput):
        vg.element(
            node(Leaf(x.to_bytes(length, "big")), Leaf(((y + 1) % vg.field_p).to_bytes(length, "big"))), "off"
        )


def test_the_point_at_infinity_and_negative_coordinates() -> None:
    vg = parse_pgroup(ec_pgroup("P-521"))
    ff = Leaf(b"\xff" * vg.element_length)
    assert vg.element(node(ff, ff), "∞") == vg.group.identity()
    assert vg.element_tree(vg.group.identity()) == node(ff, ff)
    with pytest.raises(InvalidInput):  # x = −1 alone is not the point at infinity
        vg.element(node(ff, Leaf(bytes(vg.element_length))), "half")


def test_real_vmn_generators_on_p256_are_reproduced() -> None:
    vector = load_vector("shuffle/verificatum_p256_generators_vmn310.json")
    vg = parse_pgroup(vector["pgroup"])
    h = vg.generators(bytes.fromhex(vector["der.rho"]), 10, vector["statdist"], vector["rohash"])
    printed = vector["bas.h"].replace(" ", "")
    expected = [tuple(int(v, 16) for v in pair.split(",")) for pair in printed.strip("(),").split("),(")]
    assert [vg.group.coordinates(e) for e in h] == expected  # type: ignore[attr-defined]
    # vmn takes the smaller of the two square roots (randomElementArray), not the one sqrt returns.
    assert all(y <= vg.field_p - y for _, y in expected)
    # Printed as vmnv prints them ("(x, y)"; vmn 3.1.0 ends the array with a comma, 3.0.4 does not).
    assert vg.show_all(h) == vector["bas.h"].removesuffix(",)") + ")"
