"""Disjunctive Chaum–Pedersen range proofs (docs/architecture.md §2, docs/protocol.md §4.3–4.4).

Statement: the ciphertext (a, b) = (g^r, g^m · h^r) under the key h encrypts some m ∈ [lo, hi].
It is the OR over j ∈ [lo, hi] of the DLEQ statements log_g a = log_h (b / g^j). The proof carries
its commitments, so that many proofs are checked as one batch (:mod:`degcore.elgamal.batch`):
the 2w commitments A_j, B_j, the challenges c_lo … c_(hi−1) and the w responses v_j, for
w = hi − lo + 1 (7 fields, 224 bytes on ristretto255, for a 0/1 option).

Prover, knowing m and r: for j ≠ m draw c_j, v_j and set A_j = g^v_j · a^c_j,
B_j = h^v_j · (b/g^j)^c_j; for j = m draw u and set A_m = g^u, B_m = h^u. Then
c = H(statement, A_lo, B_lo, …, A_hi, B_hi), c_m = c − Σ_{j≠m} c_j, v_m = u − c_m · r.
Verifier: c_hi = H(…) − Σ_{j<hi} c_j, then every A_j = g^v_j · a^c_j and B_j = h^v_j · (b/g^j)^c_j.
Every m does the same number of exponentiations, so total time does not depend on the vote.

:func:`prove` / :func:`verify` / :func:`equations` (tag ``degcore/4/range``) cover one option, 0..R.
:func:`prove_sum` / :func:`verify_sum` / :func:`sum_equations` (tag ``degcore/4/sum``) cover a
contest: the product of the option ciphertexts encrypts a total in [min, max]; the transcript holds
every option ciphertext (which fix the product), and the verifier never multiplies them out.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from degcore.elgamal._scalars import check_reduced, decode_parts, encode_parts, parts_size
from degcore.elgamal.batch import Batch, Label
from degcore.elgamal.ciphertext import Ciphertext, add
from degcore.elgamal.keys import PublicKey
from degcore.errors import InvalidInput, VerificationFailed
from degcore.groups import Element, Group
from degcore.hashing import Fields, Transcript

__all__ = [
    "RANGE_TAG",
    "SUM_TAG",
    "RangeProof",
    "equations",
    "prove",
    "prove_sum",
    "sum_equations",
    "verify",
    "verify_sum",
]

RANGE_TAG = "degcore/4/range"
SUM_TAG = "degcore/4/sum"


@dataclass(frozen=True, slots=True)
class RangeProof:
    """Commitment-carrying disjunctive proof for the values lo … hi (width w = hi − lo + 1).

    ``commitments`` are A_lo, B_lo, …, A_hi, B_hi; ``challenges`` are c_lo … c_(hi−1) (the last is
    the hash minus their sum); ``responses`` are v_lo … v_hi.
    """

    commitments: tuple[Element, ...]
    challenges: tuple[int, ...]
    responses: tuple[int, ...]
    # The bytes a proof was read from: decoding is strict, so they are exactly what to_bytes writes.
    # Not an __init__ field, so dataclasses.replace (a changed proof) starts without them.
    _encoded: bytes = field(default=b"", init=False, compare=False, repr=False)

    @property
    def width(self) -> int:
        """How many values the proof covers."""
        return len(self.responses)

    def to_bytes(self, group: Group) -> bytes:
        """``A_lo ‖ B_lo ‖ … ‖ A_hi ‖ B_hi ‖ c_lo ‖ … ‖ c_(hi−1) ‖ v_lo ‖ … ‖ v_hi``, canonical encodings."""
        if self._encoded:
            return self._encoded
        return encode_parts(group, self.commitments, self.challenges + self.responses)

    def _read_from(self, data: bytes) -> RangeProof:
        object.__setattr__(self, "_encoded", bytes(data))
        return self

    @classmethod
    def from_bytes(cls, group: Group, data: bytes) -> RangeProof:
        """Decode a proof; its width follows from the length (4w − 1 fields on ristretto255)."""
        width, rest = divmod(len(data) + group.scalar_bytes, parts_size(group, 2, 2))
        if width < 1 or rest:
            raise InvalidInput(f"range proof: {len(data)} bytes is not the size of a proof of any width")
        commitments, values = decode_parts(group, data, 2 * width, 2 * width - 1, "range proof")
        return cls(commitments, values[: width - 1], values[width - 1 :])._read_from(data)

    @classmethod
    def many_from_bytes(cls, group: Group, datas: Sequence[bytes]) -> list[RangeProof]:
        """Decode proofs as :meth:`from_bytes` does each, all their commitments in one decoding call.

        Raises InvalidInput if any is not a proof, without saying which: :meth:`from_bytes` one at
        a time names it.
        """
        size, e, s = parts_size(group, 2, 2), group.element_bytes, group.scalar_bytes
        widths = []
        for data in datas:
            width, rest = divmod(len(data) + s, size)
            if width < 1 or rest:
                raise InvalidInput(f"range proof: {len(data)} bytes is not the size of a proof of any width")
            widths.append(width)
        commitments = iter(
            group.decode_many(b"".join(d[: 2 * w * e] for d, w in zip(datas, widths, strict=True)))
        )
        out = []
        for data, width in zip(datas, widths, strict=True):
            values = tuple(group.decode_scalar(data[i : i + s]) for i in range(2 * width * e, len(data), s))
            elements = tuple(next(commitments) for _ in range(2 * width))
            out.append(cls(elements, values[: width - 1], values[width - 1 :])._read_from(data))
        return out


def _check_bounds(lo: int, hi: int) -> None:
    if not 0 <= lo <= hi:
        raise InvalidInput(f"range proof: need 0 <= lo <= hi, got [{lo}, {hi}]")


def _start(tag: str, pk: PublicKey, context: bytes, lo: int, hi: int) -> Transcript:
    return Transcript(tag, pk.group.name, context).fields(_key_and_bounds(pk.h, lo, hi))


@functools.lru_cache(maxsize=64)
def _key_and_bounds(h: Element, lo: int, hi: int) -> Fields:
    """The fields after the context, the same for every proof of a contest: framed once."""
    return Fields().element("h", h).integer("lo", lo).integer("hi", hi)


def _prove(
    pk: PublicKey, ct: Ciphertext, m: int, r: int, *, lo: int, hi: int, t: Transcript, nonces: Sequence[int]
) -> RangeProof:
    """``nonces`` are u, then (c_j, v_j) for every j ≠ m in order; drawn by the caller."""
    group, q = pk.group, pk.group.order
    g = group.generator()
    draws = iter(nonces)
    u = next(draws)
    cs: list[int] = []
    vs: list[int] = []
    commitments: list[Element] = []
    for j in range(lo, hi + 1):
        if j == m:
            c_j = v_j = 0
            s, t_j = u, 0
        else:
            c_j, v_j = next(draws), next(draws)
            # The prover knows r: a simulated A_j = g^v_j · a^c_j is g^(v_j + r·c_j), and
            # B_j = h^v_j · (b / g^j)^c_j is h^(v_j + r·c_j) · g^((m − j)·c_j).
            s, t_j = (v_j + r * c_j) % q, (m - j) * c_j % q
        cs.append(c_j)
        vs.append(v_j)
        # Every branch, real or simulated (which one is the vote), costs the same two constant-time
        # fixed-base powers: g^s from g's table, h^s · g^t from h's and g's.
        commitments += [group.exp_g(s), pk.fixed_base.exp_mul(s, g, t_j)]
    c = t.elements("commitments", commitments).challenge(group)
    k = m - lo
    cs[k] = (c - sum(cs)) % q
    vs[k] = (u - cs[k] * r) % q
    return RangeProof(tuple(commitments), tuple(cs[:-1]), tuple(vs))


def _equations(
    pk: PublicKey,
    a_parts: Sequence[Element],
    b_parts: Sequence[Element],
    proof: RangeProof,
    *,
    lo: int,
    hi: int,
    t: Transcript,
    check: str,
    subject: str,
    batch: Batch,
) -> None:
    """Add the proof's 2w equations to ``batch``; a = ∏ a_parts and b = ∏ b_parts, never multiplied out.

    A_j = g^v_j · a^c_j and B_j = h^v_j · (b / g^j)^c_j, written as A_j · g^-v_j · ∏ a_i^-c_j = 1 and
    B_j · h^-v_j · g^(j·c_j) · ∏ b_i^-c_j = 1, so a sum proof needs no product of the options.
    """
    group = pk.group
    width = hi - lo + 1
    if len(proof.commitments) != 2 * width or len(proof.challenges) != width - 1 or proof.width != width:
        raise VerificationFailed(check, subject, f"expected a proof of width {width}, got {proof.width}")
    check_reduced(group, proof.challenges + proof.responses, check, subject)
    c = t.elements("commitments", proof.commitments).challenge(group)
    challenges = (*proof.challenges, (c - sum(proof.challenges)) % group.order)
    g, h = group.generator(), pk.h
    # The 2w equations, each raised to its own weight, multiplied out here: the commitments
    # (A_lo, B_lo, A_lo+1, …) take their weights, and g, h, every a_i and every b_i one scalar each.
    weights = batch.weights(2 * width)
    g_k = h_k = a_k = b_k = 0
    for i, (j, c_j, v_j) in enumerate(zip(range(lo, hi + 1), challenges, proof.responses, strict=True)):
        w_a, w_b = weights[2 * i], weights[2 * i + 1]
        g_k += w_b * j * c_j - w_a * v_j
        h_k -= w_b * v_j
        a_k -= w_a * c_j
        b_k -= w_b * c_j
    batch.add_weighted(
        2 * width,
        proof.commitments,
        weights,
        [(g, g_k), (h, h_k), *[(a, a_k) for a in a_parts], *[(b, b_k) for b in b_parts]],
        functools.partial(_exact_equations, pk, a_parts, b_parts, proof, lo, challenges, check, subject),
    )


def _exact_equations(  # noqa: PLR0917 - what _equations had at hand
    pk: PublicKey,
    a_parts: Sequence[Element],
    b_parts: Sequence[Element],
    proof: RangeProof,
    lo: int,
    challenges: Sequence[int],
    check: str,
    subject: str,
) -> list[tuple[Label, list[tuple[Element, int]]]]:
    """The proof's equations one by one, unweighted: what a failed batch checks to name the false one.

    A_j = g^v_j · a^c_j and B_j = h^v_j · (b / g^j)^c_j, as A_j · g^-v_j · ∏ a_i^-c_j = 1 and
    B_j · h^-v_j · g^(j·c_j) · ∏ b_i^-c_j = 1.
    """
    g, h = pk.group.generator(), pk.h
    out: list[tuple[Label, list[tuple[Element, int]]]] = []
    for k, (c_j, v_j) in enumerate(zip(challenges, proof.responses, strict=True)):
        j = lo + k
        a_terms = [(a, -c_j) for a in a_parts]
        b_terms = [(b, -c_j) for b in b_parts]
        out.append(((check, subject, f"A[{j}]"), [(proof.commitments[2 * k], 1), (g, -v_j), *a_terms]))
        out.append(
            (
                (check, subject, f"B[{j}]"),
                [(proof.commitments[2 * k + 1], 1), (h, -v_j), (g, j * c_j), *b_terms],
            )
        )
    return out


def _draw(pk: PublicKey, width: int) -> list[int]:
    return [pk.group.random_scalar() for _ in range(2 * width - 1)]


def _range_transcript(pk: PublicKey, ct: Ciphertext, context: bytes, lo: int, hi: int) -> Transcript:
    return _start(RANGE_TAG, pk, context, lo, hi).named_elements(("a", ct.a), ("b", ct.b))


def prove(
    pk: PublicKey, ct: Ciphertext, m: int, r: int, *, lo: int = 0, hi: int, context: bytes
) -> RangeProof:
    """Prove that ``ct`` = Enc(m; r) encrypts a value in [lo, hi] (0..R for an option)."""
    _check_bounds(lo, hi)
    if not lo <= m <= hi:
        raise InvalidInput(f"cannot prove {m} lies in [{lo}, {hi}]")
    t = _range_transcript(pk, ct, context, lo, hi)
    return _prove(pk, ct, m, r, lo=lo, hi=hi, t=t, nonces=_draw(pk, hi - lo + 1))


def equations(
    pk: PublicKey,
    ct: Ciphertext,
    proof: RangeProof,
    *,
    lo: int = 0,
    hi: int,
    context: bytes,
    subject: str = "",
    batch: Batch,
) -> None:
    """Add the equations of a range proof to ``batch``; raise VerificationFailed("range") if malformed."""
    _check_bounds(lo, hi)
    t = _range_transcript(pk, ct, context, lo, hi)
    _equations(pk, [ct.a], [ct.b], proof, lo=lo, hi=hi, t=t, check="range", subject=subject, batch=batch)


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
    batch = Batch(pk.group)
    equations(pk, ct, proof, lo=lo, hi=hi, context=context, subject=subject, batch=batch)
    batch.verify()


def _sum_transcript(pk: PublicKey, cts: Sequence[Ciphertext], context: bytes, lo: int, hi: int) -> Transcript:
    # The total is a function of the options, so hashing the options binds it (degcore/4/sum).
    return _start(SUM_TAG, pk, context, lo, hi).elements("options", [e for c in cts for e in (c.a, c.b)])


def prove_sum(
    pk: PublicKey, cts: Sequence[Ciphertext], total: int, r_total: int, *, lo: int, hi: int, context: bytes
) -> RangeProof:
    """Prove that the product of ``cts`` (whose nonces sum to ``r_total``) encrypts ``total`` ∈ [lo, hi]."""
    _check_bounds(lo, hi)
    if not lo <= total <= hi:
        raise InvalidInput(f"cannot prove the total {total} lies in [{lo}, {hi}]")
    t = _sum_transcript(pk, cts, context, lo, hi)
    r = r_total % pk.group.order
    return _prove(pk, add(pk.group, cts), total, r, lo=lo, hi=hi, t=t, nonces=_draw(pk, hi - lo + 1))


def sum_equations(
    pk: PublicKey,
    cts: Sequence[Ciphertext],
    proof: RangeProof,
    *,
    lo: int,
    hi: int,
    context: bytes,
    subject: str = "",
    batch: Batch,
) -> None:
    """Add the equations of a sum proof to ``batch``; raise VerificationFailed("sum") if malformed."""
    _check_bounds(lo, hi)
    t = _sum_transcript(pk, cts, context, lo, hi)
    a_parts, b_parts = [c.a for c in cts], [c.b for c in cts]
    _equations(pk, a_parts, b_parts, proof, lo=lo, hi=hi, t=t, check="sum", subject=subject, batch=batch)


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
    batch = Batch(pk.group)
    sum_equations(pk, cts, proof, lo=lo, hi=hi, context=context, subject=subject, batch=batch)
    batch.verify()
