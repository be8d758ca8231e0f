"""Chaum–Pedersen proof of equal discrete logarithms (docs/architecture.md §2, docs/protocol.md §4.2).

PK{(x): y1 = g1^x ∧ y2 = g2^x}. Prover: u ←$ Z_q, A1 = g1^u, A2 = g2^u, c = H(g1, y1, g2, y2, A1, A2),
v = u − c·x mod q. Verifier: A1' = g1^v · y1^c, A2' = g2^v · y2^c; accept iff c = H(…, A1', A2')
and 0 ≤ c, v < q. With g1 = g, y1 = a trustee's key, g2 = a ciphertext's a and y2 = a^x this is
the proof of a correct (partial) decryption.

Transcript (tag ``degcore/3/dleq``): protocol, group, context, ``E g1, E y1, E g2, E y2, E A1, E A2``.
"""

from __future__ import annotations

from dataclasses import dataclass

from degcore.elgamal._scalars import ChallengeResponse, check_reduced
from degcore.errors import VerificationFailed
from degcore.groups import Element, Group
from degcore.hashing import Transcript

__all__ = ["TAG", "DleqProof", "DleqStatement", "prove", "verify"]

TAG = "degcore/3/dleq"


@dataclass(frozen=True, slots=True)
class DleqStatement:
    """The public statement: y1 = g1^x and y2 = g2^x for the same x."""

    g1: Element
    y1: Element
    g2: Element
    y2: Element


@dataclass(frozen=True, slots=True)
class DleqProof(ChallengeResponse):
    """Compact Chaum–Pedersen proof: challenge ``c`` and response ``v``."""


def _pow_secret(group: Group, base: Element, k: int) -> Element:
    return group.exp_g(k) if base == group.generator() else group.exp(base, k)


def _commitment(group: Group, base: Element, v: int, y: Element, c: int) -> Element:
    """base^v · y^c for the public v, c of a proof, in one pass where the backend can."""
    if base == group.generator():
        return group.exp_g_multi_vartime(v, [y], [c])
    return group.multi_exp([base, y], [v, c])


def _challenge(group: Group, context: bytes, st: DleqStatement, a1: Element, a2: Element) -> int:
    t = Transcript(TAG, group.name, context)
    t.element("g1", st.g1).element("y1", st.y1).element("g2", st.g2).element("y2", st.y2)
    return t.element("A1", a1).element("A2", a2).challenge(group)


def _prove_with_nonce(group: Group, x: int, st: DleqStatement, context: bytes, u: int) -> DleqProof:
    c = _challenge(group, context, st, _pow_secret(group, st.g1, u), _pow_secret(group, st.g2, u))
    return DleqProof(c, (u - c * x) % group.order)


def prove(group: Group, x: int, st: DleqStatement, context: bytes) -> DleqProof:
    """Prove log_g1 y1 = log_g2 y2 = ``x``, bound to ``context``."""
    return _prove_with_nonce(group, x, st, context, group.random_scalar())


def verify(group: Group, st: DleqStatement, proof: DleqProof, context: bytes, subject: str = "") -> None:
    """Check the proof; raise VerificationFailed("dleq") naming ``subject`` if it fails."""
    check_reduced(group, (proof.c, proof.v), "dleq", subject)
    a1 = _commitment(group, st.g1, proof.v, st.y1, proof.c)
    a2 = _commitment(group, st.g2, proof.v, st.y2, proof.c)
    if _challenge(group, context, st, a1, a2) != proof.c:
        raise VerificationFailed("dleq", subject, "challenge does not match the statement")
