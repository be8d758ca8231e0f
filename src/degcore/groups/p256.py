"""NIST P-256 (secp256r1) over pycryptodome and ``cryptography`` (docs/architecture.md §3).

The curve y² = x³ − 3x + b over F_p, p = 2^256 − 2^224 + 2^192 + 2^96 − 1, has prime order n and
cofactor 1, so every point on the curve is a member. Elements are SEC1 compressed points (33
bytes); the point at infinity is representable and encoded as 33 zero bytes (as in the secp256k1
backend). Scalars are 32 bytes big-endian, below n. Decoding checks x < p, that x³ − 3x + b is a
square and the prefix, so nothing off the curve gets in.

Which library does what was measured (docs/performance.md): ``g^k`` is OpenSSL's constant-time
fixed-base multiplication through ``cryptography``'s ``derive_private_key`` (≈ 40 µs);
``cryptography`` has no point addition nor variable-base multiplication with the full point, so
those are pycryptodome's ``EccPoint`` (its ``ec_ws`` C code: Montgomery arithmetic and a fixed
window over tables scattered in memory, ≈ 330 µs per multiplication, ≈ 5 µs per addition).

hash_to_element is try-and-increment, as for secp256k1: x = OS2IP(expand_message_xmd(msg ‖
I2OSP(c, 1), dst, 48)) mod p for c = 0, 1, …, and the first x on the curve gives ``02 ‖ x``.
"""

from __future__ import annotations

from collections.abc import Iterable

import gmpy2
from Crypto.PublicKey.ECC import EccPoint  # type: ignore[attr-defined]  # documented there
from cryptography.hazmat.primitives.asymmetric import ec

from degcore.errors import InvalidInput
from degcore.groups._msm import choose_window, pippenger
from degcore.groups.base import Element, Group
from degcore.hashing import expand_message_xmd

__all__ = ["P256", "P256Group"]

_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
_GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
_IDENTITY_ENCODING = bytes(33)
_CURVE = "p256"
# One variable-base multiplication costs this many point additions per scalar bit (measured,
# docs/performance.md: ≈ 40–65 additions for a 256-bit scalar).
_EXP_COST_PER_BIT = 0.2


class _P256Element(Element):
    __slots__ = ("point",)

    def __init__(self, point: EccPoint) -> None:
        self.point = point

    @property
    def group(self) -> Group:
        return P256

    def _key(self) -> tuple[int, int]:
        if self.point.is_point_at_infinity():
            return (0, 0)
        return (int(self.point.x), int(self.point.y))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _P256Element) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def _pt(a: Element) -> EccPoint:
    if type(a) is not _P256Element:
        raise TypeError(f"not a P-256 element: {a!r}")
    return a.point


def _y_squared(x: int) -> int:
    return (x * x * x - 3 * x + _B) % _P


def _sqrt(v: int) -> int | None:
    """The square root of v mod p with p ≡ 3 (mod 4), or None (public inputs only)."""
    root = int(gmpy2.powmod(v, (_P + 1) // 4, _P))
    return root if root * root % _P == v else None


_ONE = _P256Element(EccPoint(0, 0, _CURVE))


class P256Group(Group):
    """The P-256 curve group of prime order n."""

    name = "p256"
    order = _N
    element_bytes = 33
    scalar_bytes = 32

    def __init__(self) -> None:
        self._g = _P256Element(EccPoint(_GX, _GY, _CURVE))
        self._register()

    def generator(self) -> Element:
        """The FIPS 186 base point G."""
        return self._g

    def identity(self) -> Element:
        """The point at infinity."""
        return _ONE

    def mul(self, a: Element, b: Element) -> Element:
        """Point addition (written multiplicatively)."""
        return _P256Element(_pt(a) + _pt(b))

    def product(self, elements: Iterable[Element]) -> Element:
        """The sum of many points."""
        acc = EccPoint(0, 0, _CURVE)
        for e in elements:
            acc = acc + _pt(e)
        return _P256Element(acc)

    def inv(self, a: Element) -> Element:
        """Point negation."""
        return _P256Element(-_pt(a))

    def exp(self, a: Element, k: int) -> Element:
        """Scalar multiplication with pycryptodome's fixed-window ``ec_ws`` code."""
        point = _pt(a)
        k %= _N
        if k == 0 or point.is_point_at_infinity():
            return _ONE
        return _P256Element(point * k)

    def _multi_exp(self, bases: list[Element], scalars: list[int]) -> Element:
        """Pippenger over pycryptodome point additions when it beats one multiplication per term."""
        points = list(map(_pt, bases))
        bits = max((k.bit_length() for k in scalars), default=0)
        window = choose_window(len(points), bits, _EXP_COST_PER_BIT * bits)
        if window == 0:
            return super()._multi_exp(bases, scalars)
        result = pippenger(EccPoint.__add__, lambda x: x.copy().double(), points, scalars, window)
        return _ONE if result is None or result.is_point_at_infinity() else _P256Element(result)

    def exp_g(self, k: int) -> Element:
        """k·G with OpenSSL's constant-time fixed-base multiplication (``cryptography``)."""
        k %= _N
        if k == 0:
            return _ONE
        numbers = ec.derive_private_key(k, ec.SECP256R1()).public_key().public_numbers()
        return _P256Element(EccPoint(numbers.x, numbers.y, _CURVE))

    def encode(self, a: Element) -> bytes:
        """SEC1 compressed point; 33 zero bytes for the identity."""
        point = _pt(a)
        if point.is_point_at_infinity():
            return _IDENTITY_ENCODING
        x, y = int(point.x), int(point.y)
        return bytes([2 | (y & 1)]) + x.to_bytes(32, "big")

    def decode(self, data: bytes) -> Element:
        """Decode a compressed point; rejects x ≥ p, x with no point and other prefixes."""
        self._check_length(data, 33, "element")
        data = bytes(data)
        if data == _IDENTITY_ENCODING:
            return _ONE
        if data[0] not in (2, 3):
            raise InvalidInput(f"p256: prefix {data[0]:#04x} is not a compressed point")
        x = int.from_bytes(data[1:], "big")
        if x >= _P:
            raise InvalidInput("p256: x coordinate not reduced mod p")
        y = _sqrt(_y_squared(x))
        if y is None:
            raise InvalidInput(f"p256: {data.hex()} is not on the curve")
        if (y & 1) != (data[0] & 1):
            y = _P - y
        return _P256Element(EccPoint(x, y, _CURVE))

    def from_coordinates(self, x: int, y: int) -> Element:
        """The affine point (x, y), checked to be on the curve (uncompressed encodings)."""
        if not (0 <= x < _P and 0 <= y < _P) or y * y % _P != _y_squared(x):
            raise InvalidInput("p256: the point is not on the curve")
        return _P256Element(EccPoint(x, y, _CURVE))

    def coordinates(self, a: Element) -> tuple[int, int] | None:
        """The affine (x, y) of ``a``; None for the point at infinity."""
        point = _pt(a)
        if point.is_point_at_infinity():
            return None
        return int(point.x), int(point.y)

    def _check_member_type(self, a: Element) -> None:
        _pt(a)

    def hash_to_element(self, msg: bytes, dst: bytes) -> Element:
        """Try-and-increment onto the curve (public inputs only)."""
        for counter in range(256):
            x = int.from_bytes(expand_message_xmd(msg + bytes([counter]), dst, 48), "big") % _P
            y = _sqrt(_y_squared(x))
            if y is not None:
                return _P256Element(EccPoint(x, y if y % 2 == 0 else _P - y, _CURVE))
        raise AssertionError("no curve point in 256 tries (probability 2^-256)")  # pragma: no cover


P256 = P256Group()
