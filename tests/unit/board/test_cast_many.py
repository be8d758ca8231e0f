"""A batch of casts is recorded in one transaction: each ballot stands or falls alone, none is half kept."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from degcore.board import BallotBox, CastBallot, Receipt, sign_ballot
from degcore.board.box import _check_chunk
from degcore.errors import Rule, RuleViolation, StorageError, VerificationFailed
from tests.conftest import race
from tests.election_fixtures import DURING, ENDS, Election, with_bad_proof
from tests.unit.board.conftest import store_fails
from tests.unit.board.test_box import BOX_KEY, MAYOR, _load_election, _save_election


def test_a_second_ballot_of_one_credential_in_a_batch_is_refused_alone(e: Election, box: BallotBox) -> None:
    """On PostgreSQL a failed INSERT aborts the transaction: the savepoint keeps the rest of the batch."""
    wallets = [e.credential("b") for _ in range(3)]
    casts = [
        e.cast(wallets[0], MAYOR),
        e.cast(wallets[0], {"mayor": {"m2": 1}}),  # the same credential, another ballot
        e.cast(wallets[1], MAYOR),
        e.cast(wallets[2], MAYOR),
    ]
    results = box.cast_many(casts, now=DURING)
    assert isinstance(results[1], RuleViolation) and results[1].rule is Rule.CREDENTIAL_USED
    assert [r.position for r in results if isinstance(r, Receipt)] == [1, 2, 3]
    assert [c.ballot for c in box.counted()] == [casts[0].ballot, casts[2].ballot, casts[3].ballot]
    assert box.verify_log() == 3
    for result in results:
        if isinstance(result, Receipt):
            assert box.receipt(result.tracking_code) == result


def test_a_closed_box_refuses_every_ballot_of_a_batch(e: Election, box: BallotBox) -> None:
    box.close_voting(now=ENDS)
    results = box.cast_many([e.cast(e.credential("b"), MAYOR) for _ in range(2)], now=DURING)
    assert all(isinstance(r, RuleViolation) and r.rule is Rule.BOX_CLOSED for r in results)


def test_a_store_failure_loses_the_whole_batch_and_a_retry_records_it(e: Election, box: BallotBox) -> None:
    casts = [e.cast(e.credential("b"), MAYOR) for _ in range(3)]
    with store_fails(box, after_commit=False):
        failed = box.cast_many(casts, now=DURING)
    assert all(isinstance(r, StorageError) for r in failed)  # no receipt: the client knows to retry
    assert box.verify_log() == 0 and box.counts()["counted"] == 0
    retried = box.cast_many(casts, now=DURING)
    assert [r.position for r in retried if isinstance(r, Receipt)] == [1, 2, 3]


def _race_many(path: str, saved: str, casts_json: str, barrier: object, out: object) -> None:
    e = _load_election(saved)
    box = BallotBox(path, e.context, e.public_keys, BOX_KEY)
    casts = [CastBallot.from_json(e.context, c) for c in json.loads(casts_json)]
    barrier.wait()  # type: ignore[attr-defined]
    results = box.cast_many(casts, now=DURING)
    out.put([r.tracking_code if isinstance(r, Receipt) else str(r.rule) for r in results])  # type: ignore[attr-defined, union-attr]


def test_two_racing_batches_count_each_credential_once(
    e: Election, store_location: str, tmp_path: Path
) -> None:
    saved = tmp_path / "election.json"
    _save_election(e, saved)
    BallotBox(store_location, e.context, e.public_keys, BOX_KEY).close()
    wallets = [e.credential("b") for _ in range(4)]
    batches = [[e.cast(w, {"mayor": {f"m{side}": 1}}).to_json(e.context) for w in wallets] for side in (0, 1)]
    outcomes = race(_race_many, [(store_location, str(saved), json.dumps(b)) for b in batches])
    per_credential = list(zip(*outcomes, strict=True))  # each credential's two outcomes
    for pair in per_credential:
        assert sorted(o == str(Rule.CREDENTIAL_USED) for o in pair) == [False, True]
    box = BallotBox(store_location, e.context, e.public_keys, BOX_KEY)
    assert box.counts()["counted"] == 4 and box.verify_log() == 4
    box.close()


def test_forged_proofs_in_a_batch_are_refused_each_by_name(e: Election, box: BallotBox) -> None:
    """Two devices change a proof after proving and sign the result with their own credential keys.

    The batch's one weighted check fails; the fallback checks each ballot alone and refuses exactly
    those two, naming the proof and the equation; the others are recorded in order.
    """
    wallets = [e.credential("b") for _ in range(6)]
    casts = [e.cast(w, MAYOR) for w in wallets]
    for index, part in ((1, "commitment"), (4, "response")):
        forged = with_bad_proof(e.context, casts[index].ballot, option=2, part=part)
        casts[index] = sign_ballot(e.context, forged, wallets[index])
    results = box.cast_many(casts, now=DURING)
    for index in (1, 4):
        failure = results[index]
        assert isinstance(failure, VerificationFailed), failure
        assert (failure.check, failure.subject) == ("range", "mayor/m2")
        assert "A[0] does not hold" in str(failure)
    assert [r.position for r in results if isinstance(r, Receipt)] == [1, 2, 3, 4]
    assert box.verify_log() == 4


def test_two_ballots_whose_proof_errors_would_cancel_are_both_refused(e: Election) -> None:
    """Two devices shift the same option's response, one by +d and one by −d, and re-sign.

    In one chunk's batch under a shared weight the two errors (g^∓d and h^∓d) would cancel; each
    equation's own weight keeps them apart, and the fallback names both. (The chunk is checked
    directly: cast_many cuts four casts into chunks of one.)
    """
    group = e.context.group
    d = group.random_nonzero_scalar()
    wallets = [e.credential("b") for _ in range(4)]
    casts = [e.cast(w, MAYOR) for w in wallets]
    for index, sign in ((0, 1), (2, -1)):
        ballot = casts[index].ballot
        mayor = ballot.contests[0]
        p = mayor.proofs[1]
        bent = replace(p, responses=((p.responses[0] + sign * d) % group.order, *p.responses[1:]))
        forged = replace(ballot, contests=(replace(mayor, proofs=(mayor.proofs[0], bent, mayor.proofs[2])),))
        casts[index] = sign_ballot(e.context, forged, wallets[index])
    pems = {
        style: key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        for style, key in e.public_keys.items()
    }
    results = _check_chunk(e.context, pems, DURING, casts)
    for index in (0, 2):
        failure = results[index]
        assert isinstance(failure, VerificationFailed), failure
        assert (failure.check, failure.subject) == ("range", "mayor/m1")
    assert [isinstance(r, str) for r in results] == [False, True, False, True]
