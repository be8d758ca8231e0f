"""secp256k1 over libsecp256k1 through coincurve (docs/architecture.md §3).

The curve y² = x³ + 7 over F_p, p = 2^256 − 2^32 − 977, has prime order n and cofactor 1, so every
point on the curve is a member. Elements are SEC1 compressed points (33 bytes). libsecp256k1 cannot
represent the point at infinity, so this backend does: the identity is held as ``None`` internally
and encoded as 33 zero bytes (SEC1's one-byte ``00`` padded to the fixed element length, so every
element has the same length in the record). Scalars are 32 bytes big-endian, below n.

Secret scalars go through libsecp256k1's constant-time paths: ``secp256k1_ec_pubkey_create``
(ecmult_gen, a blinded precomputed comb) for the generator, and ``secp256k1_ecdh`` (ecmult_const)
for any other point, with a hash function that hands back the shared point itself (x and y, read
back as an uncompressed point) instead of hashing it. Public scalars (verification) use
``secp256k1_ec_pubkey_tweak_mul`` (ecmult, variable-time wNAF), about a quarter faster for a
random scalar and much faster for a short one; the generator has no faster public path than its
table. ``PublicKey.multiply`` (tweak_mul) never sees a secret. :meth:`Secp256k1.multi_exp` (public
scalars) is Pippenger's bucket method with each bucket added up in one ``secp256k1_ec_pubkey_combine``
call.

hash_to_element is try-and-increment (documented in docs/protocol.md §1.3): for a counter
c = 0, 1, …, x = OS2IP(expand_message_xmd(msg ‖ I2OSP(c, 1), dst, 48)) mod p, and the first x for
which ``02 ‖ x`` is on the curve gives the element. Its inputs are public, so its variable time
leaks nothing; the point's discrete logarithm is unknown to everyone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from coincurve import PublicKey
from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT

from degcore.errors import InvalidInput
from degcore.groups.base import Element, Group
from degcore.hashing import expand_message_xmd

__all__ = ["Secp256k1"]

_P = 2**256 - 2**32 - 977
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_G = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
_IDENTITY_ENCODING = bytes(33)


def _write_point(output: Any, x32: Any, y32: Any, data: Any) -> int:
    """ECDH "hash" that writes 04 ‖ x ‖ y: the shared point itself, for parsing back."""
    ffi.memmove(output, b"\x04", 1)
    ffi.memmove(output + 1, x32, 32)
    ffi.memmove(output + 33, y32, 32)
    return 1


# Kept referenced for the life of the module: libsecp256k1 calls back into it.
_WRITE_POINT = ffi.callback("int(unsigned char *, unsigned char *, unsigned char *, void *)", _write_point)


def _ecdh_point(point: PublicKey, k: int) -> PublicKey:
    """k·point by libsecp256k1's constant-time ecmult_const, for 0 < k < n."""
    out = ffi.new("unsigned char[65]")
    if not lib.secp256k1_ecdh(
        GLOBAL_CONTEXT.ctx, out, point.public_key, k.to_bytes(32, "big"), _WRITE_POINT, ffi.NULL
    ):
        raise AssertionError("secp256k1_ecdh rejected a scalar in [1, n)")  # pragma: no cover
    return PublicKey(bytes(ffi.buffer(out, 65)))


def _combine(points: list[Any]) -> Any:
    """The sum of ≥ 1 raw ``secp256k1_pubkey`` pointers in one call; None for the point at infinity."""
    out = ffi.new("secp256k1_pubkey *")
    return out if lib.secp256k1_ec_pubkey_combine(GLOBAL_CONTEXT.ctx, out, points, len(points)) else None


#: The bit positions set in each digit of a bucket window (up to 2^12 buckets).
_BITS = [[j for j in range(12) if d >> j & 1] for d in range(1 << 12)]


def _window(count: int) -> int:
    """The bucket width for ``count`` terms, 0 where one tweak_mul per term is faster (measured)."""
    for limit, window in _WINDOWS:
        if count < limit:
            return window
    return _LARGE_WINDOW


# (fewer terms than, width), from benchmarks/test_msm.py (docs/performance.md): each bucket costs
# one combine call (~5 µs with its field inversion), so wider windows than 8 never paid off.
_WINDOWS = ((2048, 0), (8192, 7))
_LARGE_WINDOW = 8


class _Secp256k1Element(Element):
    __slots__ = ("pk",)

    def __init__(self, pk: PublicKey | None) -> None:
        self.pk = pk

    @property
    def group(self) -> Group:
        return SECP256K1

    def _key(self) -> bytes:
        return _IDENTITY_ENCODING if self.pk is None else bytes(self.pk.format(compressed=True))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Secp256k1Element) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def _pk(a: Element) -> PublicKey | None:
    if type(a) is not _Secp256k1Element:
        raise TypeError(f"not a secp256k1 element: {a!r}")
    return a.pk


_ONE = _Secp256k1Element(None)


class Secp256k1(Group):
    """The secp256k1 curve group of prime order n."""

    name = "secp256k1"
    order = _N
    element_bytes = 33
    scalar_bytes = 32

    def __init__(self) -> None:
        self._g = _Secp256k1Element(PublicKey(_G))
        self._register()

    def generator(self) -> Element:
        """The SEC 2 base point G."""
        return self._g

    def identity(self) -> Element:
        """The point at infinity."""
        return _ONE

    def mul(self, a: Element, b: Element) -> Element:
        """Point addition (written multiplicatively)."""
        pa, pb = _pk(a), _pk(b)
        if pa is None:
            return b
        if pb is None:
            return a
        try:
            return _Secp256k1Element(PublicKey.combine_keys([pa, pb]))
        except ValueError:  # a = −b: the sum is the point at infinity
            return _ONE

    def product(self, elements: Iterable[Element]) -> Element:
        """The sum of many points in one libsecp256k1 call."""
        points = [p for p in map(_pk, elements) if p is not None]
        if not points:
            return _ONE
        if len(points) == 1:
            return _Secp256k1Element(points[0])
        try:
            return _Secp256k1Element(PublicKey.combine_keys(points))
        except ValueError:
            return _ONE

    def inv(self, a: Element) -> Element:
        """Point negation: flip the parity byte of the compressed encoding."""
        pa = _pk(a)
        if pa is None:
            return a
        enc = pa.format(compressed=True)
        return _Secp256k1Element(PublicKey(bytes([5 - enc[0]]) + enc[1:]))

    def exp(self, a: Element, k: int) -> Element:
        """Constant-time scalar multiplication of any point (libsecp256k1's ECDH, ecmult_const)."""
        pa = _pk(a)
        k %= _N
        if pa is None or k == 0:
            return _ONE
        return _Secp256k1Element(_ecdh_point(pa, k))

    def exp_vartime(self, a: Element, k: int) -> Element:
        """Variable-time scalar multiplication for public scalars (libsecp256k1's tweak_mul, ecmult)."""
        pa = _pk(a)
        k %= _N
        if pa is None or k == 0:
            return _ONE
        return _Secp256k1Element(pa.multiply(k.to_bytes(32, "big")))

    def _multi_exp(self, bases: list[Element], scalars: list[int]) -> Element:
        """Pippenger with every bucket summed in one libsecp256k1 call (``secp256k1_ec_pubkey_combine``)."""
        kept = [(pk.public_key, k) for pk, k in zip(map(_pk, bases), scalars, strict=True) if pk is not None]
        window = _window(len(kept))
        if window == 0:
            return super()._multi_exp(bases, scalars)
        bits = max(k.bit_length() for _, k in kept)
        mask = (1 << window) - 1
        # at_bit[j] collects the bucket sums B_d whose digit d has bit j − shift set, so that
        # Σ_d d·B_d over all windows is Σ_j 2^j · (Σ at_bit[j]): one Horner pass over the bits.
        at_bit: list[list[Any]] = [[] for _ in range(bits)]
        for shift in range(0, bits, window):
            buckets: list[list[Any]] = [[] for _ in range(mask + 1)]
            for point, k in kept:
                buckets[(k >> shift) & mask].append(point)
            for digit in range(1, mask + 1):
                if buckets[digit] and (total := _combine(buckets[digit])) is not None:
                    for j in _BITS[digit]:
                        if shift + j < bits:
                            at_bit[shift + j].append(total)
        acc: Any = None
        for points in reversed(at_bit):
            terms = points if acc is None else [acc, acc, *points]
            acc = _combine(terms) if terms else None
        return _ONE if acc is None else _Secp256k1Element(PublicKey(acc))

    def exp_g(self, k: int) -> Element:
        """Constant-time multiplication of G (libsecp256k1's ec_pubkey_create, ecmult_gen)."""
        k %= _N
        if k == 0:
            return _ONE
        return _Secp256k1Element(PublicKey.from_valid_secret(k.to_bytes(32, "big")))

    def encode(self, a: Element) -> bytes:
        """SEC1 compressed point; 33 zero bytes for the identity."""
        pa = _pk(a)
        return _IDENTITY_ENCODING if pa is None else bytes(pa.format(compressed=True))

    def decode(self, data: bytes) -> Element:
        """Decode a compressed point; rejects x ≥ p, points off the curve and other prefixes."""
        self._check_length(data, 33, "element")
        data = bytes(data)
        if data == _IDENTITY_ENCODING:
            return _ONE
        if data[0] not in (2, 3):
            raise InvalidInput(f"secp256k1: prefix {data[0]:#04x} is not a compressed point")
        if int.from_bytes(data[1:], "big") >= _P:
            raise InvalidInput("secp256k1: x coordinate not reduced mod p")
        try:
            return _Secp256k1Element(PublicKey(data))
        except ValueError:
            raise InvalidInput(f"secp256k1: {data.hex()} is not on the curve") from None

    def _check_member_type(self, a: Element) -> None:
        _pk(a)

    def hash_to_element(self, msg: bytes, dst: bytes) -> Element:
        """Try-and-increment onto the curve (public inputs only)."""
        for counter in range(256):
            x = int.from_bytes(expand_message_xmd(msg + bytes([counter]), dst, 48), "big") % _P
            try:
                return _Secp256k1Element(PublicKey(b"\x02" + x.to_bytes(32, "big")))
            except ValueError:
                continue
        raise AssertionError("no curve point in 256 tries (probability 2^-256)")  # pragma: no cover


SECP256K1 = Secp256k1()
