"""JSON field codecs for the ceremony and decryption messages (docs/record.md).

Elements and scalars travel as fixed-length lowercase hex; every element is decoded through
:meth:`Group.decode`, so membership is checked at the boundary and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from degcore.elgamal._scalars import FixedProof
from degcore.encoding import from_hex
from degcore.errors import InvalidInput
from degcore.groups import Element, Group

__all__ = ["element_from_hex", "elements_from_hex", "json_list", "proofs_from_hex", "scalar_from_hex"]

P = TypeVar("P", bound=FixedProof)


def element_from_hex(group: Group, value: object, what: str) -> Element:
    """Decode one element from hex (canonical spelling, group membership)."""
    try:
        return group.decode(from_hex(value, group.element_bytes, what))
    except InvalidInput as exc:
        raise type(exc)(f"{what}: {exc}") from None


def scalar_from_hex(group: Group, value: object, what: str) -> int:
    """Decode one canonical scalar from hex."""
    try:
        return group.decode_scalar(from_hex(value, group.scalar_bytes, what))
    except InvalidInput as exc:
        raise type(exc)(f"{what}: {exc}") from None


def json_list(value: object, what: str, length: int | None = None) -> Sequence[object]:
    """``value`` as a JSON array, optionally of exactly ``length`` items."""
    if not isinstance(value, list):
        raise InvalidInput(f"{what}: expected a JSON array, got {type(value).__name__}")
    if length is not None and len(value) != length:
        raise InvalidInput(f"{what}: expected {length} items, got {len(value)}")
    return value


def elements_from_hex(
    group: Group, value: object, what: str, length: int | None = None
) -> tuple[Element, ...]:
    """Decode a JSON array of hex elements."""
    items = json_list(value, what, length)
    try:  # one decoding call for the list; a bad item is then found again, by name, one at a time
        return tuple(group.decode_many(b"".join(from_hex(item, group.element_bytes, what) for item in items)))
    except InvalidInput:
        return tuple(element_from_hex(group, item, f"{what}[{i}]") for i, item in enumerate(items))


def proofs_from_hex(
    cls: type[P], group: Group, value: object, what: str, length: int | None = None
) -> tuple[P, ...]:
    """Decode a JSON array of fixed-length proofs in hex (length, membership and range checked)."""
    size = cls.encoded_size(group)
    datas = [from_hex(item, size, f"{what}[{i}]") for i, item in enumerate(json_list(value, what, length))]
    try:  # one decoding call for the list; a bad item is then found again, by index, one at a time
        return tuple(cls.many_from_bytes(group, datas))
    except InvalidInput:
        pass
    out = []
    for i, data in enumerate(datas):
        try:
            out.append(cls.from_bytes(group, data))
        except InvalidInput as exc:
            raise type(exc)(f"{what}[{i}]: {exc}") from None
    return tuple(out)
