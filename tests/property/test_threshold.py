"""Hypothesis: for random 1 ≤ t ≤ n ≤ 7, any t or more trustees decrypt and fewer cannot (all groups).

Completeness: every subset of at least t qualified trustees recovers the plaintexts. Soundness: a
partial decryption with one value or one proof scalar changed is rejected and names its trustee.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import strategies as st

from degcore.elgamal import dleq, encrypt
from degcore.elgamal.dlog import dlog
from degcore.errors import Rule, RuleViolation, VerificationFailed
from degcore.groups import Group
from degcore.parallel import SERIAL
from degcore.trustees import threshold
from degcore.trustees.signing import sign_message
from tests.conftest import group_property
from tests.trustee_keys import local_ceremony, test_config, trustee_key

CONTEXT = b"property base hash"


def _check_threshold(group: Group, data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=1, max_value=7), label="n")
    t = data.draw(st.integers(min_value=1, max_value=n), label="t")
    roster = tuple(f"trustee-{i}" for i in range(n))
    result, shares = local_ceremony(test_config("prop", group, t, roster))
    messages = data.draw(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=3), label="m")
    cts = [encrypt(result.joint_key, m) for m in messages]

    present = data.draw(
        st.lists(st.sampled_from(roster), min_size=t, max_size=n, unique=True), label="present"
    )
    partials = [threshold.partial_decrypt(CONTEXT, shares[p], cts, executor=SERIAL) for p in present]
    plain = threshold.threshold_decrypt(CONTEXT, result, cts, partials, executor=SERIAL)
    assert [dlog(group, e, 20) for e in plain] == messages

    if t > 1:
        too_few = partials[: data.draw(st.integers(min_value=0, max_value=t - 1), label="few")]
        with pytest.raises(RuleViolation) as info:
            threshold.threshold_decrypt(CONTEXT, result, cts, too_few, executor=SERIAL)
        assert info.value.rule is Rule.NOT_ENOUGH_TRUSTEES

    victim = data.draw(st.sampled_from(partials), label="victim")
    i = data.draw(st.integers(min_value=0, max_value=len(cts) - 1), label="i")
    delta = data.draw(st.integers(min_value=1, max_value=group.order - 1), label="delta")
    proof = victim.proofs[i]
    kind = data.draw(st.sampled_from(["value", "A1", "A2", "v"]), label="kind")
    if kind == "value":
        values = list(victim.values)
        values[i] = values[i] * group.exp_g(delta)
        bad = dataclasses.replace(victim, values=tuple(values))
    else:
        proofs = list(victim.proofs)
        shift = group.exp_g(delta)
        proofs[i] = {
            "A1": dleq.DleqProof(proof.A1 * shift, proof.A2, proof.v),
            "A2": dleq.DleqProof(proof.A1, proof.A2 * shift, proof.v),
            "v": dleq.DleqProof(proof.A1, proof.A2, (proof.v + delta) % group.order),
        }[kind]
        bad = dataclasses.replace(victim, proofs=tuple(proofs))
    bad = sign_message(result.config, trustee_key(victim.trustee_id), bad)  # the trustee signs its lie
    session = threshold.ThresholdDecryption(CONTEXT, result, cts, executor=SERIAL)
    with pytest.raises(VerificationFailed) as failed:
        session.add(bad)
    assert failed.value.subject == victim.trustee_id
    assert failed.value.detail == f"proof fails for 1 of {len(cts)} ciphertexts (index {i})"


test_threshold_decryption, test_threshold_decryption_modp4096 = group_property(_check_threshold)
