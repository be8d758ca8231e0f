"""Verificatum's groups and their byte-tree encodings, on degcore's Group backends (VMNV §6).

* ``pgroup`` in protInfo.xml is ``comment::hex(byte tree)``. ModPGroup: node(leaf(class name),
  node(p, q, g, u32(encoding))); ECqPGroup: node(leaf(class name), leaf(curve name)). Integers
  are Java ``BigInteger`` bytes: big-endian two's complement, so a leading zero byte when the top
  bit is set.
* A ModPGroup element is a leaf of exactly ⌊bits(p)/8⌋ + 1 bytes holding 0 < x < p in the order-q
  subgroup (checked with the Jacobi symbol when p = 2q + 1, else x^q = 1).
* An ECqPGroup element is node(leaf(x), leaf(y)), each ⌊bits(p)/8⌋ + 1 bytes, checked to be on the
  curve; the point at infinity is x = y = −1, i.e. leaves of 0xff bytes (§6.5).
* A scalar (an element of Z_q) is a leaf of ⌊bits(q)/8⌋ + 1 bytes below q.
* An element of the product group G^w (w > 1) is node(e_1 … e_w); an *array* of them is stored
  transposed, node(array_1 … array_w) (§6.6). A ciphertext array is node(U, V).
* Independent generators (§6.8): PRG seeded with RO(ρ ‖ leaf("generators")); each candidate is an
  integer of bits(p) + n_r bits reduced mod p. ModPGroup raises it to (p − 1)/q; ECqPGroup keeps
  the candidates x with x³ + ax + b a non-zero square and takes the smaller root y.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import gmpy2

from degcore.errors import InvalidInput, UnsupportedFormat
from degcore.groups import Element, Group
from degcore.groups.curves import CURVES, CurveParams, curve_named
from degcore.groups.modp import ModpGroup
from degcore.groups.p256 import P256, P256Group
from degcore.groups.weierstrass import WeierstrassGroup, sqrt_mod
from degcore.interop.verificatum.bytetree import ByteTree, Leaf, Node, children, leaf, leaf_data, node, parse
from degcore.interop.verificatum.oracle import Prg, random_oracle

__all__ = ["VGroup", "minimal_hex", "parse_pgroup"]

_MODP_CLASS = "com.verificatum.arithm.ModPGroup"
_EC_CLASS = "com.verificatum.arithm.ECqPGroup"


def _java_bytes(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


def _java_int(data: bytes, what: str) -> int:
    if not data or data[0] & 0x80:
        raise InvalidInput(f"{what}: expected a non-negative integer")
    return int.from_bytes(data, "big")


def _java_length(value: int) -> int:
    """Length of Java's ``BigInteger.toByteArray()`` for a positive value (room for the sign bit)."""
    return value.bit_length() // 8 + 1


def minimal_hex(x: int) -> str:
    """An integer as vmnv prints it: its minimal big-endian bytes in hex."""
    return x.to_bytes(max(1, (x.bit_length() + 7) // 8), "big").hex()


@dataclass(frozen=True, slots=True)
class VGroup:
    """A Verificatum group: the degcore backend plus Verificatum's encodings of it."""

    group: Group
    kind: str  # "modp" or "ec"
    field_p: int  # p of Z_p* or of the curve's field
    element_length: int  # bytes of one integer leaf of an element
    scalar_length: int
    safe_prime: bool
    curve: CurveParams | None = None

    def _curve(self) -> P256Group | WeierstrassGroup:
        if not isinstance(self.group, P256Group | WeierstrassGroup):
            raise TypeError(f"{self.group.name} is not an elliptic curve")
        return self.group

    # --- elements ---------------------------------------------------------------------------
    def show(self, e: Element) -> str:
        """An element as vmnv prints it: hex of the integer; a point (x, y) or (INFINITY), as vcr does."""
        if self.kind == "modp":
            return minimal_hex(int.from_bytes(bytes(e), "big"))
        xy = self._curve().coordinates(e)
        return "(INFINITY)" if xy is None else f"({minimal_hex(xy[0])}, {minimal_hex(xy[1])})"

    def show_all(self, items: Sequence[Element]) -> str:
        """An array as vmnv prints it: (e_1,…,e_N)."""
        return "(" + ",".join(self.show(e) for e in items) + ")"

    def element_tree(self, a: Element) -> ByteTree:
        """The byte tree of one element."""
        if self.kind == "modp":
            return Leaf(bytes(a)[-self.element_length :].rjust(self.element_length, b"\0"))
        xy = self._curve().coordinates(a)
        if xy is None:
            ff = b"\xff" * self.element_length
            return node(Leaf(ff), Leaf(ff))
        return node(
            Leaf(_java_bytes(xy[0], self.element_length)), Leaf(_java_bytes(xy[1], self.element_length))
        )

    def element(self, tree: ByteTree, what: str) -> Element:
        """Decode one element with its membership check."""
        if self.kind == "modp":
            x = int.from_bytes(leaf_data(tree, what, self.element_length), "big")
            if not 0 < x < self.field_p:
                raise InvalidInput(f"{what}: element not in the range [1, p)")
            if self.safe_prime:
                member = gmpy2.jacobi(x, self.field_p) == 1
            else:
                member = gmpy2.powmod(x, self.group.order, self.field_p) == 1
            if not member:
                raise InvalidInput(f"{what}: element is not in the order-q subgroup")
            # Membership was just checked; the backend's own decode would repeat it with x^q.
            return self.group._decode_trusted(x.to_bytes(self.group.element_bytes, "big"))
        x_tree, y_tree = children(tree, what, 2)
        xb, yb = leaf_data(x_tree, what, self.element_length), leaf_data(y_tree, what, self.element_length)
        if xb == yb == b"\xff" * self.element_length:
            return self.group.identity()
        return self._curve().from_coordinates(_java_int(xb, what), _java_int(yb, what))

    def elements(self, tree: ByteTree, what: str, count: int | None = None) -> list[Element]:
        """An array of elements: node(e_1 … e_N)."""
        return [self.element(t, f"{what}[{i}]") for i, t in enumerate(children(tree, what, count))]

    def array_tree(self, items: Sequence[Element]) -> Node:
        """node(e_1 … e_N)."""
        return node([self.element_tree(e) for e in items])

    # --- product groups of width w ------------------------------------------------------------
    def wide_array(
        self, tree: ByteTree, width: int, what: str, count: int | None = None
    ) -> list[list[Element]]:
        """An array of G^w elements, stored transposed; returned as N rows of w elements."""
        if width == 1:
            return [[e] for e in self.elements(tree, what, count)]
        columns = [
            self.elements(t, f"{what} component {k}", count)
            for k, t in enumerate(children(tree, what, width))
        ]
        n = len(columns[0])
        if any(len(col) != n for col in columns):
            raise InvalidInput(f"{what}: components of different lengths")
        return [[col[i] for col in columns] for i in range(n)]

    def wide_array_tree(self, rows: Sequence[Sequence[Element]], width: int) -> Node:
        """Inverse of :meth:`wide_array`."""
        if width == 1:
            return self.array_tree([r[0] for r in rows])
        return node([self.array_tree([r[k] for r in rows]) for k in range(width)])

    def wide_element(self, tree: ByteTree, width: int, what: str) -> list[Element]:
        """One G^w element: node(e_1 … e_w), or a plain element for w = 1."""
        return [self.element(tree, what)] if width == 1 else self.elements(tree, what, width)

    def wide_element_tree(self, items: Sequence[Element]) -> ByteTree:
        """Inverse of :meth:`wide_element`."""
        return self.element_tree(items[0]) if len(items) == 1 else self.array_tree(items)

    # --- scalars ------------------------------------------------------------------------------
    def scalar(self, tree: ByteTree, what: str) -> int:
        """One element of Z_q: a fixed-length leaf below q."""
        value = int.from_bytes(leaf_data(tree, what, self.scalar_length), "big")
        if value >= self.group.order:
            raise InvalidInput(f"{what}: scalar not reduced mod q")
        return value

    def scalars(self, tree: ByteTree, what: str, count: int | None = None) -> list[int]:
        """An array of scalars."""
        return [self.scalar(t, f"{what}[{i}]") for i, t in enumerate(children(tree, what, count))]

    def scalar_tree(self, k: int) -> Leaf:
        """The leaf of one scalar."""
        return Leaf(_java_bytes(k % self.group.order, self.scalar_length))

    def wide_scalar(self, tree: ByteTree, width: int, what: str) -> list[int]:
        """An element of Z_q^w."""
        return [self.scalar(tree, what)] if width == 1 else self.scalars(tree, what, width)

    def wide_scalar_tree(self, values: Sequence[int]) -> ByteTree:
        """Inverse of :meth:`wide_scalar`."""
        if len(values) == 1:
            return self.scalar_tree(values[0])
        return node([self.scalar_tree(v) for v in values])

    # --- independent generators (§6.8) --------------------------------------------------------
    def generators(self, rho: bytes, count: int, n_r: int, rohash: str) -> list[Element]:
        """h_1 … h_count exactly as vmn derives them."""
        seed = random_oracle(rohash, 8 * Prg.seed_bytes(rohash), rho + leaf("generators").to_bytes())
        prg = Prg(rohash, seed)
        bits = self.field_p.bit_length() + n_r
        p = self.field_p
        out: list[Element] = []
        if self.kind == "modp":
            cofactor = (p - 1) // self.group.order
            while len(out) < count:
                x = int(gmpy2.powmod(prg.integer(bits) % p, cofactor, p))
                if x > 1:  # the identity has probability 1/q; vmn would not notice, degcore skips it
                    out.append(self.group._decode_trusted(x.to_bytes(self.group.element_bytes, "big")))
            return out
        curve, params = self._curve(), self.curve
        if params is None:
            raise TypeError("an elliptic-curve VGroup without its curve parameters")
        while len(out) < count:
            x = prg.integer(bits) % p
            fx = (x * x * x + params.a * x + params.b) % p
            # vmn keeps x only when f(x) is a non-zero square and takes the smaller root (§6.8).
            y = sqrt_mod(fx, p) if gmpy2.legendre(fx, p) == 1 else None
            if y is not None:
                out.append(curve.from_coordinates(x, min(y, p - y)))
        return out


_CACHE: dict[bytes, VGroup] = {}
_P256_PARAMS = CURVES["P-256"]


def _modp(p: int, q: int, g: int) -> VGroup:
    key = b"modp" + hashlib.sha256(f"{p}:{q}:{g}".encode()).digest()
    if key not in _CACHE:
        if q < 3 or (p - 1) % q or not gmpy2.is_prime(p) or not gmpy2.is_prime(q):
            raise InvalidInput("ModPGroup: p and q must be primes with q dividing p − 1")
        if not 1 < g < p or gmpy2.powmod(g, q, p) != 1:
            raise InvalidInput("ModPGroup: g is not a generator of the order-q subgroup")
        # One backend instance per group, so that elements compare equal across pickling.
        group = ModpGroup(f"verificatum-modp-{key[4:12].hex()}", p, q, g)
        _CACHE[key] = VGroup(group, "modp", p, _java_length(p), _java_length(q), p == 2 * q + 1)
    return _CACHE[key]


def _ec(name: str) -> VGroup:
    """The VGroup of a curve vmn names; P-256 (under any of its names) on degcore's own backend."""
    params = curve_named(name)
    if params is None:
        known = ", ".join(sorted(CURVES))
        raise UnsupportedFormat(f"ECqPGroup curve {name[:40]!r} is not one vmn names ({known})")
    key = b"ec" + params.name.encode()
    if key not in _CACHE:
        group: Group = P256 if params == _P256_PARAMS else WeierstrassGroup(params)
        p = params.p
        _CACHE[key] = VGroup(group, "ec", p, _java_length(p), _java_length(params.n), False, params)
    return _CACHE[key]


def parse_pgroup(text: str) -> VGroup:
    """The group of a protInfo ``pgroup`` value (``comment::hex``)."""
    _, sep, hex_part = text.strip().rpartition("::")
    if not sep:
        raise InvalidInput("pgroup: expected 'description::hex byte tree'")
    try:
        raw = bytes.fromhex(hex_part.strip())
    except ValueError:
        raise InvalidInput("pgroup: the part after '::' is not hexadecimal") from None
    top = children(parse(raw, "pgroup"), "pgroup", 2)
    cls = leaf_data(top[0], "pgroup class").decode("utf-8", "replace")
    if cls == _MODP_CLASS:
        p_t, q_t, g_t, _encoding = children(top[1], "ModPGroup parameters", 4)
        p = _java_int(leaf_data(p_t, "ModPGroup p"), "ModPGroup p")
        q = _java_int(leaf_data(q_t, "ModPGroup q"), "ModPGroup q")
        g = _java_int(leaf_data(g_t, "ModPGroup g"), "ModPGroup g")
        return _modp(p, q, g)
    if cls == _EC_CLASS:
        name = leaf_data(top[1], "ECqPGroup curve").decode("utf-8", "replace")
        return _ec(name)
    raise UnsupportedFormat(f"pgroup class {cls!r} is not supported (ModPGroup and ECqPGroup are)")
