"""Prime-order groups behind one protocol (docs/architecture.md §3): ristretto255, secp256k1, modp4096, P-256.

A backend's module is imported on first use: each brings its own libraries (rbcl, coincurve,
gmpy2, pycryptodome), and a verifier of a ristretto255 record should not start by loading all four.
"""

from __future__ import annotations

import importlib

from degcore.errors import UnsupportedFormat
from degcore.groups.base import Element, FixedBase, Group, Scalar

__all__ = ["GROUP_NAMES", "Element", "FixedBase", "Group", "Scalar", "get_group"]

# name → (module, the instance's name in it), in the order degcore prefers them.
_BACKENDS = {
    "ristretto255": ("degcore.groups.ristretto255", "RISTRETTO255"),
    "secp256k1": ("degcore.groups.secp256k1", "SECP256K1"),
    "modp4096": ("degcore.groups.modp", "MODP4096"),
    "p256": ("degcore.groups.p256", "P256"),
}

#: The names a manifest may give, in the order degcore prefers them.
GROUP_NAMES = tuple(_BACKENDS)


def get_group(name: str) -> Group:
    """The backend registered under ``name``; an unknown name raises UnsupportedFormat (InvalidInput)."""
    try:
        module, instance = _BACKENDS[name]
    except (KeyError, TypeError):
        raise UnsupportedFormat(f"unknown group {name!r}; known groups: {', '.join(GROUP_NAMES)}") from None
    group: Group = getattr(importlib.import_module(module), instance)
    return group
