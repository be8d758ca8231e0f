"""Disjunctive Chaum–Pedersen range proofs (docs/architecture.md §2, docs/protocol.md §4.3–4.4).

Statement: the ciphertext (a, b) = (g^r, g^m · h^r) under the key h encrypts some m ∈ [lo, hi].
It is the OR over j ∈ [lo, hi] of the DLEQ statements log_g a = log_h (b / g^j). The compact proof
holds one challenge c_j and one response v_j per j (2·(hi − lo + 1) scalars; 4 for a 0/1 option).

Prover, knowing m and r: for j ≠ m draw c_j, v_j and set A_j = g^v_j · a^c_j,
B_j = h^v_j · (b/g^j)^c_j; for j = m draw u and set A_m = g^u, B_m = h^u. Then
c = H(statement, A_lo, B_lo, …, A_hi, B_hi), c_m = c − Σ_{j≠m} c_j, v_m = u − c_m · r.
Verifier: recompute every A_j, B_j from (c_j, v_j) and accept iff Σ c_j = H(…) (mod q).
Every m does the same number of exponentiations, so total time does not depend on the vote.

:func:`prove` / :func:`verify` (tag ``degcore/2/range``) cover one option, 0..R.
:func:`prove_sum` / :func:`verify_sum` (tag ``degcore/2/sum``) cover a contest: the product of the
option ciphertexts encrypts a total in [min, max]; every option ciphertext is in the transcript.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from degcore.elgamal._scalars import check_reduced, decode_scalars, encode_scalars
from degcore.elgamal.ciphertext import Ciphertext, add
from degcore.elgamal.keys import PublicKey
from degcore.errors import InvalidInput, VerificationFailed
from degcore.groups import Element, Group
from degcore.hashing import Transcript

__all__ = ["RANGE_TAG", "SUM_TAG", "RangeProof", "prove", "prove_sum", "verify", "verify_sum"]

RANGE_TAG = "degcore/2/range"
SUM_TAG = "degcore/2/sum"


@dataclass(frozen=True, slots=True)
class RangeProof:
    """Compact disjunctive proof: ``challenges[i]``, ``responses[i]`` for the value lo + i."""

    challenges: tuple[int, ...]
    responses: tuple[int, ...]

    def to_bytes(self, group: Group) -> bytes:
        """``c_lo ‖ … ‖ c_hi ‖ v_lo ‖ … ‖ v_hi`` as canonical scalars."""
        return encode_scalars(group, self.challenges + self.responses)

    @classmethod
    def from_bytes(cls, group: Group, data: bytes) -> RangeProof:
        """Decode the challenges followed by the responses."""
        values = decode_scalars(group, data, "range proof")
        if len(values) % 2:
            raise InvalidInput("range proof: an odd number of scalars")
        half = len(values) // 2
        return cls(values[:half], values[half:])


def _check_bounds(lo: int, hi: int) -> None:
    if not 0 <= lo <= hi:
        raise InvalidInput(f"range proof: need 0 <= lo <= hi, got [{lo}, {hi}]")


def _start(tag: str, pk: PublicKey, context: bytes, lo: int, hi: int) -> Transcript:
    t = Transcript(tag, pk.group.name, context).element("h", pk.h)
    return t.integer("lo", lo).integer("hi", hi)


def _shifted(group: Group, b: Element, lo: int, hi: int) -> Iterator[tuple[int, Element]]:
    """(j, b / g^j) for j = lo … hi, one division per step and none wasted (lo, hi are public)."""
    current = b if lo == 0 else b / group.exp_g_vartime(lo)
    g = group.generator()
    for j in range(lo, hi + 1):
        yield j, current
        if j < hi:
            current = current / g


def _prove(
    pk: PublicKey, ct: Ciphertext, m: int, r: int, *, lo: int, hi: int, t: Transcript, nonces: Sequence[int]
) -> RangeProof:
    """``nonces`` are u, then (c_j, v_j) for every j ≠ m in order; drawn by the caller."""
    group, q = pk.group, pk.group.order
    draws = iter(nonces)
    u = next(draws)
    cs: list[int] = []
    vs: list[int] = []
    commitments: list[Element] = []
    for j, b_over in _shifted(group, ct.b, lo, hi):
        if j == m:
            cs.append(0)
            vs.append(0)
            commitments += [group.exp_g(u), pk.exp(u)]
        else:
            c_j, v_j = next(draws), next(draws)
            cs.append(c_j)
            vs.append(v_j)
            commitments += [group.exp_g(v_j) * (ct.a**c_j), pk.exp(v_j) * (b_over**c_j)]
    c = t.elements("commitments", commitments).challenge(group)
    k = m - lo
    cs[k] = (c - sum(cs)) % q
    vs[k] = (u - cs[k] * r) % q
    return RangeProof(tuple(cs), tuple(vs))


def _verify(
    pk: PublicKey,
    ct: Ciphertext,
    proof: RangeProof,
    *,
    lo: int,
    hi: int,
    t: Transcript,
    check: str,
    subject: str,
) -> None:
    group = pk.group
    width = hi - lo + 1
    if len(proof.challenges) != width or len(proof.responses) != width:
        raise VerificationFailed(check, subject, f"expected {width} challenges and responses")
    check_reduced(group, proof.challenges + proof.responses, check, subject)
    # Rows (k_g, k_h, k_a, k_b): A_j = g^v_j · a^c_j and B_j = h^v_j · (b / g^j)^c_j. Where rows share
    # their bases, B_j is h^v_j · b^c_j · g^(−j·c_j), all rows over a and b in one call; elsewhere one
    # division per j is cheaper than a power of g, so each j takes its own b / g^j.
    pairs = zip(range(lo, hi + 1), proof.challenges, proof.responses, strict=True)
    if group.shares_rows:
        rows = [row for j, c_j, v_j in pairs for row in ((v_j, 0, c_j, 0), (-j * c_j, v_j, 0, c_j))]
        commitments = group.commitments_vartime(pk.fixed_base, [ct.a, ct.b], rows)
    else:
        commitments = []
        for (_, c_j, v_j), (_, b_over) in zip(pairs, _shifted(group, ct.b, lo, hi), strict=True):
            rows = [(v_j, 0, c_j, 0), (0, v_j, 0, c_j)]
            commitments += group.commitments_vartime(pk.fixed_base, [ct.a, b_over], rows)
    if t.elements("commitments", commitments).challenge(group) != sum(proof.challenges) % group.order:
        raise VerificationFailed(check, subject, "challenges do not sum to the hash of the statement")


def _draw(pk: PublicKey, width: int) -> list[int]:
    return [pk.group.random_scalar() for _ in range(2 * width - 1)]


def prove(
    pk: PublicKey, ct: Ciphertext, m: int, r: int, *, lo: int = 0, hi: int, context: bytes
) -> RangeProof:
    """Prove that ``ct`` = Enc(m; r) encrypts a value in [lo, hi] (0..R for an option)."""
    _check_bounds(lo, hi)
    if not lo <= m <= hi:
        raise InvalidInput(f"cannot prove {m} lies in [{lo}, {hi}]")
    t = _start(RANGE_TAG, pk, context, lo, hi).element("a", ct.a).element("b", ct.b)
    return _prove(pk, ct, m, r, lo=lo, hi=hi, t=t, nonces=_draw(pk, hi - lo + 1))


def verify(
    pk: PublicKey,
    ct: Ciphertext,
    proof: RangeProof,
    *,
    lo: int = 0,
    hi: int,
    context: bytes,
    subject: str = "",
) -> None:
    """Check that ``ct`` encrypts a value in [lo, hi]; raise VerificationFailed("range") otherwise."""
    _check_bounds(lo, hi)
    t = _start(RANGE_TAG, pk, context, lo, hi).element("a", ct.a).element("b", ct.b)
    _verify(pk, ct, proof, lo=lo, hi=hi, t=t, check="range", subject=subject)


def _public_sum(group: Group, cts: Sequence[Ciphertext]) -> Ciphertext:
    """The homomorphic sum of public ciphertexts as two multi-exponentiations by ones (one call each)."""
    ones = [1] * len(cts)
    return Ciphertext(group.multi_exp([c.a for c in cts], ones), group.multi_exp([c.b for c in cts], ones))


def _start_sum(
    pk: PublicKey,
    cts: Sequence[Ciphertext],
    context: bytes,
    lo: int,
    hi: int,
    *,
    sum_of: Callable[[Group, Sequence[Ciphertext]], Ciphertext] = add,
) -> tuple[Ciphertext, Transcript]:
    total = sum_of(pk.group, cts)
    t = _start(SUM_TAG, pk, context, lo, hi).elements("options", [e for c in cts for e in (c.a, c.b)])
    return total, t.element("a", total.a).element("b", total.b)


def prove_sum(
    pk: PublicKey, cts: Sequence[Ciphertext], total: int, r_total: int, *, lo: int, hi: int, context: bytes
) -> RangeProof:
    """Prove that the product of ``cts`` (whose nonces sum to ``r_total``) encrypts ``total`` ∈ [lo, hi]."""
    _check_bounds(lo, hi)
    if not lo <= total <= hi:
        raise InvalidInput(f"cannot prove the total {total} lies in [{lo}, {hi}]")
    product, t = _start_sum(pk, cts, context, lo, hi)
    r = r_total % pk.group.order
    return _prove(pk, product, total, r, lo=lo, hi=hi, t=t, nonces=_draw(pk, hi - lo + 1))


def verify_sum(
    pk: PublicKey,
    cts: Sequence[Ciphertext],
    proof: RangeProof,
    *,
    lo: int,
    hi: int,
    context: bytes,
    subject: str = "",
) -> None:
    """Check that the product of ``cts`` encrypts a total in [lo, hi]; raise VerificationFailed("sum")."""
    _check_bounds(lo, hi)
    product, t = _start_sum(pk, cts, context, lo, hi, sum_of=_public_sum)
    _verify(pk, product, proof, lo=lo, hi=hi, t=t, check="sum", subject=subject)
