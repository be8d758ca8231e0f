"""Prime-order groups behind one protocol (DESIGN.md §3): ristretto255, secp256k1, modp4096."""

from __future__ import annotations

from degcore.errors import UnsupportedFormat
from degcore.groups.base import Element, FixedBase, Group, Scalar

__all__ = ["GROUP_NAMES", "Element", "FixedBase", "Group", "Scalar", "get_group"]

#: The names a manifest may give, in the order degcore prefers them.
GROUP_NAMES = ("ristretto255", "secp256k1", "modp4096")


def get_group(name: str) -> Group:
    """The backend registered under ``name``; an unknown name raises UnsupportedFormat (InvalidInput)."""
    if name == "ristretto255":
        from degcore.groups.ristretto255 import RISTRETTO255

        return RISTRETTO255
    if name == "secp256k1":
        from degcore.groups.secp256k1 import SECP256K1

        return SECP256K1
    if name == "modp4096":
        from degcore.groups.modp import MODP4096

        return MODP4096
    raise UnsupportedFormat(f"unknown group {name!r}; known groups: {', '.join(GROUP_NAMES)}")
