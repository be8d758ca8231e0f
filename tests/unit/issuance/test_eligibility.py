"""The registry's signed exports as the issuer sees them: strict parsing, tampering, the list oracle."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.signing import SigningKey

from degcore.encoding import canonical_json
from degcore.errors import (
    Ineligible,
    IneligibleReason,
    InvalidInput,
    NonCanonical,
    Rule,
    RuleViolation,
    UnsupportedFormat,
    VerificationFailed,
)
from degcore.issuance import (
    AuditHead,
    EnrollmentList,
    FrozenListEligibility,
    Issuer,
    RemoteList,
    StaticEligibility,
    finish_credential,
    request_credential,
    rsabssa,
)
from degcore.issuance.enrollment import enrollment_lines, parse_enrollment_line
from tests.unit.issuance.common import enrollment, issue

REGISTRY = SigningKey(bytes(range(32)))
PUBLIC = bytes(REGISTRY.verify_key)
INSIDER = SigningKey(bytes(range(1, 33)))  # a box operator or issuer: not the registry
FROZEN = datetime(2026, 9, 17, 5, 0, tzinfo=UTC)
OPENS, CLOSES = FROZEN, datetime(2026, 9, 20, 17, 0, tzinfo=UTC)
VOTERS = {"v1": "style-1", "v2": "style-1", "v7": "style-2"}


def _list(voters: dict[str, str] = VOTERS, key: SigningKey = REGISTRY) -> RemoteList:
    head = AuditHead.sign(key, "duma-2026", 42, bytes(range(32)), FROZEN)
    enrolled = {voter: enrollment(voter, style) for voter, style in voters.items()}
    return RemoteList.sign(key, "duma-2026", FROZEN, enrolled, head)


def test_the_list_round_trips_and_its_public_list_binds_it() -> None:
    remote = _list()
    obj = remote.to_json()
    assert set(obj) == {"format", "type", "election_id", "frozen_at", "voters", "audit_head", "signature"}
    header = (obj["format"], obj["type"], obj["frozen_at"])
    assert header == ("degcore/4", "remote-list", "2026-09-17T05:00:00Z")
    assert RemoteList.from_json(obj) == remote
    remote.verify(PUBLIC)
    public, lines = remote.enrollment_list(REGISTRY)
    assert public.to_json()["counts"] == {"style-1": 2, "style-2": 1}
    assert public.list_sha256 == remote.sha256() and len(remote.sha256()) == 32
    assert public.entries == 3 and hashlib.sha256(lines).digest() == public.entries_sha256
    public.verify(PUBLIC)
    assert EnrollmentList.from_json(public.to_json()) == public
    # The public lines carry reference, key and style: no voter id.
    parsed = [parse_enrollment_line(line) for line in lines.splitlines()]
    assert sorted(parsed, key=lambda e: e.voter_ref) == parsed and set(parsed) == set(remote.voters.values())
    assert b"v1" not in lines and enrollment_lines(parsed) == lines


def test_empty_list_has_no_counts() -> None:
    assert _list({}).enrollment_list(REGISTRY)[0].to_json()["counts"] == {}


def test_a_key_or_reference_listed_twice_is_refused() -> None:
    obj = copy.deepcopy(_list().to_json())
    obj["voters"]["v2"]["voter_key"] = obj["voters"]["v1"]["voter_key"]  # type: ignore[index]
    with pytest.raises(InvalidInput, match="voter key appears twice"):
        RemoteList.from_json(obj)
    obj = copy.deepcopy(_list().to_json())
    obj["voters"]["v2"]["voter_ref"] = obj["voters"]["v1"]["voter_ref"]  # type: ignore[index]
    with pytest.raises(InvalidInput, match="reference appears twice"):
        RemoteList.from_json(obj)


def _resign(obj: dict[str, object], key: SigningKey) -> dict[str, object]:
    from degcore.chain import sign_object  # noqa: PLC0415 - the insider's own tool

    body = {k: v for k, v in obj.items() if k != "signature"}
    return sign_object(key, body)  # type: ignore[arg-type]


def test_tampering_with_the_list_is_detected() -> None:
    """An insider adds a voter and re-signs with the only key she has: her own."""
    obj = copy.deepcopy(_list().to_json())
    obj["voters"]["ghost"] = enrollment("ghost", "style-1").to_json()  # type: ignore[index]
    with pytest.raises(VerificationFailed) as unsigned:
        RemoteList.from_json(obj).verify(PUBLIC)
    assert unsigned.value.check == "remote-list"
    with pytest.raises(VerificationFailed):
        RemoteList.from_json(_resign(obj, INSIDER)).verify(PUBLIC)
    forged = _list(key=INSIDER)
    with pytest.raises(VerificationFailed):
        FrozenListEligibility(forged, PUBLIC, opens=OPENS, closes=CLOSES)
    obj = copy.deepcopy(_list().to_json())
    obj["audit_head"]["seq"] = 41  # type: ignore[index]
    obj = _resign(obj, REGISTRY)  # even the registry's own list signature cannot cover a bad head
    with pytest.raises(VerificationFailed) as head:
        RemoteList.from_json(obj).verify(PUBLIC)
    assert head.value.check == "audit-head"
    counts = copy.deepcopy(_list().enrollment_list(REGISTRY)[0].to_json())
    counts["counts"]["style-1"] = 3  # type: ignore[index]
    counts["entries"] = 4
    with pytest.raises(VerificationFailed):
        EnrollmentList.from_json(counts).verify(PUBLIC)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda o: o.update(format="degcore/1"), UnsupportedFormat),
        (lambda o: o.update(type="enrollment-list"), InvalidInput),
        (lambda o: o.update(extra=1), InvalidInput),
        (lambda o: o.pop("audit_head"), InvalidInput),
        (lambda o: o.update(voters={"v 1": enrollment("v1", "style-1").to_json()}), InvalidInput),
        (lambda o: o.update(voters={"v1": "style-1"}), InvalidInput),
        (lambda o: o["voters"]["v1"].update(voter_key="00" * 32), InvalidInput),
        (lambda o: o.update(voters=["v1"]), InvalidInput),
        (lambda o: o.update(frozen_at="2026-09-17T08:00:00+03:00"), NonCanonical),
        (lambda o: o.update(signature="AB" * 64), NonCanonical),
        (lambda o: o["audit_head"].update(election_id="other"), InvalidInput),
        (lambda o: o["audit_head"].update(seq=True), InvalidInput),
        (lambda o: o["audit_head"].update(seq=-1), NonCanonical),
        (lambda o: o["audit_head"].update(head="00" * 31), NonCanonical),
    ],
)
def test_the_list_parser_is_strict(change: object, error: type[Exception]) -> None:
    obj = copy.deepcopy(_list().to_json())
    change(obj)  # type: ignore[operator]
    with pytest.raises(error):
        RemoteList.from_json(obj)


@pytest.mark.parametrize("bad", [0, -1, True, "1", 2])
def test_counts_are_positive_integers_summing_to_the_entries(bad: object) -> None:
    obj = copy.deepcopy(_list().enrollment_list(REGISTRY)[0].to_json())
    obj["counts"]["style-2"] = bad  # type: ignore[index]
    with pytest.raises(InvalidInput):
        EnrollmentList.from_json(obj)


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), st.sampled_from(["s1", "s2"])))
def test_any_list_round_trips_to_the_same_bytes_and_verifies(voters: dict[str, str]) -> None:
    remote = _list(voters)
    again = RemoteList.from_json(remote.to_json())
    assert canonical_json(again.to_json()) == canonical_json(remote.to_json())
    again.verify(PUBLIC)
    assert sum(remote.enrollment_list(REGISTRY)[0].counts.values()) == len(voters)


def test_the_frozen_list_oracle() -> None:
    oracle = FrozenListEligibility(_list(), PUBLIC, opens=OPENS, closes=CLOSES)
    assert oracle.check_credential_eligibility("v1", "duma-2026", "style-1", OPENS) == enrollment(
        "v1", "style-1"
    )
    cases = [
        ("nobody", "duma-2026", "style-1", OPENS, IneligibleReason.NOT_ON_LIST),
        ("v1", "duma-2026", "style-2", OPENS, IneligibleReason.WRONG_DISTRICT),
        ("v1", "other-2026", "style-1", OPENS, IneligibleReason.NOT_ON_LIST),
    ]
    for voter, election, style, now, reason in cases:
        with pytest.raises(Ineligible) as info:
            oracle.check_credential_eligibility(voter, election, style, now)
        assert info.value.reason is reason
    for now in (OPENS - timedelta(seconds=1), CLOSES):
        with pytest.raises(RuleViolation) as window:
            oracle.check_credential_eligibility("v1", "duma-2026", "style-1", now)
        assert window.value.rule is Rule.OUTSIDE_WINDOW
    with pytest.raises(InvalidInput):
        oracle.check_credential_eligibility("v1", "duma-2026", "style-1", datetime(2026, 9, 18))
    with pytest.raises(InvalidInput):
        FrozenListEligibility(_list(), PUBLIC, opens=CLOSES, closes=OPENS)


def test_an_issuer_runs_on_the_signed_list_alone(tmp_path: Path) -> None:
    """No Registry object, no code key, no personal data: the list and the registry's public key."""
    key = rsabssa.generate_key(2048)
    received = RemoteList.from_json(_list().to_json())
    oracle = FrozenListEligibility(received, PUBLIC, opens=OPENS, closes=CLOSES)
    issuer = Issuer(
        tmp_path / "issuer.sqlite", "duma-2026", {"style-1": key}, oracle,
        log_key=SigningKey.generate(), window=(OPENS, CLOSES),
    )  # fmt: skip
    request = request_credential(key.public_key(), "duma-2026", "style-1")
    blind = issue(issuer, "v1", "style-1", request.blinded_msg, now=OPENS)
    finish_credential(request, blind, key.public_key()).credential.verify(key.public_key())
    with pytest.raises(Ineligible):
        issue(issuer, "ghost", "style-1", request.blinded_msg, now=OPENS)


def test_static_eligibility_still_works() -> None:
    oracle = StaticEligibility({"v1": enrollment("v1", "style-1")})
    assert oracle.check_credential_eligibility("v1", "e", "style-1", OPENS).voter_key
    with pytest.raises(Ineligible):
        oracle.check_credential_eligibility("v1", "e", "style-2", OPENS)
