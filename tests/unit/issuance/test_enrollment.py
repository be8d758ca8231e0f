"""Voter keys, enrollment receipts, the enrollment list and the signed credential request, read strictly."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.signing import SigningKey

from degcore.encoding import canonical_json
from degcore.errors import InvalidInput, NonCanonical, UnsupportedFormat, VerificationFailed
from degcore.issuance import (
    Enrollment,
    EnrollmentList,
    EnrollmentReceipt,
    check_request_signature,
    check_voter_key,
    sign_credential_request,
)
from degcore.issuance.enrollment import credential_request, enrollment_lines, parse_enrollment_line
from tests.unit.issuance.common import ELECTION, enrollment, voter_key, voter_ref

REGISTRY = SigningKey(bytes(range(32)))
AT = datetime(2026, 9, 1, 12, tzinfo=UTC)
#: Encodings no voter key may have: the identity, a point of order 2, the all-zero string, a
#: non-canonical y (p + 1), and bytes that decode to no point.
BAD_KEYS = [
    bytes([1]) + bytes(31),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes(32),
    bytes.fromhex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("02" + "00" * 31),
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_small_order_and_invalid_keys_are_refused(key: bytes) -> None:
    with pytest.raises(InvalidInput):
        check_voter_key(key)
    with pytest.raises(InvalidInput):
        check_voter_key(key.hex())


def test_a_real_key_is_accepted_in_either_form() -> None:
    key = bytes(voter_key("v1").verify_key)
    assert check_voter_key(key) == key == check_voter_key(key.hex())
    for bad in (key.hex().upper(), key[:31], 42, key.hex() + "00"):
        with pytest.raises(InvalidInput):
            check_voter_key(bad)


def test_the_request_binds_election_style_reference_and_message() -> None:
    blinded = b"\x01" * 256
    entry = enrollment("v1", "s1")
    signature = sign_credential_request(voter_key("v1"), ELECTION, "s1", entry.voter_ref, blinded)
    digest = hashlib.sha256(blinded).digest()
    check_request_signature(entry, ELECTION, digest, signature)
    message = credential_request(ELECTION, "s1", entry.voter_ref, digest)
    assert (
        message.startswith(b'{"ballot_style":"s1","election_id"') and b'"type":"issuance-request"' in message
    )
    for other_entry, election, other_digest in (
        (entry, "other-2026", digest),
        (Enrollment(entry.voter_ref, entry.voter_key, "s2"), ELECTION, digest),
        (Enrollment(voter_ref("v2"), entry.voter_key, "s1"), ELECTION, digest),
        (enrollment("v2", "s1"), ELECTION, digest),  # another voter's key
        (entry, ELECTION, hashlib.sha256(b"other").digest()),
    ):
        with pytest.raises(VerificationFailed) as refused:
            check_request_signature(other_entry, election, other_digest, signature)
        assert refused.value.check == "issuance-request"


@given(st.binary(min_size=64, max_size=64))
def test_no_other_signature_authorises_the_request(signature: bytes) -> None:
    """Soundness: a random 64-byte string never verifies as the voter's signature."""
    with pytest.raises(VerificationFailed):
        check_request_signature(enrollment("v1", "s1"), ELECTION, bytes(32), signature)


def _receipt() -> EnrollmentReceipt:
    return EnrollmentReceipt.sign(REGISTRY, ELECTION, enrollment("v1", "s1"), bytes(range(32)), AT)


def test_the_receipt_round_trips_and_is_signed_over_every_field() -> None:
    receipt = _receipt()
    receipt.verify(bytes(REGISTRY.verify_key))
    assert EnrollmentReceipt.from_json(receipt.to_json()) == receipt
    assert receipt.enrollment == enrollment("v1", "s1")
    for field, value in (
        ("ballot_style", "s2"),
        ("enrolled_at", "2026-09-02T12:00:00Z"),
        ("salt", "00" * 32),
    ):
        changed = EnrollmentReceipt.from_json({**receipt.to_json(), field: value})
        with pytest.raises(VerificationFailed):
            changed.verify(bytes(REGISTRY.verify_key))


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda o: o.update(format="degcore/3"), UnsupportedFormat),
        (lambda o: o.update(type="enrollment"), InvalidInput),
        (lambda o: o.pop("salt"), InvalidInput),
        (lambda o: o.update(extra=1), InvalidInput),
        (lambda o: o.update(voter_key="00" * 32), InvalidInput),
        (lambda o: o.update(salt="AB" * 32), NonCanonical),
        (lambda o: o.update(enrolled_at="2026-09-01T15:00:00+03:00"), NonCanonical),
        (lambda o: o.update(ballot_style="s 1"), InvalidInput),
    ],
)
def test_the_receipt_parser_is_strict(change: object, error: type[Exception]) -> None:
    obj = copy.deepcopy(_receipt().to_json())
    change(obj)  # type: ignore[operator]
    with pytest.raises(error):
        EnrollmentReceipt.from_json(obj)


def test_the_list_lines_are_ordered_canonical_and_bound_by_the_head() -> None:
    entries = [enrollment(v, s) for v, s in (("v1", "s1"), ("v2", "s2"), ("v3", "s1"))]
    head, lines = EnrollmentList.sign(REGISTRY, ELECTION, AT, reversed(entries), bytes(32))
    assert enrollment_lines(entries) == lines  # one order: by reference, whatever order they came in
    parsed = [parse_enrollment_line(line) for line in lines.splitlines(keepends=True)]
    assert [e.voter_ref for e in parsed] == sorted(e.voter_ref for e in entries)
    assert head.entries == 3 and dict(head.counts) == {"s1": 2, "s2": 1}
    assert head.entries_sha256 == hashlib.sha256(lines).digest()
    head.verify(bytes(REGISTRY.verify_key))
    obj = head.to_json()
    obj["counts"] = {"s1": 2}  # the registry's own key cannot make a wrong sum pass the parser
    with pytest.raises(InvalidInput, match="sum"):
        EnrollmentList.from_json(obj)
    line = lines.splitlines()[0]
    for bad in (line.replace(b",", b", ", 1), line.replace(b'"enrollment"', b'"enrolment"'), line + b"x"):
        with pytest.raises((InvalidInput, NonCanonical)):
            parse_enrollment_line(bad)
    assert canonical_json(parsed[0].to_json()) == line
