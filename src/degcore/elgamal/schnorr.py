"""Schnorr proof of knowledge of a discrete logarithm (docs/architecture.md §2, docs/protocol.md §4.1).

PK{(x): X = g^x}. Prover: u ←$ Z_q, A = g^u, c = H(X, A), v = u − c·x mod q; the proof is (A, v).
Verifier: A and X are group members, 0 ≤ v < q, c = H(X, A), and the equation A^-1 · g^v · X^c = 1
holds. The equation is linear in the public values, so many proofs are checked at once as one
:class:`~degcore.elgamal.batch.Batch` (docs/protocol.md §4.5).

Transcript (tag ``degcore/4/schnorr``): protocol, group, context, ``E "X"``, ``E "A"``.
Encoding: ``enc(A) ‖ enc(v)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from degcore.elgamal._scalars import check_reduced, decode_parts, decode_parts_many, encode_parts, parts_size
from degcore.elgamal.batch import Batch
from degcore.errors import VerificationFailed
from degcore.groups import Element, Group
from degcore.hashing import Transcript

__all__ = ["TAG", "SchnorrProof", "equations", "prove", "verify"]

TAG = "degcore/4/schnorr"

#: What a failed equation is called in a batch failure.
EQUATION = "g^v · X^c = A"


@dataclass(frozen=True, slots=True)
class SchnorrProof:
    """Commitment-carrying Schnorr proof."""

    A: Element
    """The commitment A = g^u."""
    v: int
    """The response v = u − c·x mod q."""

    @classmethod
    def encoded_size(cls, group: Group) -> int:
        """Bytes of ``enc(A) ‖ enc(v)`` in ``group``."""
        return parts_size(group, 1, 1)

    def to_bytes(self, group: Group) -> bytes:
        """``enc(A) ‖ enc(v)``, canonical."""
        return encode_parts(group, (self.A,), (self.v,))

    @classmethod
    def from_bytes(cls, group: Group, data: bytes) -> Self:
        """Decode ``enc(A) ‖ enc(v)``: exact length, A a member, v < q; else InvalidInput."""
        (a,), (v,) = decode_parts(group, data, 1, 1, "Schnorr proof")
        return cls(a, v)

    @classmethod
    def many_from_bytes(cls, group: Group, datas: Sequence[bytes]) -> list[Self]:
        """:meth:`from_bytes` of each, every commitment in one decoding call."""
        return [cls(a, v) for (a,), (v,) in decode_parts_many(group, datas, 1, 1, "Schnorr proof")]


def _challenge(group: Group, context: bytes, x_pub: Element, commitment: Element) -> int:
    return Transcript(TAG, group.name, context).element("X", x_pub).element("A", commitment).challenge(group)


def _prove_with_nonce(group: Group, x: int, context: bytes, u: int) -> SchnorrProof:
    a = group.exp_g(u)
    c = _challenge(group, context, group.exp_g(x), a)
    return SchnorrProof(a, (u - c * x) % group.order)


def prove(group: Group, x: int, context: bytes) -> SchnorrProof:
    """Prove knowledge of ``x`` for X = g^x, bound to ``context``."""
    return _prove_with_nonce(group, x, context, group.random_scalar())


def equations(  # noqa: PLR0917 - verify's arguments, then the batch to add to
    group: Group, x_pub: Element, proof: SchnorrProof, context: bytes, subject: str, batch: Batch
) -> None:
    """Add the proof's equation A^-1 · g^v · X^c = 1 to ``batch``, labelled ("schnorr", subject)."""
    check_reduced(group, (proof.v,), "schnorr", subject)
    c = _challenge(group, context, x_pub, proof.A)
    # Written A · g^-v · X^-c = 1, so that the commitment's batch exponent is its 128-bit weight.
    batch.add(("schnorr", subject, EQUATION), [(proof.A, 1), (group.generator(), -proof.v), (x_pub, -c)])


def verify(group: Group, x_pub: Element, proof: SchnorrProof, context: bytes, subject: str = "") -> None:
    """Check a proof of knowledge of log_g ``x_pub``; raise VerificationFailed("schnorr") if it fails."""
    check_reduced(group, (proof.v,), "schnorr", subject)
    c = _challenge(group, context, x_pub, proof.A)
    if group.exp_g_multi_vartime(proof.v, [x_pub], [c]) != proof.A:  # the equation, without a batch
        raise VerificationFailed("schnorr", subject, f"{EQUATION} does not hold")
