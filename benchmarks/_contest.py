"""A ballot-shaped workload: one contest of five options, 0/1 proofs plus the contest-sum proof.

This stands in for the ballot layer until ``degcore.ballot`` exists; it uses only public API.
"""

from __future__ import annotations

from dataclasses import dataclass

from degcore.elgamal import Ciphertext, PublicKey, disjunctive, encrypt_revealable
from degcore.elgamal.batch import Batch

VOTES = (1, 0, 0, 1, 0)
MIN_SELECTIONS, MAX_SELECTIONS = 1, 2


@dataclass(frozen=True)
class EncryptedContest:
    """The wire form of one contest: option ciphertexts and proof bytes."""

    ciphertexts: tuple[bytes, ...]
    proofs: tuple[bytes, ...]
    sum_proof: bytes


def encrypt_contest(pk: PublicKey, context: bytes) -> EncryptedContest:
    """Encrypt VOTES with a 0/1 proof per option and a [min, max] proof on the total."""
    pairs = [encrypt_revealable(pk, v) for v in VOTES]
    cts = [c for c, _ in pairs]
    proofs = [
        disjunctive.prove(pk, c, v, r, hi=1, context=context).to_bytes(pk.group)
        for (c, r), v in zip(pairs, VOTES, strict=True)
    ]
    total = disjunctive.prove_sum(
        pk, cts, sum(VOTES), sum(r for _, r in pairs), lo=MIN_SELECTIONS, hi=MAX_SELECTIONS, context=context
    )
    return EncryptedContest(tuple(bytes(c) for c in cts), tuple(proofs), total.to_bytes(pk.group))


def verify_contest(pk: PublicKey, contest: EncryptedContest, context: bytes) -> None:
    """Decode everything from bytes (membership checks included) and verify every proof as one batch.

    As ``verify_ballot`` does: every proof's equations go into one batch (docs/protocol.md §4.5).
    """
    group = pk.group
    cts = [Ciphertext.decode(group, c) for c in contest.ciphertexts]
    batch = Batch(group)
    for i, (ct, proof) in enumerate(zip(cts, contest.proofs, strict=True)):
        disjunctive.equations(
            pk,
            ct,
            disjunctive.RangeProof.from_bytes(group, proof),
            hi=1,
            context=context,
            subject=f"option {i}",
            batch=batch,
        )
    total = disjunctive.RangeProof.from_bytes(group, contest.sum_proof)
    disjunctive.sum_equations(
        pk, cts, total, lo=MIN_SELECTIONS, hi=MAX_SELECTIONS, context=context, batch=batch
    )
    batch.verify()
