"""Credentials and the issuer: checks, tampering, once-only issuance (races, crashes), unlinkability."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import sqlite3
import string
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from degcore.errors import Ineligible, InvalidInput, NonCanonical, Rule, RuleViolation, VerificationFailed
from degcore.issuance import (
    Credential,
    Issuer,
    StaticEligibility,
    VoterCredential,
    finish_credential,
    load_issuer_key,
    public_key_pem,
    request_credential,
    rsabssa,
    save_issuer_key,
)
from degcore.parallel import mp_context

NOW = datetime(2026, 9, 18, 9, 0, tzinfo=UTC)
ELECTION = "duma-2026"
VOTERS = {"voter-1": "district-1", "voter-2": "district-1", "voter-3": "district-2"}


@functools.cache
def _keys() -> dict[str, rsa.RSAPrivateKey]:
    return {"district-1": rsabssa.generate_key(2048), "district-2": rsabssa.generate_key(2048)}


def _issuer(tmp_path: Path) -> Issuer:
    return Issuer(tmp_path / "issuer.sqlite", ELECTION, _keys(), StaticEligibility(VOTERS))


def _obtain(issuer: Issuer, voter: str, style: str) -> VoterCredential:
    pk = issuer.public_keys()[style]
    request = request_credential(pk, ELECTION, style)
    return finish_credential(request, issuer.issue(voter, style, request.blinded_msg, now=NOW), pk)


def test_credential_round_trip_and_checks(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path)
    voter = _obtain(issuer, "voter-1", "district-1")
    cred = voter.credential
    keys = issuer.public_keys()
    cred.verify(keys["district-1"])
    with pytest.raises(VerificationFailed):  # a credential for one district is useless for another
        cred.verify(keys["district-2"])
    assert Credential.from_json(cred.to_json()) == cred
    payload = b"ballot bytes"
    cred.verify_ballot_signature(payload, voter.sign(payload))
    with pytest.raises(VerificationFailed):
        cred.verify_ballot_signature(payload + b"!", voter.sign(payload))
    assert issuer.issued_count() == {"district-1": 1}


@pytest.mark.parametrize(
    "change",
    [
        {"election_id": "duma-2027"},
        {"ballot_style": "district-2"},
        {"public_key": bytes(32)},
        {"prefix": bytes(32)},
        {"signature": bytes(256)},
    ],
)
def test_tampered_credentials_are_rejected(tmp_path: Path, change: dict[str, object]) -> None:
    issuer = _issuer(tmp_path)
    cred = _obtain(issuer, "voter-1", "district-1").credential
    with pytest.raises(VerificationFailed):
        dataclasses.replace(cred, **change).verify(issuer.public_keys()["district-1"])


def test_qr_payloads(tmp_path: Path) -> None:
    voter = _obtain(_issuer(tmp_path), "voter-2", "district-1")
    text = voter.credential.to_qr_text()
    assert set(text) <= set(string.ascii_uppercase + string.digits + " $%*+-./:")  # QR alphanumeric mode
    assert Credential.from_qr_text(text) == voter.credential
    secret = voter.to_qr_text()
    moved = VoterCredential.from_qr_text(secret)
    assert moved.credential == voter.credential
    assert moved.sign(b"x") == voter.sign(b"x")
    assert "hidden" in repr(voter)
    with pytest.raises(InvalidInput):
        Credential.from_qr_text(secret)  # wrong prefix
    with pytest.raises(InvalidInput):
        Credential.from_qr_text("DEGCORE2-CRED:!!!")
    (tmp_path / "other").mkdir()
    other = _obtain(_issuer(tmp_path / "other"), "voter-1", "district-1")
    mixed = VoterCredential(voter.credential, other.signing_key).to_qr_text()
    with pytest.raises(InvalidInput, match="does not belong"):
        VoterCredential.from_qr_text(mixed)


def test_credential_json_is_strict(tmp_path: Path) -> None:
    obj = _obtain(_issuer(tmp_path), "voter-1", "district-1").credential.to_json()
    for bad in [
        {**obj, "extra": "1"},
        {k: v for k, v in obj.items() if k != "prefix"},
        {**obj, "public_key": obj["public_key"].upper()},
        {**obj, "election_id": "bad id with spaces"},
        {**obj, "type": "ballot"},
    ]:
        with pytest.raises(InvalidInput):
            Credential.from_json(bad)
    with pytest.raises(NonCanonical):
        Credential.from_json({**obj, "prefix": obj["prefix"][:-2]})


def test_issuer_refuses_ineligible_unknown_and_second_requests(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path)
    pk = issuer.public_keys()["district-1"]
    request = request_credential(pk, ELECTION, "district-1")
    with pytest.raises(Ineligible) as info:
        issuer.issue("stranger", "district-1", request.blinded_msg, now=NOW)
    assert info.value.reason == "not_on_list"
    with pytest.raises(Ineligible):
        issuer.issue("voter-3", "district-1", request.blinded_msg, now=NOW)
    with pytest.raises(InvalidInput):
        issuer.issue("voter-1", "district-9", request.blinded_msg, now=NOW)
    with pytest.raises(InvalidInput):
        issuer.issue("voter-1", "district-1", request.blinded_msg, now=datetime(2026, 9, 18))
    with pytest.raises(InvalidInput):
        issuer.issue("voter-1", "district-1", request.blinded_msg.hex(), now=NOW)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):  # blinded message >= n: nothing recorded
        issuer.issue("voter-1", "district-1", b"\xff" * 256, now=NOW)
    assert issuer.issued_count() == {}
    first = issuer.issue("voter-1", "district-1", request.blinded_msg, now=NOW)
    # A lost answer is recovered by asking again with the same request: the same signature.
    assert issuer.issue("voter-1", "district-1", request.blinded_msg, now=NOW) == first
    second = request_credential(pk, ELECTION, "district-1")
    with pytest.raises(RuleViolation) as refused:
        issuer.issue("voter-1", "district-1", second.blinded_msg, now=NOW)
    assert refused.value.rule == Rule.ALREADY_ISSUED
    assert issuer.issued_count() == {"district-1": 1}


def test_two_threads_racing_for_one_voter(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path)
    pk = issuer.public_keys()["district-1"]
    requests = [request_credential(pk, ELECTION, "district-1") for _ in range(4)]
    barrier = threading.Barrier(len(requests))
    outcomes: list[str] = []

    def race(blinded: bytes) -> None:
        barrier.wait()
        try:
            issuer.issue("voter-2", "district-1", blinded, now=NOW)
            outcomes.append("issued")
        except RuleViolation:
            outcomes.append("refused")

    threads = [threading.Thread(target=race, args=(r.blinded_msg,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["issued", "refused", "refused", "refused"]
    assert issuer.issued_count() == {"district-1": 1}


def _crash_while_signing(db: str, blinded: bytes) -> None:
    """Child process: record the voter, then die inside blind_sign before the commit."""

    issuer = Issuer(db, ELECTION, _keys(), StaticEligibility(VOTERS))

    def die(*_: object) -> bytes:
        os._exit(3)

    rsabssa.blind_sign = die  # type: ignore[assignment]
    issuer.issue("voter-1", "district-1", blinded, now=NOW)


def test_crash_between_recording_and_signing_hands_out_nothing(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path)
    pk = issuer.public_keys()["district-1"]
    request = request_credential(pk, ELECTION, "district-1")
    ctx = mp_context()
    child = ctx.Process(
        target=_crash_while_signing, args=(str(tmp_path / "issuer.sqlite"), request.blinded_msg)
    )
    child.start()
    child.join()
    assert child.exitcode == 3
    assert issuer.issued_count() == {}  # the uncommitted row died with the process
    # The voter retries and gets exactly one credential.
    voter = finish_credential(
        request, issuer.issue("voter-1", "district-1", request.blinded_msg, now=NOW), pk
    )
    voter.credential.verify(pk)
    assert issuer.issued_count() == {"district-1": 1}


def test_issuer_learns_and_stores_nothing_linkable(tmp_path: Path) -> None:
    """Scan every byte the issuer received, answered and stored for the credential and its hashes."""
    issuer = _issuer(tmp_path)
    pk = issuer.public_keys()["district-1"]
    request = request_credential(pk, ELECTION, "district-1")
    received = b"voter-1" + b"district-1" + request.blinded_msg
    answered = issuer.issue("voter-1", "district-1", request.blinded_msg, now=NOW)
    cred = finish_credential(request, answered, pk).credential
    stored = b""
    for f in tmp_path.iterdir():
        stored += f.read_bytes()
    with sqlite3.connect(tmp_path / "issuer.sqlite") as conn:
        for row in conn.execute("SELECT * FROM issued"):
            stored += repr(row).encode()
    secrets_of_the_credential = [cred.public_key, cred.signature, cred.message(), cred.prefix]
    needles = []
    for s in secrets_of_the_credential:
        digest = hashlib.sha256(s).digest()
        needles += [s, s.hex().encode(), digest, digest.hex().encode()]
    for haystack in (received, answered, stored):
        for needle in needles:
            assert needle not in haystack


def test_issuer_key_storage(tmp_path: Path) -> None:
    key = _keys()["district-1"]
    pem = save_issuer_key(key, b"correct horse")
    assert load_issuer_key(pem, b"correct horse").private_numbers() == key.private_numbers()
    with pytest.raises(InvalidInput):
        load_issuer_key(pem, b"wrong")
    with pytest.raises(InvalidInput):
        save_issuer_key(key, b"")
    assert b"BEGIN PUBLIC KEY" in public_key_pem(key.public_key())
    with pytest.raises(InvalidInput):
        Issuer(tmp_path / "i.sqlite", ELECTION, {}, StaticEligibility(VOTERS))
    with pytest.raises(InvalidInput):
        Issuer(tmp_path / "i.sqlite", "bad election id", _keys(), StaticEligibility(VOTERS))
