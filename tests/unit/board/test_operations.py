"""What a box operator relies on: one key per store, safe retries, a log that never goes back in time."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.signing import SigningKey

from degcore.ballot import ElectionContext, PlaintextBallot, encrypt_ballot, open_ballot
from degcore.board import BallotBox, CastBallot, LogEntry, Policy, Receipt, verify_entries
from degcore.board.log import entry_hash
from degcore.errors import InvalidInput, Rule, RuleViolation, StorageError, VerificationFailed
from degcore.groups import get_group
from degcore.issuance import public_key_pem
from tests.conftest import query, race
from tests.election_fixtures import DURING, ENDS, STARTS, Election, election
from tests.unit.board.conftest import store_fails
from tests.unit.board.test_box import BOX_KEY, MAYOR, _load_election, _save_election

OTHER_KEY = SigningKey(bytes(range(1, 33)))


def _entries(location: str) -> int:
    return int(str(query(location, "SELECT COUNT(*) FROM log")[0][0]))


# --- one key per store ----------------------------------------------------------------------------
def test_a_store_reopened_with_another_key_is_refused(
    e: Election, box: BallotBox, store_location: str
) -> None:
    box.cast(e.cast(e.credential("b"), MAYOR), now=DURING)
    with pytest.raises(InvalidInput, match="box_key"):
        BallotBox(store_location, e.context, e.public_keys, OTHER_KEY)
    assert _entries(store_location) == 1
    again = BallotBox(store_location, e.context, e.public_keys, BOX_KEY)
    again.cast(e.cast(e.credential("b"), MAYOR), now=DURING)
    assert again.verify_log() == 2
    again.close()


def _open(location: str, saved: str, key_seed: bytes, barrier: object, out: object) -> None:
    e = _load_election(saved)  # the processes start fresh: the same election comes from the saved file
    barrier.wait()  # type: ignore[attr-defined]
    try:
        box = BallotBox(location, e.context, e.public_keys, SigningKey(key_seed))
        box.cast(e.cast(e.credential("b"), MAYOR), now=DURING)
        box.close()
        out.put(f"opened {key_seed[0]}")  # type: ignore[attr-defined]
    except InvalidInput:
        out.put("refused")  # type: ignore[attr-defined]


def test_two_processes_share_a_new_store_only_with_the_same_key(store_location: str, tmp_path: Path) -> None:
    """Two processes open one new store at once, with two keys: exactly one of them gets it."""
    saved = str(_saved(tmp_path))
    outcomes = race(
        _open, [(store_location, saved, bytes([1] * 32)), (store_location, saved, bytes([2] * 32))]
    )
    assert len(outcomes) == 2 and "refused" in outcomes and outcomes != ["refused", "refused"]
    winner = SigningKey(bytes([int(str(next(o for o in outcomes if o != "refused"))[-1])] * 32))
    e = election(get_group("ristretto255"))
    box = BallotBox(store_location, e.context, e.public_keys, winner)
    assert box.verify_log() == 1
    box.close()


def test_two_processes_with_the_same_key_share_a_store(store_location: str, tmp_path: Path) -> None:
    seed, saved = bytes([3] * 32), str(_saved(tmp_path))
    assert race(_open, [(store_location, saved, seed), (store_location, saved, seed)]) == [
        "opened 3",
        "opened 3",
    ]


def _saved(tmp_path: Path) -> Path:
    path = tmp_path / "election.json"
    _save_election(election(get_group("ristretto255")), path)
    return path


@dataclasses.dataclass(frozen=True)
class _Setup:
    box_key: bytes
    box_policy: str
    issuer_keys: dict[str, str]


class _WithSetup:
    """An ElectionContext whose ``setup`` holds just the three fields the box checks."""

    def __init__(self, context: ElectionContext, setup: _Setup) -> None:
        self._context, self.setup = context, setup

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def _pems(keys: dict[str, rsa.RSAPublicKey]) -> dict[str, str]:
    return {style: public_key_pem(key).decode() for style, key in keys.items()}


def test_the_signed_setup_fixes_the_box_key_policy_and_issuer_keys(e: Election, store_location: str) -> None:
    setup = _Setup(bytes(BOX_KEY.verify_key), "last", _pems(e.public_keys))
    context: Any = _WithSetup(e.context, setup)
    with pytest.raises(InvalidInput, match="box key of the signed election setup"):
        BallotBox(store_location, context, e.public_keys, OTHER_KEY)
    with pytest.raises(InvalidInput, match="policy"):
        BallotBox(store_location, context, e.public_keys, BOX_KEY, policy=Policy.FIRST)
    swapped = {**e.public_keys, "b": e.public_keys["a"]}
    with pytest.raises(InvalidInput, match="issuer keys"):
        BallotBox(store_location, context, swapped, BOX_KEY)
    box = BallotBox(store_location, context, e.public_keys, BOX_KEY)  # the policy comes from the setup
    assert box.policy is Policy.LAST
    assert box.cast(e.cast(e.credential("b"), MAYOR), now=DURING).position == 1
    box.close()


# --- idempotent casting ---------------------------------------------------------------------------
def test_an_identical_retry_returns_the_original_receipt(e: Election, box: BallotBox) -> None:
    wallet = e.credential("b")
    cast = e.cast(wallet, MAYOR)
    first = box.cast(cast, now=DURING)
    box.cast(e.cast(e.credential("b"), MAYOR), now=DURING + timedelta(minutes=1))
    assert box.cast(cast, now=DURING + timedelta(minutes=2)) == first
    assert box.cast(cast) == first  # the box's own clock is long past the voting window
    assert box.receipt(first.tracking_code) == first
    with pytest.raises(RuleViolation) as second:  # the same credential, another ballot
        box.cast(e.cast(wallet, {"mayor": {"m2": 1}}), now=DURING + timedelta(minutes=3))
    assert second.value.rule is Rule.CREDENTIAL_USED
    box.close_voting(now=ENDS)
    assert box.cast(cast, now=ENDS) == first  # after the close, too
    assert box.cast_many([cast], now=ENDS) == [first]
    assert box.counts()["counted"] == 2 and box.verify_log() == 3
    assert box.receipt("ab" * 32) is None


def test_a_retry_with_altered_bytes_gets_no_receipt(e: Election, box: BallotBox) -> None:
    """The same ballot (same tracking code) with a forged signature: refused for the signature."""
    cast = e.cast(e.credential("b"), MAYOR)
    box.cast(cast, now=DURING)
    with pytest.raises(VerificationFailed) as info:
        box.cast(dataclasses.replace(cast, signature=bytes(64)), now=DURING)
    assert info.value.check == "ballot-signature" and box.verify_log() == 1


def test_a_retry_after_a_lost_answer_gets_the_original_receipt(
    e: Election, box: BallotBox, store_location: str
) -> None:
    cast = e.cast(e.credential("b"), MAYOR)
    with store_fails(box, after_commit=True), pytest.raises(StorageError):
        box.cast(cast, now=DURING)
    assert _entries(store_location) == 1  # committed, but the client never heard
    retried = box.cast(cast, now=DURING + timedelta(seconds=5))
    assert retried.position == 1 and box.cast(cast, now=DURING + timedelta(seconds=6)) == retried
    retried.verify(box.public_key, e.context.base_hash)
    retried.check_ballot(e.context, cast)
    other = BallotBox(store_location, e.context, e.public_keys, BOX_KEY)  # another process, later
    assert other.receipt(cast.ballot.tracking_code(e.context)) == retried and other.find(retried)
    other.close()
    assert box.counts()["counted"] == 1 and box.verify_log() == 1


def test_a_lost_answer_to_a_challenge_is_recovered_the_same_way(e: Election, box: BallotBox) -> None:
    wallet = e.credential("b")
    ballot, nonces = encrypt_ballot(e.context, PlaintextBallot("b", MAYOR), wallet.credential.public_key)
    opened = open_ballot(e.context, ballot, nonces)
    with store_fails(box, after_commit=True), pytest.raises(StorageError):
        box.challenge(opened, now=DURING)
    receipt = box.challenge(opened, now=DURING)
    assert receipt.position == 1 and box.receipt(receipt.tracking_code) == receipt


def _cast_same(location: str, saved: str, cast_json: str, barrier: object, out: object) -> None:
    e = _load_election(saved)
    box = BallotBox(location, e.context, e.public_keys, BOX_KEY)
    cast = CastBallot.from_json(e.context, json.loads(cast_json))
    barrier.wait()  # type: ignore[attr-defined]
    out.put(json.dumps(box.cast(cast, now=DURING).to_json()))  # type: ignore[attr-defined]


def test_racing_identical_retries_all_get_the_one_receipt(
    e: Election, store_location: str, tmp_path: Path
) -> None:
    BallotBox(store_location, e.context, e.public_keys, BOX_KEY).close()
    cast = json.dumps(e.cast(e.credential("b"), MAYOR).to_json(e.context))
    saved = str(_saved(tmp_path))
    receipts = {str(r) for r in race(_cast_same, [(store_location, saved, cast)] * 3)}
    assert len(receipts) == 1 and Receipt.from_json(json.loads(receipts.pop())).position == 1
    assert _entries(store_location) == 1


# --- a monotonic log ------------------------------------------------------------------------------
def test_a_cast_stamped_before_the_last_entry_is_refused_and_logged(
    e: Election, box: BallotBox, store_location: str, caplog: pytest.LogCaptureFixture
) -> None:
    box.cast(e.cast(e.credential("b"), MAYOR), now=DURING)
    wallet = e.credential("b")
    ballot, nonces = encrypt_ballot(e.context, PlaintextBallot("b", MAYOR), wallet.credential.public_key)
    earlier = {
        "an hour earlier": lambda: box.cast(
            e.cast(e.credential("b"), MAYOR), now=DURING - timedelta(hours=1)
        ),
        "a microsecond earlier": lambda: box.cast(
            e.cast(e.credential("b"), MAYOR), now=DURING - timedelta(microseconds=1)
        ),
        "a challenge earlier": lambda: box.challenge(
            open_ballot(e.context, ballot, nonces), now=DURING - timedelta(minutes=1)
        ),
    }
    with caplog.at_level(logging.WARNING, logger="degcore.board"):
        for label, attempt in earlier.items():
            with pytest.raises(RuleViolation) as info:
                attempt()
            assert info.value.rule is Rule.TIME_ORDER, label
    assert sum("clock went backwards" in r.getMessage() for r in caplog.records) == 3
    assert _entries(store_location) == 1
    assert box.cast(e.cast(e.credential("b"), MAYOR), now=DURING).position == 2  # the same time is fine


def test_the_close_comes_at_or_after_the_end_of_voting(e: Election, box: BallotBox) -> None:
    box.cast(e.cast(e.credential("b"), MAYOR), now=DURING)
    for too_early in (STARTS, DURING, ENDS - timedelta(microseconds=1)):
        with pytest.raises(RuleViolation) as info:
            box.close_voting(now=too_early)
        assert info.value.rule is Rule.OUTSIDE_WINDOW
    closed = box.close_voting(now=ENDS)
    assert [entry.at for entry in box.log()][-1] == "2026-09-20T17:00:00Z" and closed.position == 2
    with pytest.raises(RuleViolation):  # nothing after the close, even a later ballot time
        box.cast(e.cast(e.credential("b"), MAYOR), now=DURING)


class _Clock:
    """A clock the test sets by hand (the box reads it for every entry when no ``now`` is passed)."""

    def __init__(self, *times: datetime) -> None:
        self.times = list(times)

    def __call__(self) -> datetime:
        return self.times.pop(0) if len(self.times) > 1 else self.times[0]


def _clocked(e: Election, location: str, clock: Callable[[], datetime]) -> BallotBox:
    return BallotBox(location, e.context, e.public_keys, BOX_KEY, clock=clock)


def test_the_box_stamps_entries_with_its_own_clock(e: Election, store_location: str) -> None:
    clock = _Clock(DURING)
    box = _clocked(e, store_location, clock)
    box.cast(e.cast(e.credential("b"), MAYOR))
    clock.times = [DURING - timedelta(seconds=3)]  # NTP stepped the clock back
    with pytest.raises(RuleViolation) as info:
        box.cast(e.cast(e.credential("b"), MAYOR))
    assert info.value.rule is Rule.TIME_ORDER
    clock.times = [DURING + timedelta(seconds=1)]
    box.cast(e.cast(e.credential("b"), MAYOR))
    clock.times = [ENDS]
    box.close_voting()
    assert [entry.at for entry in box.log()] == [
        "2026-09-18T07:00:00Z", "2026-09-18T07:00:01Z", "2026-09-20T17:00:00Z",
    ]  # fmt: skip
    assert box.verify_log() == 3
    box.close()


def test_the_window_is_checked_at_the_time_the_entry_gets(e: Election, store_location: str) -> None:
    """Checked just before the end of voting, stamped at the end: refused, nothing logged."""
    box = _clocked(e, store_location, _Clock(ENDS - timedelta(microseconds=1), ENDS))
    with pytest.raises(RuleViolation) as info:
        box.cast(e.cast(e.credential("b"), MAYOR))
    assert info.value.rule is Rule.OUTSIDE_WINDOW and _entries(store_location) == 0
    box.close()


def test_verify_entries_reports_time_going_backwards() -> None:
    """A dishonest box re-chains and re-signs entries out of time order: the chain check names it."""
    entries, prev = [], bytes(32)
    for position, at in ((1, "2026-09-18T08:00:00Z"), (2, "2026-09-18T07:00:00Z")):
        digest = entry_hash(prev, position, "ballot", b"{}", at)
        entries.append(LogEntry(position, "ballot", b"{}", at, prev, digest, BOX_KEY.sign(digest).signature))
        prev = digest
    with pytest.raises(VerificationFailed) as info:
        verify_entries(iter(entries), bytes(BOX_KEY.verify_key))
    assert (info.value.check, info.value.subject) == ("box-log", "position 2")
    assert "before the previous entry" in info.value.detail
