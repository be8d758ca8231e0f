"""Re-encryption shuffles of lists of ciphertext vectors (CHVote GenShuffle, GenPermutation, GenReEncryption).

docs/mixnet.md §1. A ballot row is a tuple of w ≥ 1 ciphertexts. The shuffle draws a uniform
permutation ψ and fresh randomness r_{i,k}, re-encrypts every row and outputs
ẽ_i = ReEnc(e_{ψ(i)}; r_{ψ(i)}). Our ciphertexts are (a, b) = (g^r, g^m h^r) (CHVote writes the
pair in the other order), so ReEnc((a, b); s) = (a·g^s, b·h^s).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from degcore.elgamal import Ciphertext, PublicKey
from degcore.errors import InvalidInput
from degcore.parallel import map_chunks

__all__ = ["Row", "ShuffleSecrets", "check_rows", "permutation", "shuffle"]

Row = tuple[Ciphertext, ...]


def check_rows(group_rows: Sequence[Row], what: str = "input") -> int:
    """The common width of ``group_rows``; InvalidInput if empty or ragged."""
    if not group_rows:
        raise InvalidInput(f"{what}: a shuffle needs at least one row")
    width = len(group_rows[0])
    if width < 1:
        raise InvalidInput(f"{what}: rows need at least one ciphertext")
    for i, row in enumerate(group_rows):
        if len(row) != width:
            raise InvalidInput(f"{what}: row {i} has {len(row)} ciphertexts, row 0 has {width}")
    return width


def permutation(n: int) -> list[int]:
    """A uniform permutation of range(n) (Fisher–Yates with the OS's CSPRNG)."""
    psi = list(range(n))
    for i in range(n - 1, 0, -1):
        j = secrets.randbelow(i + 1)
        psi[i], psi[j] = psi[j], psi[i]
    return psi


@dataclass(frozen=True, slots=True, repr=False)
class ShuffleSecrets:
    """The prover's witness: the permutation and the re-encryption randomness (by input row)."""

    psi: tuple[int, ...]
    randomness: tuple[tuple[int, ...], ...]

    def __repr__(self) -> str:
        return "ShuffleSecrets(<secret>)"


def _reencrypt_chunk(pk: PublicKey, items: Sequence[tuple[Row, tuple[int, ...]]]) -> list[Row]:
    group = pk.group
    return [
        tuple(Ciphertext(ct.a * group.exp_g(s), ct.b * pk.exp(s)) for ct, s in zip(row, nonces, strict=True))
        for row, nonces in items
    ]


def shuffle(
    pk: PublicKey, rows: Sequence[Row], *, executor: Executor | None = None
) -> tuple[list[Row], ShuffleSecrets]:
    """Permute and re-encrypt ``rows`` (on ``executor``); the output and the witness for ``prove``."""
    width = check_rows(rows)
    group = pk.group
    n = len(rows)
    psi = permutation(n)
    randomness = tuple(tuple(group.random_scalar() for _ in range(width)) for _ in range(n))
    work = functools.partial(_reencrypt_chunk, pk)
    reencrypted = map_chunks(work, list(zip(rows, randomness, strict=True)), executor=executor)
    return [reencrypted[psi[i]] for i in range(n)], ShuffleSecrets(tuple(psi), randomness)
