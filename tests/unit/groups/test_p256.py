"""P-256 cross-checked against the independent `ecdsa` implementation; decoding checks the curve."""

from __future__ import annotations

import pickle

import pytest
from ecdsa import NIST256p as REF
from ecdsa.ellipticcurve import INFINITY, PointJacobi
from hypothesis import given, settings
from hypothesis import strategies as st

from degcore.elgamal import decrypt_to_element, encrypt, keygen
from degcore.errors import InvalidInput
from degcore.groups import Element, get_group

G = get_group("p256")
N = REF.order
P = REF.curve.p()
scalars = st.integers(min_value=0, max_value=N - 1)


def _ref_encode(point: PointJacobi) -> bytes:
    if point == INFINITY:
        return bytes(33)
    return bytes([2 + (point.y() & 1)]) + point.x().to_bytes(32, "big")


def _ours(k: int) -> Element:
    return G.exp_g(k)


@settings(max_examples=40)
@given(scalars, scalars)
def test_against_ecdsa_reference(a: int, b: int) -> None:
    gen = REF.generator
    assert bytes(_ours(a)) == _ref_encode(gen * a)
    assert bytes(_ours(a) * _ours(b)) == _ref_encode(gen * a + gen * b)
    assert bytes(_ours(a) ** b) == _ref_encode(gen * (a * b % N))
    assert bytes(G.exp_vartime(_ours(a), b)) == _ref_encode(gen * (a * b % N))
    assert bytes(G.inv(_ours(a))) == _ref_encode(gen * ((-a) % N))
    assert G.decode(bytes(_ours(a))) == _ours(a)


def test_order_generator_and_coordinates_match_reference() -> None:
    assert G.order == N
    assert bytes(G.generator()) == _ref_encode(REF.generator)
    assert G.coordinates(G.generator()) == (REF.generator.x(), REF.generator.y())  # type: ignore[attr-defined]


def test_identity_is_representable() -> None:
    g = G.generator()
    one = G.identity()
    assert g / g == one
    assert G.exp_g(0) == one
    assert g**N == one
    assert one * g == g
    assert one**5 == one
    assert G.product([g, G.inv(g)]) == one
    assert G.decode(bytes(33)) == one
    assert bytes(one) == bytes(33)
    assert G.coordinates(one) is None  # type: ignore[attr-defined]


def _off_curve_x() -> int:
    x = 5
    while pow((x**3 - 3 * x + REF.curve.b()) % P, (P - 1) // 2, P) == 1:
        x += 1
    return x


@pytest.mark.parametrize(
    "data",
    [
        b"\x04" + bytes(32),  # not a compressed prefix
        b"\x02" + P.to_bytes(32, "big"),  # x not reduced
        b"\x02" + _off_curve_x().to_bytes(32, "big"),  # no point with this x
        bytes(32),  # wrong length
        b"\x00" + b"\x01" * 32,  # not the identity, not a point
    ],
)
def test_decoding_rejects_what_is_not_a_point(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        G.decode(data)


def test_from_coordinates_checks_the_curve() -> None:
    x, y = G.coordinates(G.generator())  # type: ignore[attr-defined]
    assert G.from_coordinates(x, y) == G.generator()  # type: ignore[attr-defined]
    for bad in ((x, y + 1), (x, P - y + P), (P, y)):
        with pytest.raises(InvalidInput):
            G.from_coordinates(*bad)  # type: ignore[attr-defined]


def test_elgamal_and_pickling_on_p256() -> None:
    pair = keygen(G)
    ct = encrypt(pair.public, 7)
    assert decrypt_to_element(pair.secret, ct) == G.exp_g(7)
    assert pickle.loads(pickle.dumps(ct.a)) == ct.a  # noqa: S301 - our own bytes
    assert G.hash_to_element(b"m", b"dst") == G.hash_to_element(b"m", b"dst") != G.generator()
