"""secp256k1 cross-checked against the independent `ecdsa` implementation; decoding is strict."""

from __future__ import annotations

import pytest
from coincurve import PublicKey
from ecdsa import SECP256k1 as REF
from ecdsa.ellipticcurve import INFINITY, PointJacobi
from hypothesis import given
from hypothesis import strategies as st

from degcore.errors import InvalidInput
from degcore.groups import Element, get_group

G = get_group("secp256k1")
N = REF.order
P = REF.curve.p()
scalars = st.integers(min_value=0, max_value=N - 1)


def _ref_encode(point: PointJacobi) -> bytes:
    if point == INFINITY:
        return bytes(33)
    return bytes([2 + (point.y() & 1)]) + point.x().to_bytes(32, "big")


def _ours(k: int) -> Element:
    return G.exp_g(k)


@given(scalars, scalars)
def test_against_ecdsa_reference(a: int, b: int) -> None:
    gen = REF.generator
    assert bytes(_ours(a)) == _ref_encode(gen * a)
    assert bytes(_ours(a) * _ours(b)) == _ref_encode(gen * a + gen * b)
    assert bytes(_ours(a) ** b) == _ref_encode(gen * (a * b % N))
    assert bytes(G.inv(_ours(a))) == _ref_encode(gen * ((-a) % N))


def test_order_and_generator_match_reference() -> None:
    assert G.order == N
    assert bytes(G.generator()) == _ref_encode(REF.generator)


def test_identity_is_representable() -> None:
    g = G.generator()
    one = G.identity()
    assert g / g == one
    assert g * G.inv(g) == one
    assert G.exp_g(0) == one
    assert g**N == one
    assert one * g == g
    assert one**5 == one
    assert G.product([g, G.inv(g)]) == one
    assert G.decode(bytes(33)) == one
    assert bytes(one) == bytes(33)


@pytest.mark.parametrize(
    "data",
    [
        b"\x04" + bytes(32),  # uncompressed prefix with compressed length
        b"\x02" + P.to_bytes(32, "big"),  # x = p, not reduced
        b"\x02" + (P + 2).to_bytes(33, "big")[1:],  # x ≥ p
        b"\x05" + bytes(32),
        b"\x00" + b"\x01" * 32,  # identity prefix with junk
        bytes(32),  # too short
        b"\x02" + bytes(33),  # too long
    ],
)
def test_invalid_encodings_rejected(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        G.decode(data)


def test_off_curve_x_rejected() -> None:
    # x = 5: 5^3 + 7 = 132 is not a square mod p, so 02‖x is off the curve.
    with pytest.raises(InvalidInput):
        G.decode(b"\x02" + (5).to_bytes(32, "big"))


def test_hash_to_element_is_on_curve_and_deterministic() -> None:
    h1 = G.hash_to_element(b"seed", b"degcore/4/test")
    assert h1 == G.hash_to_element(b"seed", b"degcore/4/test")
    assert h1 != G.hash_to_element(b"seed2", b"degcore/4/test")
    point = PointJacobi.from_bytes(REF.curve, bytes(h1))
    assert point != INFINITY


@pytest.mark.parametrize("k", [1, 2, 3, N - 1, N, N + 1, -1, 2**128, 2**255])
def test_secret_and_public_multiplications_agree_with_reference(k: int) -> None:
    base = _ours(0xC0FFEE)
    want = _ref_encode(REF.generator * (0xC0FFEE * k % N))
    assert bytes(G.exp(base, k)) == bytes(G.exp_vartime(base, k)) == want
    assert bytes(G.fixed(base).exp(k)) == bytes(G.fixed(base).exp_vartime(k)) == want
    assert bytes(G.exp_g(k)) == bytes(G.exp_g_vartime(k)) == _ref_encode(REF.generator * (k % N))


def test_secret_multiplications_never_use_tweak_mul(monkeypatch: pytest.MonkeyPatch) -> None:
    """coincurve's PublicKey.multiply (tweak_mul, variable-time ecmult) must never see a secret."""
    base = _ours(12345)
    want = {k: (G.exp_vartime(base, k), G.exp_vartime(G.generator(), k)) for k in (3, N - 2, 2**200 + 1)}

    def refuse(*args: object) -> object:
        raise AssertionError("a secret scalar reached secp256k1_ec_pubkey_tweak_mul")

    monkeypatch.setattr(PublicKey, "multiply", refuse)
    for k, (expected, expected_g) in want.items():
        assert G.exp(base, k) == base**k == G.fixed(base).exp(k) == expected
        assert G.exp_g(k) == expected_g
    with pytest.raises(AssertionError):
        G.exp_vartime(base, 5)
