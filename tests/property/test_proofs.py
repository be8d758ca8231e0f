"""Proof completeness and soundness on every group (hypothesis).

Honest proofs verify; changing the statement, the context, a commitment, a challenge or a
response makes verification fail, alone and in a batch with honest proofs; a value outside the
range cannot get a valid proof.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest
from hypothesis import strategies as st

from degcore.elgamal import (
    Ciphertext,
    add,
    disjunctive,
    dleq,
    encrypt_revealable,
    keygen,
    schnorr,
)
from degcore.elgamal.batch import Batch
from degcore.elgamal.ciphertext import _encrypt_with_nonce
from degcore.errors import VerificationFailed
from degcore.groups import Group
from tests.conftest import group_property

CONTEXT = bytes(range(32))
OTHER_CONTEXT = bytes(32)


def _bump(group: Group, x: int, data: st.DataObject) -> int:
    return (x + data.draw(st.integers(min_value=1, max_value=group.order - 1))) % group.order


def _batch_rejects(group: Group, honest: list[Callable[[Batch], None]], bad: Callable[[Batch], None]) -> None:
    """The batch path fails for the same tampering, and the exact pass names only the bad proof."""
    batch = Batch(group)
    for add_equations in honest:
        add_equations(batch)
    assert batch.holds()
    try:
        bad(batch)  # an unreduced response is refused before it reaches the batch
    except VerificationFailed as exc:
        assert exc.subject == "bad"
        return
    assert not batch.holds()
    failing = batch.failing()
    assert failing
    assert {subject for _, subject, _ in failing} == {"bad"}
    with pytest.raises(VerificationFailed) as info:
        batch.verify()
    assert info.value.subject == "bad"


def _check_schnorr(group: Group, data: st.DataObject) -> None:
    x = group.random_nonzero_scalar()
    big_x = group.exp_g(x)
    proof = schnorr.prove(group, x, CONTEXT)
    schnorr.verify(group, big_x, proof, CONTEXT)
    assert schnorr.SchnorrProof.from_bytes(group, proof.to_bytes(group)) == proof
    assert len(proof.to_bytes(group)) == group.element_bytes + group.scalar_bytes
    others = [(group.exp_g(y), schnorr.prove(group, y, CONTEXT)) for y in (2, 3)]
    honest = [
        functools.partial(schnorr.equations, group, y, p, CONTEXT, f"ok{i}")
        for i, (y, p) in enumerate(others)
    ]
    g = group.generator()
    tampered = [
        (big_x * g, proof, CONTEXT),  # another statement
        (big_x, proof, OTHER_CONTEXT),
        (big_x, schnorr.SchnorrProof(proof.A * g, proof.v), CONTEXT),
        (big_x, schnorr.SchnorrProof(proof.A, _bump(group, proof.v, data)), CONTEXT),
        (big_x, schnorr.SchnorrProof(proof.A, proof.v + group.order), CONTEXT),
    ]
    for statement, bad, ctx in tampered:
        with pytest.raises(VerificationFailed) as info:
            schnorr.verify(group, statement, bad, ctx, "bad")
        assert (info.value.check, info.value.subject) == ("schnorr", "bad")
        _batch_rejects(group, honest, functools.partial(schnorr.equations, group, statement, bad, ctx, "bad"))
    # Without x, a commitment A = g^u made up front cannot be answered for the challenge it yields.
    u = group.random_scalar()
    forged = schnorr.SchnorrProof(group.exp_g(u), _bump(group, u, data))
    with pytest.raises(VerificationFailed):
        schnorr.verify(group, big_x, forged, CONTEXT)


test_schnorr, test_schnorr_modp4096 = group_property(_check_schnorr)


def _check_dleq(group: Group, data: st.DataObject) -> None:
    x = group.random_nonzero_scalar()
    g2 = group.exp_g(group.random_nonzero_scalar())
    st_ = dleq.DleqStatement(group.generator(), group.exp_g(x), g2, g2**x)
    proof = dleq.prove(group, x, st_, CONTEXT)
    dleq.verify(group, st_, proof, CONTEXT)
    assert dleq.DleqProof.from_bytes(group, proof.to_bytes(group)) == proof
    assert len(proof.to_bytes(group)) == 2 * group.element_bytes + group.scalar_bytes
    g = group.generator()
    other = dleq.DleqStatement(g, group.exp_g(5), g2, g2**5)
    honest = [
        functools.partial(dleq.equations, group, other, dleq.prove(group, 5, other, CONTEXT), CONTEXT, "ok")
    ]
    cases = [
        (dleq.DleqStatement(st_.g1, st_.y1, st_.g2, st_.y2 * g), proof, CONTEXT),  # wrong decryption share
        (dleq.DleqStatement(st_.g1, st_.y1 * g, st_.g2, st_.y2), proof, CONTEXT),
        (dleq.DleqStatement(st_.g1, st_.y1, st_.g2 * g, st_.y2), proof, CONTEXT),
        (st_, proof, OTHER_CONTEXT),
        (st_, dleq.DleqProof(proof.A1 * g, proof.A2, proof.v), CONTEXT),
        (st_, dleq.DleqProof(proof.A1, proof.A2 * g, proof.v), CONTEXT),
        (st_, dleq.DleqProof(proof.A1, proof.A2, _bump(group, proof.v, data)), CONTEXT),
        (st_, dleq.DleqProof(proof.A1, proof.A2, proof.v + group.order), CONTEXT),
    ]
    for bad_st, bad_proof, ctx in cases:
        with pytest.raises(VerificationFailed) as info:
            dleq.verify(group, bad_st, bad_proof, ctx, "bad")
        assert (info.value.check, info.value.subject) == ("dleq", "bad")
        _batch_rejects(group, honest, functools.partial(dleq.equations, group, bad_st, bad_proof, ctx, "bad"))
    # A prover who does not know a common exponent cannot convince: y2 = g2^(x+1).
    lie = dleq.DleqStatement(st_.g1, st_.y1, st_.g2, st_.g2 ** (x + 1))
    lying = dleq.prove(group, x, lie, CONTEXT)
    with pytest.raises(VerificationFailed):
        dleq.verify(group, lie, lying, CONTEXT)
    _batch_rejects(group, honest, functools.partial(dleq.equations, group, lie, lying, CONTEXT, "bad"))
    # all_hold, the one-MSM check of many proofs under one (g1, y1): a trustee's partial decryptions.
    bases = [group.exp_g(group.random_nonzero_scalar()) for _ in range(3)]
    same_key = [dleq.DleqStatement(g, st_.y1, b, b**x) for b in bases]
    pairs = [(s.g2, s.y2) for s in same_key]
    proofs = [dleq.prove(group, x, s, CONTEXT) for s in same_key]
    assert dleq.all_hold(group, g, st_.y1, pairs, proofs, context=CONTEXT)
    for bad_st, bad_proof, ctx in [*cases, (lie, lying, CONTEXT)]:
        at = data.draw(st.integers(min_value=0, max_value=len(pairs)))
        bad_pairs = [*pairs[:at], (bad_st.g2, bad_st.y2), *pairs[at:]]
        bad_proofs = [*proofs[:at], bad_proof, *proofs[at:]]
        assert not dleq.all_hold(group, bad_st.g1, bad_st.y1, bad_pairs, bad_proofs, context=ctx)
    assert not dleq.all_hold(group, g, st_.y1, pairs, proofs[:-1], context=CONTEXT)


test_dleq, test_dleq_modp4096 = group_property(_check_dleq)


def _check_range(group: Group, data: st.DataObject) -> None:
    pk = keygen(group).public
    hi = data.draw(st.integers(min_value=1, max_value=3))
    m = data.draw(st.integers(min_value=0, max_value=hi))
    ct, r = encrypt_revealable(pk, m)
    proof = disjunctive.prove(pk, ct, m, r, hi=hi, context=CONTEXT)
    disjunctive.verify(pk, ct, proof, hi=hi, context=CONTEXT)
    assert disjunctive.RangeProof.from_bytes(group, proof.to_bytes(group)) == proof
    i = data.draw(st.integers(min_value=0, max_value=hi))
    g = group.generator()
    points, cs, vs = list(proof.commitments), list(proof.challenges), list(proof.responses)
    points_bad, vs_bad = points.copy(), vs.copy()
    k = data.draw(st.integers(min_value=0, max_value=2 * hi + 1))
    points_bad[k] = points[k] * g  # the prover's own commitment, changed after the fact
    vs_bad[i] = _bump(group, vs[i], data)
    cases = [
        (Ciphertext(ct.a, ct.b * g), proof, hi, CONTEXT),  # another plaintext
        (Ciphertext(ct.a * g, ct.b), proof, hi, CONTEXT),
        (ct, proof, hi, OTHER_CONTEXT),
        (ct, disjunctive.RangeProof(tuple(points_bad), proof.challenges, proof.responses), hi, CONTEXT),
        (ct, disjunctive.RangeProof(proof.commitments, proof.challenges, tuple(vs_bad)), hi, CONTEXT),
        (
            ct,
            disjunctive.RangeProof(proof.commitments[:-2], proof.challenges[:-1], proof.responses[:-1]),
            hi,
            CONTEXT,
        ),
    ]
    if hi > 1 or i < hi:
        j = min(i, hi - 1)
        cs_bad = cs.copy()
        cs_bad[j] = _bump(group, cs[j], data)
        cases.append(
            (ct, disjunctive.RangeProof(proof.commitments, tuple(cs_bad), proof.responses), hi, CONTEXT)
        )
    if m < hi:
        cases.append((ct, proof, hi + 1, CONTEXT))  # the range is part of the statement
    for bad_ct, bad_proof, bad_hi, ctx in cases:
        with pytest.raises(VerificationFailed):
            disjunctive.verify(pk, bad_ct, bad_proof, hi=bad_hi, context=ctx)
        # Batched beside an honest proof, the bad one still fails and is the one named.
        batch = Batch(group)
        disjunctive.equations(pk, ct, proof, hi=hi, context=CONTEXT, subject="honest", batch=batch)
        try:
            disjunctive.equations(pk, bad_ct, bad_proof, hi=bad_hi, context=ctx, subject="bad", batch=batch)
        except VerificationFailed as exc:
            assert exc.subject == "bad"  # malformed: refused before any batch
            continue
        assert not batch.holds()
        assert {subject for _, subject, _ in batch.failing()} == {"bad"}
    other_pk = keygen(group).public
    with pytest.raises(VerificationFailed):
        disjunctive.verify(other_pk, ct, proof, hi=hi, context=CONTEXT)


test_range, test_range_modp4096 = group_property(_check_range)


def _check_two_cannot_pass_as_zero_or_one(group: Group, data: st.DataObject) -> None:
    """Soundness: a cheating prover who encrypts 2 and runs the prover as if it were 0 or 1 fails."""
    pk = keygen(group).public
    r = group.random_scalar()
    ct = _encrypt_with_nonce(pk, 2, r)
    claimed = data.draw(st.sampled_from([0, 1]))
    t = disjunctive._start(disjunctive.RANGE_TAG, pk, CONTEXT, 0, 1).element("a", ct.a).element("b", ct.b)
    nonces = [group.random_scalar() for _ in range(3)]
    forged = disjunctive._prove(pk, ct, claimed, r, lo=0, hi=1, t=t, nonces=nonces)
    with pytest.raises(VerificationFailed):
        disjunctive.verify(pk, ct, forged, hi=1, context=CONTEXT)


test_two_is_not_a_vote, test_two_is_not_a_vote_modp4096 = group_property(
    _check_two_cannot_pass_as_zero_or_one
)


def _check_sum(group: Group, data: st.DataObject) -> None:
    pk = keygen(group).public
    votes = data.draw(st.lists(st.integers(min_value=0, max_value=1), min_size=1, max_size=4))
    lo = data.draw(st.integers(min_value=0, max_value=sum(votes)))
    hi = data.draw(st.integers(min_value=sum(votes), max_value=len(votes)))
    pairs = [encrypt_revealable(pk, v) for v in votes]
    cts = [c for c, _ in pairs]
    proof = disjunctive.prove_sum(
        pk, cts, sum(votes), sum(r for _, r in pairs), lo=lo, hi=hi, context=CONTEXT
    )
    disjunctive.verify_sum(pk, cts, proof, lo=lo, hi=hi, context=CONTEXT)
    # Replacing one option's ciphertext, reordering, dropping or changing the limits fails.
    swapped = [encrypt_revealable(pk, votes[0])[0], *cts[1:]]
    bad_cases = [(swapped, lo, hi), (cts, lo, hi + 1), (cts[:-1], lo, hi)]
    if len(cts) > 1:
        bad_cases.append((cts[::-1], lo, hi))  # same product, different statement
    for bad_cts, bad_lo, bad_hi in bad_cases:
        with pytest.raises(VerificationFailed):
            disjunctive.verify_sum(pk, bad_cts, proof, lo=bad_lo, hi=bad_hi, context=CONTEXT)
    # The single-option proof of the product is not a sum proof (different tag and statement).
    total = add(group, cts)
    with pytest.raises(VerificationFailed):
        disjunctive.verify(pk, total, proof, lo=lo, hi=hi, context=CONTEXT)


test_sum, test_sum_modp4096 = group_property(_check_sum)


def _check_identity_commitments(group: Group, data: st.DataObject) -> None:
    """A proof whose commitments are the identity answers no challenge (Schnorr, DLEQ, range)."""
    one = group.identity()
    x = group.random_nonzero_scalar()
    v = data.draw(st.sampled_from([0, 1, group.order - 1, group.random_scalar()]))
    with pytest.raises(VerificationFailed):
        schnorr.verify(group, group.exp_g(x), schnorr.SchnorrProof(one, v), CONTEXT)
    g2 = group.exp_g(group.random_nonzero_scalar())
    st_ = dleq.DleqStatement(group.generator(), group.exp_g(x), g2, g2**x)
    with pytest.raises(VerificationFailed):
        dleq.verify(group, st_, dleq.DleqProof(one, one, v), CONTEXT)
    pk = keygen(group).public
    ct, _ = encrypt_revealable(pk, 1)
    forged = disjunctive.RangeProof((one,) * 4, (v,), (v, v))
    with pytest.raises(VerificationFailed):
        disjunctive.verify(pk, ct, forged, hi=1, context=CONTEXT)


test_identity_commitments, test_identity_commitments_modp4096 = group_property(_check_identity_commitments)


def _check_challenges_shifted_against_each_other(group: Group, data: st.DataObject) -> None:
    """c_j + d and c_k − d keep Σ c_j, so the derived last challenge is unchanged: still refused, by name."""
    pk = keygen(group).public
    hi = data.draw(st.integers(min_value=2, max_value=3))
    m = data.draw(st.integers(min_value=0, max_value=hi))
    ct, r = encrypt_revealable(pk, m)
    proof = disjunctive.prove(pk, ct, m, r, hi=hi, context=CONTEXT)
    j, k = data.draw(st.sampled_from([(a, b) for a in range(hi) for b in range(hi) if a < b]))
    d = data.draw(st.integers(min_value=1, max_value=group.order - 1))
    cs = list(proof.challenges)
    cs[j], cs[k] = (cs[j] + d) % group.order, (cs[k] - d) % group.order
    bad = disjunctive.RangeProof(proof.commitments, tuple(cs), proof.responses)
    with pytest.raises(VerificationFailed):
        disjunctive.verify(pk, ct, bad, hi=hi, context=CONTEXT)
    batch = Batch(group)
    disjunctive.equations(pk, ct, proof, hi=hi, context=CONTEXT, subject="honest", batch=batch)
    disjunctive.equations(pk, ct, bad, hi=hi, context=CONTEXT, subject="bad", batch=batch)
    assert not batch.holds()
    assert {(subject, which) for _, subject, which in batch.failing()} == {
        ("bad", f"{side}[{i}]") for i in (j, k) for side in "AB"
    }


test_shifted_challenges, test_shifted_challenges_modp4096 = group_property(
    _check_challenges_shifted_against_each_other
)


def _check_range_above_zero(group: Group, data: st.DataObject) -> None:
    """[lo, hi] with lo > 0 verifies; the same proof under a window of the same width shifted does not."""
    pk = keygen(group).public
    lo = data.draw(st.integers(min_value=1, max_value=3))
    hi = lo + data.draw(st.integers(min_value=0, max_value=2))
    m = data.draw(st.integers(min_value=lo, max_value=hi))
    ct, r = encrypt_revealable(pk, m)
    proof = disjunctive.prove(pk, ct, m, r, lo=lo, hi=hi, context=CONTEXT)
    disjunctive.verify(pk, ct, proof, lo=lo, hi=hi, context=CONTEXT)
    assert disjunctive.RangeProof.from_bytes(group, proof.to_bytes(group)) == proof
    for shift in (-1, 1):  # same width, so only the statement (lo, hi in the transcript) tells them apart
        with pytest.raises(VerificationFailed):
            disjunctive.verify(pk, ct, proof, lo=lo + shift, hi=hi + shift, context=CONTEXT)
    # A value below lo: the prover runs for [lo, hi] as if m were lo; the lie does not verify.
    low, r_low = encrypt_revealable(pk, lo - 1)
    t = disjunctive._range_transcript(pk, low, CONTEXT, lo, hi)
    nonces = [group.random_scalar() for _ in range(2 * (hi - lo) + 1)]
    lying = disjunctive._prove(pk, low, lo, r_low, lo=lo, hi=hi, t=t, nonces=nonces)
    with pytest.raises(VerificationFailed):
        disjunctive.verify(pk, low, lying, lo=lo, hi=hi, context=CONTEXT)


test_range_above_zero, test_range_above_zero_modp4096 = group_property(_check_range_above_zero)
