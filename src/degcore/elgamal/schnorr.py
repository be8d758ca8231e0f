"""Schnorr proof of knowledge of a discrete logarithm (docs/architecture.md §2, docs/protocol.md §4.1).

PK{(x): X = g^x}. Prover: u ←$ Z_q, A = g^u, c = H(X, A), v = u − c·x mod q.
Verifier: A' = g^v · X^c, accept iff c = H(X, A') and 0 ≤ c, v < q.

Transcript (tag ``degcore/3/schnorr``): protocol, group, context, ``E "X"``, ``E "A"``.
"""

from __future__ import annotations

from dataclasses import dataclass

from degcore.elgamal._scalars import ChallengeResponse, check_reduced
from degcore.errors import VerificationFailed
from degcore.groups import Element, Group
from degcore.hashing import Transcript

__all__ = ["TAG", "SchnorrProof", "prove", "verify"]

TAG = "degcore/3/schnorr"


@dataclass(frozen=True, slots=True)
class SchnorrProof(ChallengeResponse):
    """Compact Schnorr proof: challenge ``c`` and response ``v``."""


def _challenge(group: Group, context: bytes, x_pub: Element, commitment: Element) -> int:
    return Transcript(TAG, group.name, context).element("X", x_pub).element("A", commitment).challenge(group)


def _prove_with_nonce(group: Group, x: int, context: bytes, u: int) -> SchnorrProof:
    c = _challenge(group, context, group.exp_g(x), group.exp_g(u))
    return SchnorrProof(c, (u - c * x) % group.order)


def prove(group: Group, x: int, context: bytes) -> SchnorrProof:
    """Prove knowledge of ``x`` for X = g^x, bound to ``context``."""
    return _prove_with_nonce(group, x, context, group.random_scalar())


def verify(group: Group, x_pub: Element, proof: SchnorrProof, context: bytes, subject: str = "") -> None:
    """Check a proof of knowledge of log_g ``x_pub``; raise VerificationFailed("schnorr") if it fails."""
    check_reduced(group, (proof.c, proof.v), "schnorr", subject)
    commitment = group.exp_g_multi_vartime(proof.v, [x_pub], [proof.c])
    if _challenge(group, context, x_pub, commitment) != proof.c:
        raise VerificationFailed("schnorr", subject, "challenge does not match the statement")
