"""A generic short-Weierstrass curve group on gmpy2, for named curves degcore has no backend for.

Verificatum's ECqPGroup names a dozen curves (:mod:`degcore.groups.curves`); degcore's own
backends cover P-256 and secp256k1. This group serves the others on the *verification* path of
``degcore vmnv``: every exponent it sees there is public. Its arithmetic is plain variable-time
Python over gmpy2 (Jacobian coordinates, a 4-bit window, Pippenger for multi-exponentiations), so
:meth:`WeierstrassGroup.exp` is **not** constant-time; it must not handle secrets outside tests
(docs/verificatum.md §4).

Elements are affine points or the point at infinity. The canonical encoding is SEC1 compressed
(``02``/``03`` ‖ x), the point at infinity all zero bytes, as in degcore's P-256 backend; decoding
and :meth:`WeierstrassGroup.from_coordinates` check that the point is on the curve, and since every
Verificatum curve has cofactor 1 a point on the curve is a member.
"""

from __future__ import annotations

from collections.abc import Iterable

import gmpy2

from degcore.errors import InvalidInput
from degcore.groups._msm import choose_window, pippenger
from degcore.groups.base import Element, Group
from degcore.groups.curves import CurveParams

__all__ = ["WeierstrassGroup", "sqrt_mod"]

Jacobian = tuple[int, int, int]  # (X, Y, Z) with x = X/Z², y = Y/Z³; Z = 0 is the point at infinity

_INF: Jacobian = (1, 1, 0)
_WINDOW = 4


def sqrt_mod(v: int, p: int) -> int | None:
    """A square root of v modulo the odd prime p, or None (Tonelli–Shanks; public inputs only)."""
    v %= p
    if v == 0:
        return 0
    if gmpy2.legendre(v, p) != 1:
        return None
    if p % 4 == 3:
        return int(gmpy2.powmod(v, (p + 1) // 4, p))
    q, s = p - 1, 0
    while q % 2 == 0:
        q, s = q // 2, s + 1
    z = 2
    while gmpy2.legendre(z, p) != -1:
        z += 1
    m, c = s, int(gmpy2.powmod(z, q, p))
    t, r = int(gmpy2.powmod(v, q, p)), int(gmpy2.powmod(v, (q + 1) // 2, p))
    while t != 1:
        i, t2 = 0, t
        while t2 != 1:
            t2, i = t2 * t2 % p, i + 1
        b = int(gmpy2.powmod(c, 1 << (m - i - 1), p))
        m, c = i, b * b % p
        t, r = t * c % p, r * b % p
    return r


class _Point(Element):
    __slots__ = ("_group", "xy")

    def __init__(self, group: WeierstrassGroup, xy: tuple[int, int] | None) -> None:
        self._group = group
        self.xy = xy

    @property
    def group(self) -> Group:
        return self._group

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Point) and other._group is self._group and other.xy == self.xy

    def __hash__(self) -> int:
        return hash(self.xy)


class WeierstrassGroup(Group):
    """The prime-order group of a named curve (cofactor 1), verification only."""

    def __init__(self, curve: CurveParams) -> None:
        self.curve = curve
        self.name = f"verificatum-{curve.name}"
        self.order = curve.n
        self._field_bytes = (curve.p.bit_length() + 7) // 8
        self.element_bytes = 1 + self._field_bytes
        self.scalar_bytes = (curve.n.bit_length() + 7) // 8
        self._one = _Point(self, None)
        self._g = self.from_coordinates(curve.gx, curve.gy)
        self._register()

    # --- Jacobian arithmetic over public values ----------------------------------------------
    def _double(self, pt: Jacobian) -> Jacobian:
        x, y, z = pt
        p = self.curve.p
        if z == 0 or y == 0:
            return _INF
        yy = y * y % p
        s = 4 * x * yy % p
        zz = z * z % p
        m = (3 * x * x + self.curve.a * zz * zz) % p
        x3 = (m * m - 2 * s) % p
        y3 = (m * (s - x3) - 8 * yy * yy) % p
        return x3, y3, 2 * y * z % p

    def _add(self, p1: Jacobian, p2: Jacobian) -> Jacobian:
        if p1[2] == 0:
            return p2
        if p2[2] == 0:
            return p1
        p = self.curve.p
        x1, y1, z1 = p1
        x2, y2, z2 = p2
        z1z1, z2z2 = z1 * z1 % p, z2 * z2 % p
        u1, u2 = x1 * z2z2 % p, x2 * z1z1 % p
        s1, s2 = y1 * z2 * z2z2 % p, y2 * z1 * z1z1 % p
        h, r = (u2 - u1) % p, (s2 - s1) % p
        if h == 0:
            return self._double(p1) if r == 0 else _INF
        hh = h * h % p
        hhh, v = h * hh % p, u1 * hh % p
        x3 = (r * r - hhh - 2 * v) % p
        y3 = (r * (v - x3) - s1 * hhh) % p
        return x3, y3, z1 * z2 * h % p

    def _jacobian(self, a: Element) -> Jacobian:
        xy = self._pt(a).xy
        return _INF if xy is None else (xy[0], xy[1], 1)

    def _affine(self, pt: Jacobian) -> _Point:
        x, y, z = pt
        if z == 0:
            return self._one
        p = self.curve.p
        zi = int(gmpy2.invert(z, p))
        zi2 = zi * zi % p
        return _Point(self, (x * zi2 % p, y * zi2 * zi % p))

    def _power(self, pt: Jacobian, k: int) -> Jacobian:
        table = [_INF, pt]
        for _ in range(2, 1 << _WINDOW):
            table.append(self._add(table[-1], pt))
        acc = _INF
        for shift in range(((k.bit_length() + _WINDOW - 1) // _WINDOW - 1) * _WINDOW, -1, -_WINDOW):
            for _ in range(_WINDOW):
                acc = self._double(acc)
            digit = (k >> shift) & ((1 << _WINDOW) - 1)
            if digit:
                acc = self._add(acc, table[digit])
        return acc

    # --- the Group protocol ------------------------------------------------------------------
    def _pt(self, a: Element) -> _Point:
        if type(a) is not _Point or a._group is not self:
            raise TypeError(f"not an element of {self.name}: {a!r}")
        return a

    def generator(self) -> Element:
        """The curve's standard base point G."""
        return self._g

    def identity(self) -> Element:
        """The point at infinity."""
        return self._one

    def mul(self, a: Element, b: Element) -> Element:
        """Point addition (written multiplicatively)."""
        return self._affine(self._add(self._jacobian(a), self._jacobian(b)))

    def product(self, elements: Iterable[Element]) -> Element:
        """The sum of many points, with one inversion at the end."""
        acc = _INF
        for e in elements:
            acc = self._add(acc, self._jacobian(e))
        return self._affine(acc)

    def inv(self, a: Element) -> Element:
        """Point negation."""
        xy = self._pt(a).xy
        return self._one if xy is None else _Point(self, (xy[0], -xy[1] % self.curve.p))

    def exp(self, a: Element, k: int) -> Element:
        """k·a — variable-time (public exponents only, see the module docstring)."""
        k %= self.order
        return self._one if k == 0 else self._affine(self._power(self._jacobian(a), k))

    def exp_g(self, k: int) -> Element:
        """k·G — variable-time (public exponents only)."""
        return self.exp(self._g, k)

    def _multi_exp(self, bases: list[Element], scalars: list[int]) -> Element:
        bits = max((k.bit_length() for k in scalars), default=0)
        # One scalar multiplication costs about 1.25 point operations per bit with a 4-bit window.
        window = choose_window(len(bases), bits, 1.25 * bits)
        if window == 0:
            return super()._multi_exp(bases, scalars)
        points = [self._jacobian(b) for b in bases]
        result = pippenger(self._add, self._double, points, scalars, window)
        return self._one if result is None else self._affine(result)

    def _rhs(self, x: int) -> int:
        return (x * x * x + self.curve.a * x + self.curve.b) % self.curve.p

    def from_coordinates(self, x: int, y: int) -> Element:
        """The affine point (x, y), checked to be on the curve."""
        p = self.curve.p
        if not (0 <= x < p and 0 <= y < p) or y * y % p != self._rhs(x):
            raise InvalidInput(f"{self.curve.name}: the point is not on the curve")
        return _Point(self, (x, y))

    def coordinates(self, a: Element) -> tuple[int, int] | None:
        """The affine (x, y) of ``a``; None for the point at infinity."""
        return self._pt(a).xy

    def encode(self, a: Element) -> bytes:
        """SEC1 compressed point; all zero bytes for the point at infinity."""
        xy = self._pt(a).xy
        if xy is None:
            return bytes(self.element_bytes)
        return bytes([2 | (xy[1] & 1)]) + xy[0].to_bytes(self._field_bytes, "big")

    def decode(self, data: bytes) -> Element:
        """Decode a compressed point; rejects x ≥ p, an x with no point and other prefixes."""
        self._check_length(data, self.element_bytes, "element")
        data = bytes(data)
        if data == bytes(self.element_bytes):
            return self._one
        if data[0] not in (2, 3):
            raise InvalidInput(f"{self.curve.name}: prefix {data[0]:#04x} is not a compressed point")
        x = int.from_bytes(data[1:], "big")
        if x >= self.curve.p:
            raise InvalidInput(f"{self.curve.name}: x coordinate not reduced mod p")
        y = sqrt_mod(self._rhs(x), self.curve.p)
        if y is None:
            raise InvalidInput(f"{self.curve.name}: {data.hex()} is not on the curve")
        if (y & 1) != (data[0] & 1):
            y = self.curve.p - y
        return _Point(self, (x, y))

    def _check_member_type(self, a: Element) -> None:
        self._pt(a)

    def hash_to_element(self, msg: bytes, dst: bytes) -> Element:
        """Not needed on the Verificatum path (its generators come from vmn's own derivation)."""
        raise NotImplementedError(f"{self.name}: hash_to_element is not provided")
