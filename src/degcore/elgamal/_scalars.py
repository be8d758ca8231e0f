"""Fixed-length encodings of the scalar tuples that make up compact proofs (private)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from degcore.errors import InvalidInput, VerificationFailed
from degcore.groups import Group


def encode_scalars(group: Group, values: tuple[int, ...]) -> bytes:
    """Concatenate the canonical encodings of ``values``."""
    return b"".join(group.encode_scalar(v) for v in values)


def decode_scalars(group: Group, data: bytes, what: str) -> tuple[int, ...]:
    """Split ``data`` into canonical scalars; the length must be a positive multiple of the scalar size."""
    n = group.scalar_bytes
    if not data or len(data) % n:
        raise InvalidInput(f"{what}: {len(data)} bytes is not a whole number of {n}-byte scalars")
    return tuple(group.decode_scalar(data[i : i + n]) for i in range(0, len(data), n))


def check_reduced(group: Group, values: tuple[int, ...], check: str, subject: str) -> None:
    """Reject proof scalars outside [0, q): (c, v + q) must not verify as a second proof."""
    for v in values:
        if not 0 <= v < group.order:
            raise VerificationFailed(check, subject, "proof scalar not reduced mod q")


@dataclass(frozen=True, slots=True)
class ChallengeResponse:
    """The compact form shared by Schnorr and DLEQ proofs: challenge ``c`` and response ``v``."""

    c: int
    v: int

    def to_bytes(self, group: Group) -> bytes:
        """``c ‖ v`` as canonical scalars."""
        return encode_scalars(group, (self.c, self.v))

    @classmethod
    def from_bytes(cls, group: Group, data: bytes) -> Self:
        """Decode ``c ‖ v``."""
        values = decode_scalars(group, data, cls.__name__)
        if len(values) != 2:
            raise InvalidInput(f"{cls.__name__}: expected 2 scalars, got {len(values)}")
        return cls(*values)
