"""Identifiers used across degcore and the one pattern they must match (docs/architecture.md §1)."""

from __future__ import annotations

import re
from typing import NewType

from degcore.errors import InvalidInput

__all__ = ["ID_PATTERN", "BallotStyleId", "ElectionId", "VoterId", "check_id"]

ElectionId = NewType("ElectionId", str)
BallotStyleId = NewType("BallotStyleId", str)
VoterId = NewType("VoterId", str)

#: Letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters (ASCII only,
#: so ids are safe in file names, URLs and QR alphanumeric payloads once base32-encoded).
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_id(value: object, what: str) -> str:
    """Return ``value`` if it is a well-formed id, else raise InvalidInput naming ``what``."""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise InvalidInput(f"{what}: {value!r} is not a valid id (letters, digits, '.', '_', '-'; ≤ 64)")
    return value
