"""Chaum–Pedersen proof of equal discrete logarithms (docs/architecture.md §2, docs/protocol.md §4.2).

PK{(x): y1 = g1^x ∧ y2 = g2^x}. Prover: u ←$ Z_q, A1 = g1^u, A2 = g2^u, c = H(g1, y1, g2, y2, A1, A2),
v = u − c·x mod q; the proof is (A1, A2, v). Verifier: every element is a group member,
0 ≤ v < q, c = H(…, A1, A2), and the two equations A1^-1 · g1^v · y1^c = 1 and
A2^-1 · g2^v · y2^c = 1 hold; many proofs are checked at once as one
:class:`~degcore.elgamal.batch.Batch` (docs/protocol.md §4.5). With g1 = g, y1 = a trustee's
key, g2 = a ciphertext's a and y2 = a^x this is the proof of a correct (partial) decryption.

Transcript (tag ``degcore/4/dleq``): protocol, group, context, ``E g1, E y1, E g2, E y2, E A1, E A2``.
Encoding: ``enc(A1) ‖ enc(A2) ‖ enc(v)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from degcore.elgamal._scalars import check_reduced, decode_parts, decode_parts_many, encode_parts, parts_size
from degcore.elgamal.batch import Batch, random_weights
from degcore.errors import VerificationFailed
from degcore.groups import Element, Group
from degcore.hashing import Transcript

__all__ = ["TAG", "DleqProof", "DleqStatement", "all_hold", "equations", "prove", "verify"]

TAG = "degcore/4/dleq"

#: What each failed equation is called in a batch failure.
EQUATIONS = ("g1^v · y1^c = A1", "g2^v · y2^c = A2")


@dataclass(frozen=True, slots=True)
class DleqStatement:
    """The public statement: y1 = g1^x and y2 = g2^x for the same x."""

    g1: Element
    y1: Element
    g2: Element
    y2: Element


@dataclass(frozen=True, slots=True)
class DleqProof:
    """Commitment-carrying Chaum–Pedersen proof."""

    A1: Element
    """The commitment A1 = g1^u."""
    A2: Element
    """The commitment A2 = g2^u."""
    v: int
    """The response v = u − c·x mod q."""

    def __reduce__(self) -> tuple[object, ...]:
        # Its three parts, without a slotted dataclass's generic state (see Ciphertext.__reduce__).
        return (DleqProof, (self.A1, self.A2, self.v))

    @classmethod
    def encoded_size(cls, group: Group) -> int:
        """Bytes of ``enc(A1) ‖ enc(A2) ‖ enc(v)`` in ``group``."""
        return parts_size(group, 2, 1)

    def to_bytes(self, group: Group) -> bytes:
        """``enc(A1) ‖ enc(A2) ‖ enc(v)``, canonical."""
        return encode_parts(group, (self.A1, self.A2), (self.v,))

    @classmethod
    def from_bytes(cls, group: Group, data: bytes) -> Self:
        """Decode ``enc(A1) ‖ enc(A2) ‖ enc(v)``: exact length, members, v < q; else InvalidInput."""
        (a1, a2), (v,) = decode_parts(group, data, 2, 1, "DLEQ proof")
        return cls(a1, a2, v)

    @classmethod
    def many_from_bytes(cls, group: Group, datas: Sequence[bytes]) -> list[Self]:
        """:meth:`from_bytes` of each, every commitment in one decoding call."""
        return [cls(a1, a2, v) for (a1, a2), (v,) in decode_parts_many(group, datas, 2, 1, "DLEQ proof")]


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
    a1, a2 = _pow_secret(group, st.g1, u), _pow_secret(group, st.g2, u)
    c = _challenge(group, context, st, a1, a2)
    return DleqProof(a1, a2, (u - c * x) % group.order)


def prove(group: Group, x: int, st: DleqStatement, context: bytes) -> DleqProof:
    """Prove log_g1 y1 = log_g2 y2 = ``x``, bound to ``context``."""
    return _prove_with_nonce(group, x, st, context, group.random_scalar())


def equations(  # noqa: PLR0917 - verify's arguments, then the batch to add to
    group: Group, st: DleqStatement, proof: DleqProof, context: bytes, subject: str, batch: Batch
) -> None:
    """Add the proof's two equations A_i^-1 · g_i^v · y_i^c = 1 to ``batch``, labelled ("dleq", subject)."""
    check_reduced(group, (proof.v,), "dleq", subject)
    c = _challenge(group, context, st, proof.A1, proof.A2)
    # Written A · g^-v · y^-c = 1, so that the commitment's batch exponent is its 128-bit weight
    # (as A^-1 it would cost an inversion, and as A^(q-1) a full-length exponent).
    batch.add(("dleq", subject, EQUATIONS[0]), [(proof.A1, 1), (st.g1, -proof.v), (st.y1, -c)])
    batch.add(("dleq", subject, EQUATIONS[1]), [(proof.A2, 1), (st.g2, -proof.v), (st.y2, -c)])


def all_hold(
    group: Group,
    g1: Element,
    y1: Element,
    pairs: Sequence[tuple[Element, Element]],
    proofs: Sequence[DleqProof],
    *,
    context: bytes,
) -> bool:
    """Whether every proof of log_g1 y1 = log_g2 y2, for each (g2, y2) of ``pairs``, holds: one MSM.

    What a :class:`Batch` of :func:`equations` checks, for the common case of one (g1, y1) — a
    trustee's partial decryptions: the transcript's prefix up to y1 is hashed once, and g1 and y1
    enter the multi-exponentiation once. Each equation has its own 128-bit weight from ``secrets``
    (docs/protocol.md §4.5). False, or an unreduced response, sends the caller to :func:`verify`
    one proof at a time, which says which one fails.
    """
    q = group.order
    if len(pairs) != len(proofs):
        return False
    prefix = Transcript(TAG, group.name, context).element("g1", g1).element("y1", y1)
    bases: list[Element] = []
    scalars: list[int] = []
    g1_scalar = y1_scalar = 0
    weights = iter(random_weights(2 * len(proofs)))
    for (g2, y2), proof in zip(pairs, proofs, strict=True):
        if not 0 <= proof.v < q:
            return False
        t = prefix.copy().named_elements(("g2", g2), ("y2", y2), ("A1", proof.A1), ("A2", proof.A2))
        c = t.challenge(group)
        w1, w2 = next(weights), next(weights)
        # w1 · (A1 · g1^-v · y1^-c) and w2 · (A2 · g2^-v · y2^-c), as equations() writes them.
        g1_scalar -= w1 * proof.v
        y1_scalar -= w1 * c
        bases += (proof.A1, proof.A2, g2, y2)
        scalars += (w1, w2, -w2 * proof.v % q, -w2 * c % q)
    bases += (g1, y1)
    scalars += (g1_scalar % q, y1_scalar % q)
    return group.is_identity(group.multi_exp(bases, scalars))


def verify(group: Group, st: DleqStatement, proof: DleqProof, context: bytes, subject: str = "") -> None:
    """Check the proof; raise VerificationFailed("dleq") naming ``subject`` and the false equation."""
    check_reduced(group, (proof.v,), "dleq", subject)
    c = _challenge(group, context, st, proof.A1, proof.A2)
    if _commitment(group, st.g1, proof.v, st.y1, c) != proof.A1:
        raise VerificationFailed("dleq", subject, f"{EQUATIONS[0]} does not hold")
    if _commitment(group, st.g2, proof.v, st.y2, c) != proof.A2:
        raise VerificationFailed("dleq", subject, f"{EQUATIONS[1]} does not hold")
