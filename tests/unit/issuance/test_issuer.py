"""Credentials and the issuer's rules: checks, tampering, the window, once-only issuance, keys.

Races, crashes and the privacy scan on both stores are in test_issuer_store.py; the log in
test_issuance_log.py.
"""

from __future__ import annotations

import dataclasses
import json
import string
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from degcore.errors import Ineligible, InvalidInput, NonCanonical, Rule, RuleViolation, VerificationFailed
from degcore.issuance import (
    Credential,
    Enrollment,
    Issuer,
    StaticEligibility,
    VoterCredential,
    load_issuer_key,
    public_key_pem,
    request_credential,
    save_issuer_key,
    sign_credential_request,
)
from tests.unit.issuance.common import (
    CLOSES,
    ELECTION,
    NOW,
    OPENS,
    VOTERS,
    eligible,
    enrollment,
    issue,
    log_key,
    make_issuer,
    obtain,
    signed,
    voter_key,
    voter_ref,
)
from tests.unit.issuance.common import keys as _keys


def _issuer(tmp_path: Path) -> Issuer:
    return make_issuer(tmp_path / "issuer.sqlite")


def test_credential_round_trip_and_checks(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path)
    voter = obtain(issuer, "voter-1", "district-1")
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
    assert issuer.issued_count() == {"district-1": 1, "district-2": 0}


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
    cred = obtain(issuer, "voter-1", "district-1").credential
    with pytest.raises(VerificationFailed):
        dataclasses.replace(cred, **change).verify(issuer.public_keys()["district-1"])


def test_qr_payloads(tmp_path: Path) -> None:
    voter = obtain(_issuer(tmp_path), "voter-2", "district-1")
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
    other = obtain(_issuer(tmp_path / "other"), "voter-1", "district-1")
    mixed = VoterCredential(voter.credential, other.signing_key).to_qr_text()
    with pytest.raises(InvalidInput, match="does not belong"):
        VoterCredential.from_qr_text(mixed)


def test_credential_json_is_strict(tmp_path: Path) -> None:
    obj = obtain(_issuer(tmp_path), "voter-1", "district-1").credential.to_json()
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
        issue(issuer, "stranger", "district-1", request.blinded_msg, now=NOW)
    assert info.value.reason == "not_on_list"
    with pytest.raises(Ineligible):
        issue(issuer, "voter-3", "district-1", request.blinded_msg, now=NOW)
    with pytest.raises(InvalidInput):
        issue(issuer, "voter-1", "district-9", request.blinded_msg, now=NOW)
    with pytest.raises(InvalidInput):
        issue(issuer, "voter-1", "district-1", request.blinded_msg, now=datetime(2026, 9, 18))
    with pytest.raises(InvalidInput):
        issuer.issue(
            "voter-1",
            "district-1",
            request.blinded_msg.hex(),
            request_signature=bytes(64),
            now=NOW,  # type: ignore[arg-type]
        )
    with pytest.raises(InvalidInput):  # blinded message >= n: nothing recorded
        issue(issuer, "voter-1", "district-1", b"\xff" * 256, now=NOW)
    assert issuer.issued_count() == {"district-1": 0, "district-2": 0}
    assert list(issuer.log()) == []
    first = issue(issuer, "voter-1", "district-1", request.blinded_msg, now=NOW)
    # A lost answer is recovered by asking again with the same request: the same signature.
    assert issue(issuer, "voter-1", "district-1", request.blinded_msg, now=NOW) == first
    second = request_credential(pk, ELECTION, "district-1")
    with pytest.raises(RuleViolation) as refused:
        issue(issuer, "voter-1", "district-1", second.blinded_msg, now=NOW)
    assert refused.value.rule == Rule.ALREADY_ISSUED
    assert issuer.issued_count() == {"district-1": 1, "district-2": 0}
    assert len(list(issuer.log())) == 1


def test_the_issuer_signs_only_what_the_voter_signed_with_her_enrolled_key(tmp_path: Path) -> None:
    """A dishonest issuer operator (or a thief of the voter's session) cannot ask in her name."""
    issuer = _issuer(tmp_path)
    pk = issuer.public_keys()["district-1"]
    request = request_credential(pk, ELECTION, "district-1")
    blinded = request.blinded_msg
    forgeries = {
        "another key": signed("voter-1", "district-1", blinded, key=SigningKey.generate()),
        "another voter's key": signed("voter-1", "district-1", blinded, key=voter_key("voter-2")),
        "another reference": signed("voter-1", "district-1", blinded, ref=voter_ref("voter-2")),
        "another request": signed(
            "voter-1", "district-1", request_credential(pk, ELECTION, "district-1").blinded_msg
        ),
        "another style": signed("voter-1", "district-2", blinded),
        "another election": sign_credential_request(
            voter_key("voter-1"), "other-2026", "district-1", voter_ref("voter-1"), blinded
        ),
        "zeros": bytes(64),
    }
    for label, signature in forgeries.items():
        with pytest.raises(VerificationFailed) as refused:
            issuer.issue("voter-1", "district-1", blinded, request_signature=signature, now=NOW)
        assert refused.value.check == "issuance-request", label
    for bad in (b"", bytes(63), "00" * 64):
        with pytest.raises(InvalidInput):
            issuer.issue("voter-1", "district-1", blinded, request_signature=bad, now=NOW)  # type: ignore[arg-type]
    assert list(issuer.log()) == [] and issuer.issued_count()["district-1"] == 0  # nothing stored
    good = signed("voter-1", "district-1", blinded)
    issuer.issue("voter-1", "district-1", blinded, request_signature=good, now=NOW)
    (entry,) = list(issuer.log())
    assert json.loads(entry.payload)["voter_signature"] == good.hex()
    assert json.loads(entry.payload)["voter_ref"] == voter_ref("voter-1").hex()


def test_issuer_key_storage(tmp_path: Path) -> None:
    key = _keys()["district-1"]
    pem = save_issuer_key(key, b"correct horse")
    assert load_issuer_key(pem, b"correct horse").private_numbers() == key.private_numbers()
    with pytest.raises(InvalidInput):
        load_issuer_key(pem, b"wrong")
    with pytest.raises(InvalidInput):
        save_issuer_key(key, b"")
    assert b"BEGIN PUBLIC KEY" in public_key_pem(key.public_key())


@pytest.mark.parametrize(
    "options",
    [
        {"election_id": "bad election id"},
        {"keys": {}},
        {"log_key": bytes(32)},
        {"window": (CLOSES, OPENS)},
        {"window": (OPENS, OPENS)},
        {"window": (OPENS.replace(tzinfo=None), CLOSES)},
        {"granularity": timedelta(0)},
        {"granularity": timedelta(minutes=-5)},
        {"granularity": timedelta(milliseconds=1500)},
    ],
)
def test_issuer_settings_are_checked(tmp_path: Path, options: dict[str, object]) -> None:
    settings: dict[str, object] = {
        "election_id": ELECTION,
        "keys": _keys(),
        "log_key": log_key(),
        "window": (OPENS, CLOSES),
        **options,
    }
    election_id, issuer_keys = settings.pop("election_id"), settings.pop("keys")
    with pytest.raises(InvalidInput):
        Issuer(tmp_path / "i.sqlite", election_id, issuer_keys, eligible(VOTERS), **settings)  # type: ignore[arg-type]


def test_a_store_belongs_to_one_election_and_one_log_key(tmp_path: Path) -> None:
    obtain(_issuer(tmp_path), "voter-1", "district-1")
    with pytest.raises(InvalidInput, match="log_key"):
        make_issuer(tmp_path / "issuer.sqlite", log_key=SigningKey.generate())
    with pytest.raises(InvalidInput, match="election"):
        Issuer(
            tmp_path / "issuer.sqlite",
            "duma-2031",
            _keys(),
            eligible(VOTERS),
            log_key=log_key(),
            window=(OPENS, CLOSES),
        )
    reopened = _issuer(tmp_path)  # the same settings reopen it, with what it held
    assert reopened.issued_count() == {"district-1": 1, "district-2": 0}


class _Counting(StaticEligibility):
    def __init__(self) -> None:
        super().__init__({v: enrollment(v, s) for v, s in VOTERS.items()})
        self.asked = 0

    def check_credential_eligibility(
        self, voter_id: str, election_id: str, ballot_style: str, now: datetime
    ) -> Enrollment:
        self.asked += 1
        return super().check_credential_eligibility(voter_id, election_id, ballot_style, now)


@pytest.mark.parametrize(
    "moment",
    [
        OPENS - timedelta(microseconds=1),
        CLOSES,
        CLOSES + timedelta(days=1),
        datetime(2026, 1, 1, tzinfo=OPENS.tzinfo),
    ],
)
def test_issuance_outside_the_window_is_refused_before_the_oracle_is_asked(
    tmp_path: Path, moment: datetime
) -> None:
    oracle = _Counting()
    issuer = Issuer(
        tmp_path / "i.sqlite", ELECTION, _keys(), oracle, log_key=log_key(), window=(OPENS, CLOSES)
    )
    request = request_credential(issuer.public_keys()["district-1"], ELECTION, "district-1")
    with pytest.raises(RuleViolation) as refused:
        issue(issuer, "voter-1", "district-1", request.blinded_msg, now=moment)
    assert refused.value.rule == Rule.OUTSIDE_WINDOW
    with pytest.raises(RuleViolation):  # also for a stranger: the oracle is not even asked
        issue(issuer, "stranger", "district-1", request.blinded_msg, now=moment)
    assert oracle.asked == 0
    assert list(issuer.log()) == []
    issue(issuer, "voter-1", "district-1", request.blinded_msg, now=OPENS)  # the window includes its opening
    assert oracle.asked == 1
