"""Receipts bind the election, the ballot and its log entry; a box that drops a ballot is caught."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.signing import SigningKey, VerifyKey

from degcore.ballot import PlaintextBallot, encrypt_ballot, open_ballot
from degcore.board import BallotBox, CastBallot, Receipt
from degcore.encoding import canonical_json
from degcore.errors import InvalidInput, VerificationFailed
from tests.election_fixtures import DURING, ENDS, Election
from tests.unit.board.test_box import BOX_KEY, MAYOR

_FIELDS = ["election", "tracking_code", "position", "payload_hash", "entry_hash", "box_signature"]


def _framed(*parts: bytes) -> bytes:
    """sha256 over u64be(len) ‖ part for each part, written out here to pin the bytes."""
    return hashlib.sha256(b"".join(len(p).to_bytes(8, "big") + p for p in parts)).digest()


def test_the_receipt_bytes_are_exactly_those_of_protocol_9_4(e: Election, box: BallotBox) -> None:
    cast = e.cast(e.credential("b"), MAYOR)
    receipt = box.cast(cast, now=DURING)
    entry = next(box.log())
    payload = canonical_json(cast.to_json(e.context))
    assert entry.payload == payload
    obj = receipt.to_json()
    assert list(obj) == ["format", "type", *_FIELDS]
    assert obj["format"] == "degcore/4" and obj["type"] == "receipt"
    assert obj["election"] == e.context.base_hash.hex()
    assert obj["tracking_code"] == cast.ballot.tracking_code(e.context)
    assert obj["position"] == 1
    assert obj["payload_hash"] == _framed(payload).hex()
    assert obj["entry_hash"] == entry.hash.hex() == box.head().hex()
    signed = _framed(
        b"degcore/4/receipt",
        e.context.base_hash,
        bytes.fromhex(str(obj["tracking_code"])),
        (1).to_bytes(8, "big"),
        _framed(payload),
        entry.hash,
    )
    VerifyKey(box.public_key).verify(signed, bytes.fromhex(str(obj["box_signature"])))
    assert Receipt.from_json(json.loads(canonical_json(obj))) == receipt


def test_the_close_receipt_has_no_tracking_code(e: Election, box: BallotBox) -> None:
    box.cast(e.cast(e.credential("b"), MAYOR), now=DURING)
    closed = box.close_voting(now=ENDS)
    assert closed.tracking_code == "" and closed.position == 2
    closed.verify(box.public_key, e.context.base_hash)
    assert box.find(closed) and box.receipt("") == closed
    assert Receipt.from_json(closed.to_json()) == closed


def test_a_receipt_of_another_election_or_key_is_refused(e: Election, box: BallotBox) -> None:
    receipt = box.cast(e.cast(e.credential("b"), MAYOR), now=DURING)
    with pytest.raises(VerificationFailed, match="another election"):
        receipt.verify(box.public_key, bytes(32))
    with pytest.raises(VerificationFailed, match="signature"):
        receipt.verify(bytes(SigningKey.generate().verify_key), e.context.base_hash)
    moved = dataclasses.replace(receipt, election=bytes(32))
    assert not box.find(moved)


def test_a_dishonest_box_that_drops_a_ballot_cannot_give_a_receipt_that_passes(
    e: Election, box: BallotBox
) -> None:
    """The box holds its own key, logs another voter's ballot, drops hers and signs her a receipt.

    Whatever it signs, either her device (``verify`` + ``check_ballot``) or the log (``find``)
    refuses: the receipt names her ballot's bytes, and no entry of the log holds them.
    """
    other = e.cast(e.credential("b"), MAYOR)
    genuine = box.cast(other, now=DURING)
    hers = e.cast(e.credential("b"), {"mayor": {"m2": 1}})  # sent, never logged
    her_code = hers.ballot.tracking_code(e.context)
    her_payload = canonical_json(hers.to_json(e.context))
    entry = next(box.log())

    def signed(receipt: Receipt) -> Receipt:  # the dishonest box signs with its own key
        return dataclasses.replace(receipt, box_signature=BOX_KEY.sign(receipt.digest()).signature)

    # 1. the old attack: another entry's genuine receipt
    genuine.verify(box.public_key, e.context.base_hash)
    with pytest.raises(VerificationFailed, match="another ballot"):
        genuine.check_ballot(e.context, hers)
    # 2. her tracking code on the other entry, all of it signed
    relabelled = signed(dataclasses.replace(genuine, tracking_code=her_code))
    relabelled.verify(box.public_key, e.context.base_hash)
    with pytest.raises(VerificationFailed, match="not the ballot that was sent"):
        relabelled.check_ballot(e.context, hers)
    assert not box.find(relabelled)
    # 3. her tracking code and payload hash, pointing at the other entry's position and hash
    pointed = Receipt.issue(
        BOX_KEY,
        election=e.context.base_hash,
        tracking_code=her_code,
        position=entry.position,
        payload=her_payload,
        entry=entry.hash,
    )
    pointed.verify(box.public_key, e.context.base_hash)
    pointed.check_ballot(e.context, hers)  # her device is satisfied...
    assert not box.find(pointed)  # ...but the log is not
    # 4. a position the log does not have yet
    assert not box.find(signed(dataclasses.replace(pointed, position=2)))
    assert box.receipt(her_code) is None
    # her ballot, logged after all, then has a receipt that passes every check
    real = box.cast(hers, now=DURING)
    real.verify(box.public_key, e.context.base_hash)
    real.check_ballot(e.context, hers)
    assert box.find(real) and real.position == 2


def test_a_challenge_receipt_binds_the_opened_ballot(e: Election, box: BallotBox) -> None:
    wallet = e.credential("b")
    ballot, nonces = encrypt_ballot(e.context, PlaintextBallot("b", MAYOR), wallet.credential.public_key)
    opened = open_ballot(e.context, ballot, nonces)
    receipt = box.challenge(opened, now=DURING)
    receipt.check_ballot(e.context, opened)
    assert box.find(receipt) and box.receipt(receipt.tracking_code) == receipt
    other, other_nonces = encrypt_ballot(e.context, PlaintextBallot("b", MAYOR), wallet.credential.public_key)
    with pytest.raises(VerificationFailed):
        receipt.check_ballot(e.context, open_ballot(e.context, other, other_nonces))


@pytest.fixture(scope="module")
def logged(e: Election, tmp_path_factory: pytest.TempPathFactory) -> tuple[BallotBox, list[Receipt]]:
    box = BallotBox(tmp_path_factory.mktemp("receipts") / "box.sqlite", e.context, e.public_keys, BOX_KEY)
    return box, [box.cast(e.cast(e.credential("b"), MAYOR), now=DURING) for _ in range(3)]


def _mutate(receipt: Receipt, field: str, index: int, other: Receipt) -> Receipt:
    if field == "position":
        return dataclasses.replace(receipt, position=other.position)
    if field == "tracking_code":
        return dataclasses.replace(receipt, tracking_code=other.tracking_code)
    value = bytearray(getattr(receipt, field))
    value[index % len(value)] ^= 1 << (index % 8)
    return dataclasses.replace(receipt, **{field: bytes(value)})


@given(data=st.data())
def test_every_genuine_receipt_passes_and_any_changed_field_fails(
    e: Election, logged: tuple[BallotBox, list[Receipt]], data: st.DataObject
) -> None:
    which, other = data.draw(st.integers(0, 2)), data.draw(st.integers(1, 2))
    field, index = data.draw(st.sampled_from(_FIELDS)), data.draw(st.integers(0, 511))
    box, receipts = logged
    receipt = receipts[which]
    receipt.verify(box.public_key, e.context.base_hash)  # completeness
    assert box.find(receipt) and box.receipt(receipt.tracking_code) == receipt
    changed = _mutate(receipt, field, index, receipts[(which + other) % 3])
    with pytest.raises(VerificationFailed):  # soundness: no field can change under the signature
        changed.verify(box.public_key, e.context.base_hash)
    assert not box.find(changed)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("position", 0),
        ("position", True),
        ("position", "1"),
        ("tracking_code", "AB" * 32),
        ("tracking_code", "ab" * 31),
        ("entry_hash", "00" * 31),
        ("box_signature", "00" * 63),
        ("election", None),
    ],
)
def test_a_malformed_receipt_is_refused(e: Election, tmp_path: Path, field: str, value: object) -> None:
    box = BallotBox(tmp_path / "box.sqlite", e.context, e.public_keys, BOX_KEY)
    good = box.cast(e.cast(e.credential("b"), MAYOR), now=DURING).to_json()
    with pytest.raises(InvalidInput):
        Receipt.from_json({**good, field: value})
    with pytest.raises(InvalidInput):
        Receipt.from_json({k: v for k, v in good.items() if k != field})
    with pytest.raises(InvalidInput):  # the degcore/2 receipt before this one carried the head alone
        Receipt.from_json({**good, "head": good["entry_hash"]})


def test_check_ballot_accepts_a_cast_ballot_round_tripped_through_json(e: Election, box: BallotBox) -> None:
    cast = e.cast(e.credential("b"), MAYOR)
    receipt = box.cast(cast, now=DURING)
    again = CastBallot.from_json(e.context, json.loads(canonical_json(cast.to_json(e.context))))
    receipt.check_ballot(e.context, again)
