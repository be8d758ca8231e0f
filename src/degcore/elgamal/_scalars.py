"""Fixed-length encodings of proof parts: scalar tuples and commitment-carrying proofs (private).

A commitment-carrying proof (Schnorr, DLEQ, range) is encoded as its commitments, then its scalars, each
canonical and fixed-length; decoding checks the length, every element's membership and every
scalar's range, so a decoded proof's equations are safe to put in a :class:`~.batch.Batch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, Self

from degcore.errors import InvalidInput, VerificationFailed
from degcore.groups import Element, Group


def encode_scalars(group: Group, values: tuple[int, ...]) -> bytes:
    """Concatenate the canonical encodings of ``values``."""
    return b"".join(group.encode_scalar(v) for v in values)


def check_reduced(group: Group, values: tuple[int, ...], check: str, subject: str) -> None:
    """Reject proof scalars outside [0, q): (c, v + q) must not verify as a second proof."""
    for v in values:
        if not 0 <= v < group.order:
            raise VerificationFailed(check, subject, "proof scalar not reduced mod q")


def parts_size(group: Group, elements: int, scalars: int) -> int:
    """The encoded length of ``elements`` group elements followed by ``scalars`` scalars."""
    return elements * group.element_bytes + scalars * group.scalar_bytes


def encode_parts(group: Group, elements: tuple[Element, ...], scalars: tuple[int, ...]) -> bytes:
    """``enc(A_1) ‖ … ‖ enc(s_1) ‖ …``: the commitments, then the scalars, all canonical."""
    return b"".join(group.encode(a) for a in elements) + encode_scalars(group, scalars)


def decode_parts(
    group: Group, data: bytes, elements: int, scalars: int, what: str
) -> tuple[tuple[Element, ...], tuple[int, ...]]:
    """Decode :func:`encode_parts` output of exactly that shape (length, membership, range checked)."""
    if not isinstance(data, bytes | bytearray):
        raise InvalidInput(f"{what}: expected bytes, got {type(data).__name__}")
    size = parts_size(group, elements, scalars)
    if len(data) != size:
        raise InvalidInput(f"{what}: expected {size} bytes, got {len(data)}")
    e, s = group.element_bytes, group.scalar_bytes
    cut = elements * e
    try:
        decoded = tuple(group.decode_many(bytes(data[:cut])))
        values = tuple(group.decode_scalar(bytes(data[i : i + s])) for i in range(cut, size, s))
    except InvalidInput as exc:
        raise type(exc)(f"{what}: {exc}") from None
    return decoded, values


def decode_parts_many(
    group: Group, datas: Sequence[bytes], elements: int, scalars: int, what: str
) -> list[tuple[tuple[Element, ...], tuple[int, ...]]]:
    """:func:`decode_parts` of each of ``datas``, every element of all of them in one decoding call.

    Any bad item (length, element or scalar) sends the whole list through :func:`decode_parts`
    one at a time, which names it as the one-by-one reading does.
    """
    size, e, s = parts_size(group, elements, scalars), group.element_bytes, group.scalar_bytes
    cut, order, byteorder = elements * e, group.order, group.scalar_byteorder
    try:
        if any(type(d) is not bytes or len(d) != size for d in datas):
            raise InvalidInput(what)
        points = iter(group.decode_many(b"".join([d[:cut] for d in datas])))
        out = []
        for data in datas:
            values = tuple(int.from_bytes(data[i : i + s], byteorder) for i in range(cut, size, s))
            if any(v >= order for v in values):
                raise InvalidInput(what)
            out.append((tuple(next(points) for _ in range(elements)), values))
        return out
    except InvalidInput:
        return [decode_parts(group, d, elements, scalars, what) for d in datas]


class FixedProof(Protocol):
    """A proof with a fixed-length canonical encoding (what the JSON codecs need of it)."""

    @classmethod
    def encoded_size(cls, group: Group) -> int:
        """The length of :meth:`to_bytes` output in ``group``."""
        ...

    @classmethod
    def from_bytes(cls, group: Group, data: bytes) -> Self:
        """Decode, checking length, membership and range."""
        ...

    @classmethod
    def many_from_bytes(cls, group: Group, datas: Sequence[bytes]) -> list[Self]:
        """:meth:`from_bytes` of each, decoded together; a bad item raises as from_bytes does."""
        ...

    def to_bytes(self, group: Group) -> bytes:
        """The canonical encoding."""
        ...
