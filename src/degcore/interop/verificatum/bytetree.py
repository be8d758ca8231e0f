"""Verificatum byte trees (VMNV §4): the only binary format of a Verificatum proof directory.

A byte tree is a leaf ``01 ‖ u32(len) ‖ data`` or a node ``00 ‖ u32(n) ‖ child_1 ‖ … ‖ child_n``,
lengths big-endian. Parsing is strict: trailing bytes, a length that runs past the end, an unknown
tag or a tree nested deeper than :data:`MAX_DEPTH` are :class:`~degcore.errors.InvalidInput`, so
two different byte strings never parse to the same tree (they are hashed into the challenges).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from degcore.errors import InvalidInput

__all__ = [
    "MAX_DEPTH",
    "ByteTree",
    "Leaf",
    "Node",
    "children",
    "leaf",
    "leaf_data",
    "node",
    "parse",
    "uint_leaf",
]

#: Deeper trees are refused (the deepest in a proof directory is 4: width > 1 ciphertext arrays).
MAX_DEPTH = 16


@dataclass(frozen=True, slots=True)
class Leaf:
    """A leaf: raw bytes."""

    data: bytes

    def to_bytes(self) -> bytes:
        """``01 ‖ u32(len) ‖ data``."""
        return b"\x01" + len(self.data).to_bytes(4, "big") + self.data


@dataclass(frozen=True, slots=True)
class Node:
    """A node: an ordered list of children."""

    children: tuple[ByteTree, ...]

    def to_bytes(self) -> bytes:
        """``00 ‖ u32(n) ‖ children``."""
        return b"\x00" + len(self.children).to_bytes(4, "big") + b"".join(c.to_bytes() for c in self.children)


ByteTree = Leaf | Node


def leaf(data: bytes | str) -> Leaf:
    """A leaf of raw bytes, or of a string's UTF-8 bytes."""
    return Leaf(data.encode() if isinstance(data, str) else bytes(data))


def uint_leaf(value: int) -> Leaf:
    """A 4-byte big-endian integer leaf (Verificatum's ``ByteTree.intToByteTree``)."""
    return Leaf(value.to_bytes(4, "big"))


def node(*children: ByteTree | Sequence[ByteTree]) -> Node:
    """A node of the given children (a single list argument is taken as the children)."""
    if len(children) == 1 and isinstance(children[0], list | tuple):
        return Node(tuple(children[0]))
    return Node(tuple(c for c in children if isinstance(c, Leaf | Node)))


def parse(data: bytes, what: str = "byte tree") -> ByteTree:
    """Parse ``data`` as exactly one byte tree; InvalidInput names ``what`` and the offset."""
    data = bytes(data)
    tree, end = _parse_at(data, 0, 0, what)
    if end != len(data):
        raise InvalidInput(f"{what}: {len(data) - end} trailing bytes after the byte tree (offset {end})")
    return tree


def _parse_at(data: bytes, offset: int, depth: int, what: str) -> tuple[ByteTree, int]:
    if depth > MAX_DEPTH:
        raise InvalidInput(f"{what}: byte tree nested deeper than {MAX_DEPTH} levels")
    if offset + 5 > len(data):
        raise InvalidInput(f"{what}: truncated byte tree header at offset {offset}")
    tag, count = data[offset], int.from_bytes(data[offset + 1 : offset + 5], "big")
    offset += 5
    if tag == 1:
        if offset + count > len(data):
            raise InvalidInput(f"{what}: leaf of {count} bytes runs past the end (offset {offset})")
        return Leaf(data[offset : offset + count]), offset + count
    if tag != 0:
        raise InvalidInput(f"{what}: unknown byte tree tag {tag:#04x} at offset {offset - 5}")
    # Every child takes at least 5 bytes: a count beyond that is malformed, not a reason to loop.
    if count * 5 > len(data) - offset:
        raise InvalidInput(f"{what}: node claims {count} children, more than the data holds")
    children = []
    for _ in range(count):
        child, offset = _parse_at(data, offset, depth + 1, what)
        children.append(child)
    return Node(tuple(children)), offset


def children(tree: ByteTree, what: str, count: int | None = None) -> tuple[ByteTree, ...]:
    """The children of a node (exactly ``count`` of them if given); InvalidInput otherwise."""
    if not isinstance(tree, Node):
        raise InvalidInput(f"{what}: expected a byte tree node, found a leaf")
    if count is not None and len(tree.children) != count:
        raise InvalidInput(f"{what}: expected {count} children, found {len(tree.children)}")
    return tree.children


def leaf_data(tree: ByteTree, what: str, length: int | None = None) -> bytes:
    """The bytes of a leaf (exactly ``length`` of them if given); InvalidInput otherwise."""
    if not isinstance(tree, Leaf):
        raise InvalidInput(f"{what}: expected a byte tree leaf, found a node")
    if length is not None and len(tree.data) != length:
        raise InvalidInput(f"{what}: expected a leaf of {length} bytes, found {len(tree.data)}")
    return tree.data
