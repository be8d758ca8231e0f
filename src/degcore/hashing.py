"""Domain-separated hashing and the Fiat–Shamir transcript (docs/protocol.md §2).

Everything degcore hashes for a proof goes through :class:`Transcript`: a domain tag
``degcore/4/<proof>``, the group name and the context hash open it, then typed, length-prefixed
fields follow, so no two different statements can produce the same hashed bytes.

The uniform hashes are RFC 9380 ``expand_message_xmd`` with SHA-512:

* ``hash_to_scalar(msg, dst, field) = OS2IP(expand_message_xmd(msg, dst, 64)) mod q`` — 512 bits
  reduced mod a q below 2^256, so the bias is below 2^-256. The 64 bytes are read in the byte order
  of the group's scalars (little-endian for ristretto255, as RFC 9497's HashToScalar does;
  big-endian otherwise);
* a transcript's challenge is ``hash_to_scalar(framed_fields, tag, field)``.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from typing import Literal, Protocol

from degcore.errors import InvalidInput

__all__ = [
    "SCALAR_HASH_BYTES",
    "ScalarField",
    "SupportsBytes",
    "Transcript",
    "expand_message_xmd",
    "hash_to_scalar",
    "sha256",
]

#: Bytes of uniform output reduced mod q in :func:`hash_to_scalar` (RFC 9497 uses 64 for ristretto255).
SCALAR_HASH_BYTES = 64

_XMD_HASH = hashlib.sha512
_XMD_OUT = 64  # b_in_bytes of SHA-512
_XMD_BLOCK = 128  # s_in_bytes of SHA-512

# One-byte type codes of transcript fields (docs/protocol.md §2.2).
_T_BYTES = b"B"
_T_TEXT = b"T"
_T_INT = b"I"
_T_ELEMENT = b"E"
_T_SCALAR = b"S"


class SupportsBytes(Protocol):
    """Anything with a canonical byte form: group elements implement ``__bytes__`` as ``encode``."""

    def __bytes__(self) -> bytes: ...


class ScalarField(Protocol):
    """The scalar field of a group, as hashing needs it: the prime order and the scalars' byte order."""

    order: int
    scalar_byteorder: Literal["big", "little"]


def sha256(*parts: bytes) -> bytes:
    """SHA-256 of the length-prefixed concatenation of ``parts`` (never plain concatenation)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.digest()


def _xmd_start(dst: bytes) -> hashlib._Hash:
    if len(dst) > 255:
        raise InvalidInput(f"domain separation tag longer than 255 bytes ({len(dst)})")
    h = _XMD_HASH()
    h.update(bytes(_XMD_BLOCK))  # Z_pad
    return h


def _xmd_finish(h: hashlib._Hash, dst: bytes, length: int) -> bytes:
    """Finish RFC 9380 §5.3.1 given a hash already fed ``Z_pad || msg``."""
    b0_suffix, b1_suffix, dst_prime = _xmd_suffixes(dst, length)
    h.update(b0_suffix)
    b0 = h.digest()
    b_prev = _XMD_HASH(b0 + b1_suffix).digest()
    if length <= _XMD_OUT:  # a scalar's 64 bytes: b_1 is all of it
        return b_prev[:length]
    out = [b_prev]
    for i in range(2, -(-length // _XMD_OUT) + 1):
        mixed = bytes(x ^ y for x, y in zip(b0, b_prev, strict=True))
        b_prev = _XMD_HASH(mixed + bytes([i]) + dst_prime).digest()
        out.append(b_prev)
    return b"".join(out)[:length]


@functools.lru_cache(maxsize=256)
def _xmd_suffixes(dst: bytes, length: int) -> tuple[bytes, bytes, bytes]:
    """What follows ``msg`` in b_0 (``l_i_b_str || 0 || DST'``), what follows b_0 in b_1 (``1 || DST'``),
    and DST' itself: the same for every transcript of a tag."""
    ell = -(-length // _XMD_OUT)
    if ell > 255 or length > 65535 or length <= 0:
        raise InvalidInput(f"expand_message_xmd cannot produce {length} bytes")
    dst_prime = dst + bytes([len(dst)])
    return length.to_bytes(2, "big") + b"\x00" + dst_prime, b"\x01" + dst_prime, dst_prime


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1 expand_message_xmd with SHA-512."""
    h = _xmd_start(dst)
    h.update(msg)
    return _xmd_finish(h, dst, length)


def _reduce(uniform: bytes, field: ScalarField) -> int:
    """Read uniform bytes in the field's byte order and reduce them mod its order."""
    return int.from_bytes(uniform, field.scalar_byteorder) % field.order


def hash_to_scalar(msg: bytes, dst: bytes, field: ScalarField) -> int:
    """A uniform scalar of ``field`` from ``msg`` under ``dst``, without modulo bias."""
    return _reduce(expand_message_xmd(msg, dst, SCALAR_HASH_BYTES), field)


@functools.lru_cache(maxsize=1024)
def _frame(kind: bytes, label: str) -> bytes:
    """``type || u32(len(label)) || label``: a field's framing up to its value (labels repeat)."""
    name = label.encode()
    return kind + len(name).to_bytes(4, "big") + name


@functools.lru_cache(maxsize=64)
def _frames(label: str, count: int) -> tuple[bytes, tuple[bytes, ...]]:
    """A list's length field (``label.len`` = count) and the framings of ``label[0]`` … as element
    fields: lists repeat their shapes."""
    names = (f"{label}[{i}]".encode() for i in range(count))
    length = _framed(_T_INT, f"{label}.len", _integer(label, count))
    return length, tuple(_T_ELEMENT + _length(name) + name for name in names)


def _length(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big")


def _framed(kind: bytes, label: str, value: bytes) -> bytes:
    """One field as the transcript hashes it: its framing, ``u32(len(value))``, then the value."""
    return _frame(kind, label) + _length(value) + value


def _integer(label: str, value: int) -> bytes:
    """An integer field's value: 8 bytes big-endian, for 0 ≤ value < 2^64 only."""
    if not 0 <= value < 1 << 64:
        raise InvalidInput(f"transcript integer {label!r} out of range: {value}")
    return value.to_bytes(8, "big")


@functools.lru_cache(maxsize=64)
def _header(protocol: str, group_name: str) -> hashlib._Hash:
    """The hash state after a transcript's first two fields (copied, never updated: tags repeat)."""
    h = _xmd_start(protocol.encode())
    for label, value in (("protocol", protocol), ("group", group_name)):
        h.update(_framed(_T_TEXT, label, value.encode()))
    return h


class Fields:
    """Framed transcript fields written once and appended to many transcripts (a statement's fixed part).

    ``Transcript(...).fields(f)`` hashes exactly what the same ``element``/``integer`` calls would.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes = b"") -> None:
        self.data = data

    def element(self, label: str, value: SupportsBytes) -> Fields:
        """These fields and an element, as :meth:`Transcript.element` frames it."""
        return Fields(self.data + _framed(_T_ELEMENT, label, bytes(value)))

    def integer(self, label: str, value: int) -> Fields:
        """These fields and an integer below 2^64, as :meth:`Transcript.integer` frames it."""
        return Fields(self.data + _framed(_T_INT, label, _integer(label, value)))


class Transcript:
    """The Fiat–Shamir transcript of one proof: tag, group, context, then typed fields.

    Field framing: ``type (1 byte) || u32(len(label)) || label || u32(len(value)) || value``,
    lengths big-endian. The header fields are ``T "protocol"``, ``T "group"``, ``B "context"``.
    The hash state is streamed, so large statements (a shuffle of a million ciphertexts) cost no
    memory.
    """

    __slots__ = ("_dst", "_h")

    def __init__(self, protocol: str, group_name: str, context: bytes) -> None:
        # A tag names the format version that last changed its transcript (docs/protocol.md §2).
        if not protocol.startswith("degcore/4/"):
            raise InvalidInput(f"transcript tag must start with 'degcore/4/', got {protocol!r}")
        self._dst = protocol.encode()
        self._h = _header(protocol, group_name).copy()
        self.raw("context", context)

    def copy(self) -> Transcript:
        """An independent transcript with every field so far: a shared prefix is hashed once."""
        twin = Transcript.__new__(Transcript)
        twin._dst, twin._h = self._dst, self._h.copy()
        return twin

    def fields(self, fields: Fields) -> Transcript:
        """Append fields framed once beforehand (:class:`Fields`)."""
        self._h.update(fields.data)
        return self

    def _field(self, kind: bytes, label: str, value: bytes) -> None:
        self._h.update(_framed(kind, label, value))

    def raw(self, label: str, value: bytes) -> Transcript:
        """Append raw bytes."""
        self._field(_T_BYTES, label, value)
        return self

    def text(self, label: str, value: str) -> Transcript:
        """Append a UTF-8 string."""
        self._field(_T_TEXT, label, value.encode())
        return self

    def integer(self, label: str, value: int) -> Transcript:
        """Append a non-negative integer below 2^64 as 8 bytes big-endian (counts, bounds, indices)."""
        self._field(_T_INT, label, _integer(label, value))
        return self

    def element(self, label: str, value: SupportsBytes) -> Transcript:
        """Append a group element by its canonical encoding."""
        self._field(_T_ELEMENT, label, bytes(value))
        return self

    def named_elements(self, *fields: tuple[str, SupportsBytes]) -> Transcript:
        """Append several elements, each under its own label: ``element`` for each, in one update."""
        self._h.update(b"".join([_framed(_T_ELEMENT, label, bytes(value)) for label, value in fields]))
        return self

    def elements(self, label: str, values: Sequence[SupportsBytes]) -> Transcript:
        """Append a list of elements: its length, then each element labelled ``label[i]``."""
        # One hash update for the length and the whole list: the same bytes as a field each.
        length, frames = _frames(label, len(values))
        data = map(bytes, values)
        self._h.update(
            length + b"".join([frame + _length(d) + d for frame, d in zip(frames, data, strict=True)])
        )
        return self

    def scalar(self, label: str, value: bytes) -> Transcript:
        """Append a scalar by its canonical (group-defined) encoding."""
        self._field(_T_SCALAR, label, value)
        return self

    def challenge(self, field: ScalarField) -> int:
        """The challenge: ``hash_to_scalar(all fields so far, tag, field)``; the transcript stays usable."""
        return _reduce(_xmd_finish(self._h.copy(), self._dst, SCALAR_HASH_BYTES), field)
