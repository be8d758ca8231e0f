"""Prime-order groups behind one protocol (docs/architecture.md §3): ristretto255, secp256k1, modp4096."""

from __future__ import annotations

from degcore.errors import UnsupportedFormat
from degcore.groups.base import Element, FixedBase, Group, Scalar
from degcore.groups.modp import MODP4096
from degcore.groups.p256 import P256
from degcore.groups.ristretto255 import RISTRETTO255
from degcore.groups.secp256k1 import SECP256K1

__all__ = ["GROUP_NAMES", "Element", "FixedBase", "Group", "Scalar", "get_group"]

_GROUPS: dict[str, Group] = {g.name: g for g in (RISTRETTO255, SECP256K1, MODP4096, P256)}

#: The names a manifest may give, in the order degcore prefers them.
GROUP_NAMES = tuple(_GROUPS)


def get_group(name: str) -> Group:
    """The backend registered under ``name``; an unknown name raises UnsupportedFormat (InvalidInput)."""
    try:
        return _GROUPS[name]
    except (KeyError, TypeError):
        raise UnsupportedFormat(f"unknown group {name!r}; known groups: {', '.join(GROUP_NAMES)}") from None
