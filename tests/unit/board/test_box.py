"""The ballot box on real SQLite files: every rejection rule, policies, challenges, races and crashes."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from nacl.signing import SigningKey

from degcore.ballot import ElectionContext, Manifest, PlaintextBallot, encrypt_ballot, open_ballot
from degcore.board import BallotBox, CastBallot, Policy, Receipt, sign_ballot
from degcore.errors import DegcoreError, InvalidInput, Rule, RuleViolation, VerificationFailed
from degcore.parallel import process_pool
from degcore.trustees.dkg import CeremonyConfig, CeremonyResult
from tests.conftest import execute, race
from tests.election_fixtures import DURING, ENDS, STARTS, Election

MAYOR = {"mayor": {"m1": 1}}
BOX_KEY = SigningKey(bytes(range(32)))


def _entries(box: BallotBox) -> int:
    return box.verify_log()


def test_a_cast_ballot_gets_a_receipt_the_voter_can_check(e: Election, box: BallotBox) -> None:
    cast = e.cast(e.credential("b"), MAYOR)
    receipt = box.cast(cast, now=DURING)
    assert receipt.tracking_code == cast.ballot.tracking_code(e.context) and receipt.position == 1
    receipt.verify(box.public_key, e.context.base_hash)
    receipt.check_ballot(e.context, cast)
    assert box.find(receipt) and receipt.entry_hash == box.head()
    assert Receipt.from_json(json.loads(json.dumps(receipt.to_json()))) == receipt
    with pytest.raises(VerificationFailed):
        receipt.verify(bytes(SigningKey.generate().verify_key), e.context.base_hash)
    assert [c.ballot for c in box.counted()] == [cast.ballot]
    assert CastBallot.from_json(e.context, json.loads(json.dumps(cast.to_json(e.context)))) == cast


def _other_election_credential(e: Election) -> object:
    return e.credential("b", election_id="e2027")


def test_each_rejection_rule_leaves_no_trace(e: Election, box: BallotBox) -> None:
    wallet = e.credential("b")
    good = e.cast(wallet, MAYOR)
    box.cast(good, now=DURING)
    stranger = e.credential("b")
    fresh = e.cast(stranger, MAYOR)
    forged_credential = dataclasses.replace(
        fresh.credential, signature=bytes(len(fresh.credential.signature))
    )
    a_wallet = e.credential("a")
    a_cast = e.cast(a_wallet, {"mayor": {"m0": 1}})
    tampered_ballot = dataclasses.replace(
        fresh.ballot,
        contests=(
            dataclasses.replace(
                fresh.ballot.contests[0],
                proofs=(fresh.ballot.contests[0].proofs[1], *fresh.ballot.contests[0].proofs[1:]),
            ),
        ),
    )
    cases: dict[str, tuple[CastBallot, object, str]] = {
        "before voting": (fresh, STARTS - timedelta(seconds=1), str(Rule.OUTSIDE_WINDOW)),
        "after voting": (fresh, ENDS, str(Rule.OUTSIDE_WINDOW)),
        "second ballot": (e.cast(wallet, {"mayor": {"m2": 1}}), DURING, str(Rule.CREDENTIAL_USED)),
        "forged credential": (dataclasses.replace(fresh, credential=forged_credential), DURING, "credential"),
        "credential of another style": (
            dataclasses.replace(fresh, credential=a_cast.credential), DURING, "credential"),
        "credential of another election": (
            e.cast(_other_election_credential(e), MAYOR), DURING, "credential"),  # type: ignore[arg-type]
        "bad ballot signature": (dataclasses.replace(fresh, signature=bytes(64)), DURING, "ballot-signature"),
        "ballot for another key": (
            sign_ballot(e.context, dataclasses.replace(a_cast.ballot, style_id="b"), a_wallet)
            if False else dataclasses.replace(fresh, ballot=e.cast(e.credential("b"), MAYOR).ballot),
            DURING, "ballot-signature"),
        "tampered proof": (sign_ballot(e.context, tampered_ballot, stranger), DURING, "range"),
    }  # fmt: skip
    before = _entries(box)
    for label, (cast, now, expected) in cases.items():
        with pytest.raises(DegcoreError) as info:
            box.cast(cast, now=now)  # type: ignore[arg-type]
        error = info.value
        got = str(getattr(error, "rule", "")) or getattr(error, "check", "")
        assert got == expected, (label, error)
        assert _entries(box) == before, label
    assert box.counts() == {"counted": 1, "superseded": 0, "challenged": 0}
    box.close_voting(now=ENDS)
    with pytest.raises(RuleViolation) as closed:
        box.cast(fresh, now=DURING)
    assert closed.value.rule is Rule.BOX_CLOSED


def test_the_last_ballot_counts_policy_keeps_the_superseded_one(e: Election, store_location: str) -> None:
    box = BallotBox(store_location, e.context, e.public_keys, BOX_KEY, policy=Policy.LAST)
    wallet = e.credential("b")
    first = box.cast(e.cast(wallet, {"mayor": {"m0": 1}}), now=DURING)
    second_cast = e.cast(wallet, {"mayor": {"m2": 1}})
    second = box.cast(second_cast, now=DURING + timedelta(minutes=5))
    assert (first.position, second.position) == (1, 2)
    assert [c.ballot for c in box.counted()] == [second_cast.ballot]
    assert box.counts()["superseded"] == 1 and _entries(box) == 2
    with pytest.raises(InvalidInput, match="policy"):
        BallotBox(store_location, e.context, e.public_keys, BOX_KEY, policy=Policy.FIRST)


def test_a_challenged_ballot_can_never_be_cast_and_a_cast_one_never_challenged(
    e: Election, box: BallotBox
) -> None:
    wallet = e.credential("b")
    plain = PlaintextBallot("b", MAYOR)
    ballot, nonces = encrypt_ballot(e.context, plain, wallet.credential.public_key)
    receipt = box.challenge(open_ballot(e.context, ballot, nonces), now=DURING)
    assert receipt.position == 1
    with pytest.raises(RuleViolation) as info:
        box.cast(sign_ballot(e.context, ballot, wallet), now=DURING)
    assert info.value.rule is Rule.BALLOT_CHALLENGED
    assert box.challenge(open_ballot(e.context, ballot, nonces), now=DURING) == receipt  # a retry
    cast_ballot, cast_nonces = encrypt_ballot(e.context, plain, wallet.credential.public_key)
    box.cast(sign_ballot(e.context, cast_ballot, wallet), now=DURING)
    with pytest.raises(RuleViolation):
        box.challenge(open_ballot(e.context, cast_ballot, cast_nonces), now=DURING)
    assert box.counts() == {"counted": 1, "superseded": 0, "challenged": 1}


def test_a_batch_is_checked_in_parallel_and_bad_items_are_named(e: Election, box: BallotBox) -> None:
    wallets = [e.credential("b") for _ in range(6)]
    casts = [e.cast(w, MAYOR) for w in wallets]
    casts[3] = dataclasses.replace(casts[3], signature=bytes(64))
    casts.append(casts[0])  # a second copy of the first ballot in the same batch: a retry
    with process_pool(2) as pool:  # the checks run in worker processes
        results = box.cast_many(casts, now=DURING, executor=pool)
    kinds = [type(r).__name__ for r in results]
    assert kinds == ["Receipt"] * 3 + ["VerificationFailed"] + ["Receipt"] * 3
    assert [r.position for r in results if isinstance(r, Receipt)] == [1, 2, 3, 4, 5, 1]
    assert results[-1] == results[0]


def test_the_log_detects_tampering(e: Election, box: BallotBox, store_location: str) -> None:
    for _ in range(3):
        box.cast(e.cast(e.credential("b"), MAYOR), now=DURING)
    assert box.verify_log() == 3
    execute(store_location, "UPDATE log SET prev = hash WHERE position = 2")
    with pytest.raises(VerificationFailed) as info:
        box.verify_log()
    assert (info.value.check, info.value.subject) == ("box-log", "position 2")
    assert info.value.detail == "does not link to the previous entry"


def _race(path: str, saved: str, cast_json: str, barrier: object, out: object) -> None:
    e = _load_election(saved)
    box = BallotBox(path, e.context, e.public_keys, BOX_KEY)
    cast = CastBallot.from_json(e.context, json.loads(cast_json))
    barrier.wait()  # type: ignore[attr-defined]
    try:
        box.cast(cast, now=DURING)
        out.put("counted")  # type: ignore[attr-defined]
    except RuleViolation as exc:
        out.put(str(exc.rule))  # type: ignore[attr-defined]


def test_two_racing_casts_of_one_credential_count_once(
    e: Election, store_location: str, tmp_path: Path
) -> None:
    path, saved = store_location, tmp_path / "election.json"
    _save_election(e, saved)
    BallotBox(path, e.context, e.public_keys, BOX_KEY).close()
    wallet = e.credential("b")
    casts = [json.dumps(e.cast(wallet, {"mayor": {f"m{i % 3}": 1}}).to_json(e.context)) for i in range(4)]
    results = race(_race, [(path, str(saved), c) for c in casts])
    assert results == ["counted"] + [str(Rule.CREDENTIAL_USED)] * 3
    box = BallotBox(path, e.context, e.public_keys, BOX_KEY)
    assert box.counts()["counted"] == 1 and box.verify_log() == 1


_CASTER = """
import json, sys
from degcore.board import BallotBox
from tests.election_fixtures import DURING
from tests.unit.board.test_box import BOX_KEY, MAYOR, _load_election
e = _load_election(sys.argv[2])
box = BallotBox(sys.argv[1], e.context, e.public_keys, BOX_KEY)
while True:
    receipt = box.cast(e.cast(e.credential("b"), MAYOR), now=DURING)
    print(json.dumps(receipt.to_json()), flush=True)
"""


def _save_election(e: Election, path: Path) -> None:
    pem = {
        style: key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        for style, key in e.issuer.items()
    }
    saved = {
        "config": e.context.ceremony.config.to_json(),
        "manifest": e.context.manifest.to_json(),
        "result": e.context.ceremony.to_json(),
        "issuer": pem,
    }
    path.write_text(json.dumps(saved))


def _load_election(path: str) -> Election:
    """The election ``_save_election`` wrote (a worker process cannot inherit the parent's)."""
    saved = json.loads(Path(path).read_text())
    config = CeremonyConfig.from_json(saved["config"])
    result = CeremonyResult.from_json(config, saved["result"])
    context = ElectionContext(Manifest.from_json(saved["manifest"]), result)
    keys = {s: serialization.load_pem_private_key(k.encode(), None) for s, k in saved["issuer"].items()}
    return Election(context, {}, keys)  # type: ignore[arg-type]


def test_nothing_acknowledged_is_lost_when_the_box_is_killed(
    e: Election, tmp_path: Path, store_location: str
) -> None:
    """SIGKILL a casting process at random moments; every receipt it gave out is in the log."""
    path = store_location
    saved = tmp_path / "election.json"
    _save_election(e, saved)
    repo = Path(__file__).resolve().parents[3]
    receipts: list[Receipt] = []
    for attempt in range(3):
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", _CASTER, str(path), str(saved)],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(repo)},
            text=True,
        )
        assert proc.stdout is not None
        wanted = 3 + 2 * attempt
        lines = [proc.stdout.readline() for _ in range(wanted)]
        time.sleep(0.013 * (attempt + 1))  # land somewhere inside the next cast
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=30)
        for line in [*lines, *rest.splitlines()]:
            if line.strip().startswith("{") and line.strip().endswith("}"):
                receipts.append(Receipt.from_json(json.loads(line)))
    box = BallotBox(path, e.context, e.public_keys, BOX_KEY)
    entries = box.verify_log()
    assert len(receipts) >= 9 and entries >= len(receipts)
    for receipt in receipts:
        assert box.find(receipt), receipt.position
    assert box.counts()["counted"] == entries  # no half-written ballot: every entry has its row
    more = box.cast(e.cast(e.credential("b"), MAYOR), now=DURING)
    assert more.position == entries + 1  # the chain continues


def _cast_all(location: str, saved: str, casts: list[str], barrier: object, out: object) -> None:
    e = _load_election(saved)
    box = BallotBox(location, e.context, e.public_keys, BOX_KEY)
    barrier.wait()  # type: ignore[attr-defined]
    accepted, refused = 0, 0
    for text in casts:
        try:
            box.cast(CastBallot.from_json(e.context, json.loads(text)), now=DURING)
            accepted += 1
        except RuleViolation as exc:
            assert exc.rule is Rule.CREDENTIAL_USED
            refused += 1
    box.close()
    out.put((accepted, refused))  # type: ignore[attr-defined]


def test_many_writers_keep_every_rule(e: Election, store_location: str, tmp_path: Path) -> None:
    """4 processes cast 80 ballots, 20 of them with credentials another process also uses.

    Afterwards each credential has exactly one ballot in the log (the first to commit), positions
    run 1…n without a gap or a repeat, and the chain and every signature verify.
    """
    BallotBox(store_location, e.context, e.public_keys, BOX_KEY).close()
    wallets = [e.credential("b") for _ in range(60)]
    per_process: list[list[str]] = [[] for _ in range(4)]
    for i, wallet in enumerate(wallets):
        per_process[i % 4].append(json.dumps(e.cast(wallet, MAYOR).to_json(e.context)))
    for i, wallet in enumerate(wallets[:20]):  # reused by the next process over
        per_process[(i + 1) % 4].append(json.dumps(e.cast(wallet, {"mayor": {"m2": 1}}).to_json(e.context)))
    saved = tmp_path / "election.json"
    _save_election(e, saved)
    outcomes = race(_cast_all, [(store_location, str(saved), casts) for casts in per_process])
    assert sum(a for a, _ in outcomes) == 60 and sum(r for _, r in outcomes) == 20  # type: ignore[misc]
    box = BallotBox(store_location, e.context, e.public_keys, BOX_KEY)
    assert box.verify_log() == 60
    assert [entry.position for entry in box.log()] == list(range(1, 61))
    credentials = [c.credential.id for c in box.counted()]
    assert sorted(credentials) == sorted(w.credential.id for w in wallets)
