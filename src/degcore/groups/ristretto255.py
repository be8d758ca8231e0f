"""ristretto255 (RFC 9496) over libsodium through rbcl (DESIGN.md §3).

Elements are held as their canonical 32-byte encoding, which is what libsodium's ristretto255
calls take and return. Scalars are encoded little-endian, 32 bytes, below
ℓ = 2^252 + 27742317777372353535851937790883648493 (RFC 9496 §4). All exponentiations are
libsodium's constant-time scalar multiplications; the generator uses libsodium's precomputed
table. libsodium has no variable-time multiplication, so the ``vartime`` operations are the same
constant-time ones. No extra table is built for other fixed bases: a libsodium point addition decodes and
re-encodes both points (~16 µs), so a Python window table would be slower than one scalar
multiplication (~57 µs) — measured in docs/performance.md. For the same reason no bucket method
(Pippenger, Straus) can beat one multiplication per term, so :meth:`Group.multi_exp` is exactly
that here (benchmarks/test_msm.py) and verifiers do not batch on this group.

hash_to_element is RFC 9380 hash_to_ristretto255: expand_message_xmd(SHA-512, 64 bytes) followed
by the RFC 9496 §4.3.4 element derivation (libsodium ``from_hash``).
"""

from __future__ import annotations

import rbcl

from degcore.errors import InvalidInput
from degcore.groups.base import Element, Group
from degcore.hashing import expand_message_xmd

__all__ = ["Ristretto255"]

_L = 2**252 + 27742317777372353535851937790883648493
_IDENTITY = bytes(32)
_add = rbcl.crypto_core_ristretto255_add
_sub = rbcl.crypto_core_ristretto255_sub
_mul = rbcl.crypto_scalarmult_ristretto255_allow_scalar_zero
_mul_base = rbcl.crypto_scalarmult_ristretto255_base_allow_scalar_zero
_is_valid = rbcl.crypto_core_ristretto255_is_valid_point


class _RistrettoElement(Element):
    __slots__ = ("b",)

    def __init__(self, b: bytes) -> None:
        self.b = b

    @property
    def group(self) -> Group:
        return RISTRETTO255

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _RistrettoElement) and self.b == other.b

    def __hash__(self) -> int:
        return hash(self.b)


def _b(a: Element) -> bytes:
    if type(a) is not _RistrettoElement:
        raise TypeError(f"not a ristretto255 element: {a!r}")
    return a.b


class Ristretto255(Group):
    """The ristretto255 group of prime order ℓ."""

    name = "ristretto255"
    order = _L
    element_bytes = 32
    scalar_bytes = 32
    scalar_byteorder = "little"
    batches = False  # multi_exp is one power per term: a batch only adds multiplications

    def __init__(self) -> None:
        self._g = _RistrettoElement(_mul_base((1).to_bytes(32, "little")))
        self._one = _RistrettoElement(_IDENTITY)
        self._register()

    def generator(self) -> Element:
        """The RFC 9496 base point."""
        return self._g

    def identity(self) -> Element:
        """The identity, encoded as 32 zero bytes."""
        return self._one

    def mul(self, a: Element, b: Element) -> Element:
        """Point addition (written multiplicatively)."""
        return _RistrettoElement(_add(_b(a), _b(b)))

    def div(self, a: Element, b: Element) -> Element:
        """Point subtraction."""
        return _RistrettoElement(_sub(_b(a), _b(b)))

    def inv(self, a: Element) -> Element:
        """Point negation."""
        return _RistrettoElement(_sub(_IDENTITY, _b(a)))

    def exp(self, a: Element, k: int) -> Element:
        """Constant-time scalar multiplication (libsodium)."""
        return _RistrettoElement(_mul((k % _L).to_bytes(32, "little"), _b(a)))

    def exp_g(self, k: int) -> Element:
        """Constant-time fixed-base scalar multiplication of the base point (libsodium table)."""
        return _RistrettoElement(_mul_base((k % _L).to_bytes(32, "little")))

    def encode(self, a: Element) -> bytes:
        """The RFC 9496 §4.3.2 encoding."""
        return _b(a)

    def decode(self, data: bytes) -> Element:
        """RFC 9496 §4.3.1 decoding: rejects non-canonical and invalid encodings."""
        self._check_length(data, 32, "element")
        data = bytes(data)
        # RFC 9496 §4.3.1 allows only s < p with s even, so bit 255 must be clear; libsodium before
        # 1.0.19 ignores that bit, which would give every element a second spelling.
        if data[31] & 0x80 or not _is_valid(data):
            raise InvalidInput(f"ristretto255: {data.hex()} is not a canonical ristretto255 encoding")
        return _RistrettoElement(data)

    def _decode_trusted(self, data: bytes) -> Element:
        """The encoding is the element: nothing to parse for bytes that came from an element."""
        return _RistrettoElement(data)

    def _check_member_type(self, a: Element) -> None:
        _b(a)

    def hash_to_element(self, msg: bytes, dst: bytes) -> Element:
        """RFC 9380 hash_to_ristretto255 (expand_message_xmd SHA-512 + RFC 9496 derivation)."""
        return self.from_uniform_bytes(expand_message_xmd(msg, dst, 64))

    def from_uniform_bytes(self, data: bytes) -> Element:
        """RFC 9496 §4.3.4 element derivation from 64 uniform bytes."""
        self._check_length(data, 64, "uniform bytes")
        return _RistrettoElement(rbcl.crypto_core_ristretto255_from_hash(bytes(data)))


RISTRETTO255 = Ristretto255()
