"""Whole elections: registry to result on every group; the tally equals the plaintext count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from degcore.board import BallotBox, Policy
from degcore.demo import run_demo
from degcore.errors import Rule, RuleViolation, VerificationFailed
from degcore.groups import GROUP_NAMES, get_group
from degcore.tally import aggregate, decrypt_tally
from degcore.trustees import threshold
from tests.election_fixtures import DURING, TRUSTEES, election


@pytest.mark.parametrize("group_name", GROUP_NAMES)
def test_a_complete_election_on_every_group(group_name: str, tmp_path: Path) -> None:
    summary = run_demo(tmp_path, 12, group_name=group_name)
    assert summary.result is not None
    assert summary.result.totals == summary.expected
    assert summary.cast == summary.credentials == summary.applications_approved
    assert set(summary.refused) == {
        "second ballot of a credential",
        "tampered proof",
        "outside the voting window",
    }
    assert set(summary.result.by_district) == {"district-1", "district-2"}
    assert sum(summary.result.ballots.values()) == summary.cast


def test_tally_by_style_and_district_with_cumulative_votes_and_revoting(tmp_path: Path) -> None:
    e = election(get_group("secp256k1"))
    box = BallotBox(
        tmp_path / "box.sqlite", e.context, e.public_keys, SigningKey.generate(), policy=Policy.LAST
    )
    a1, a2, b1 = e.credential("a"), e.credential("a"), e.credential("b")
    box.cast(e.cast(a1, {"mayor": {"m0": 1}, "council": {"c0": 2, "c1": 1}}), now=DURING)
    box.cast(e.cast(a2, {"mayor": {"m1": 1}}), now=DURING)
    box.cast(e.cast(b1, {"mayor": {"m1": 1}}), now=DURING)
    box.cast(e.cast(a1, {"mayor": {"m2": 1}, "council": {"c3": 2}}), now=DURING)  # a1 changes its vote
    tally = aggregate(e.context, (c.ballot for c in box.counted()))
    assert tally.ballots == {"a": 2, "b": 1}
    json.dumps(tally.to_json())
    partials = [threshold.partial_decrypt(e.context, e.shares[t], tally.ciphertexts()) for t in TRUSTEES[2:]]
    result = decrypt_tally(e.context, tally, partials)
    assert result.totals == {
        "mayor": {"m0": 0, "m1": 2, "m2": 1},
        "council": {"c0": 0, "c1": 0, "c2": 0, "c3": 2},
    }
    assert result.by_district["south"] == {"mayor": {"m0": 0, "m1": 1, "m2": 0}}
    assert result.by_district["north"]["council"]["c3"] == 2
    assert result.trustees == ("t3", "t4", "t5")
    assert [p.trustee_id for p in result.partials] == ["t3", "t4", "t5"]
    json.dumps(result.to_json())


def test_fewer_than_t_trustees_cannot_tally_and_a_bad_partial_is_named(tmp_path: Path) -> None:
    e = election(get_group("ristretto255"))
    box = BallotBox(tmp_path / "box.sqlite", e.context, e.public_keys, SigningKey.generate())
    box.cast(e.cast(e.credential("b"), {"mayor": {"m0": 1}}), now=DURING)
    tally = aggregate(e.context, (c.ballot for c in box.counted()))
    cts = tally.ciphertexts()
    partials = {t: threshold.partial_decrypt(e.context, e.shares[t], cts) for t in TRUSTEES}
    with pytest.raises(RuleViolation) as info:
        decrypt_tally(e.context, tally, [partials["t1"], partials["t2"]])
    assert info.value.rule is Rule.NOT_ENOUGH_TRUSTEES
    wrong_context = threshold.partial_decrypt(b"another election", e.shares["t4"], cts)
    with pytest.raises(VerificationFailed) as bad:
        decrypt_tally(e.context, tally, [partials["t1"], wrong_context, partials["t2"]])
    assert bad.value.subject == "t4"
    empty = aggregate(e.context, [])  # a box nobody voted in tallies to zeros
    zero_partials = [
        threshold.partial_decrypt(e.context, e.shares[t], empty.ciphertexts()) for t in TRUSTEES[:3]
    ]
    assert decrypt_tally(e.context, empty, zero_partials).totals["mayor"] == {"m0": 0, "m1": 0, "m2": 0}
