"""What the registry publishes, signed: the frozen remote list, the enrollment list, the audit head."""

from __future__ import annotations

import pytest
from nacl.signing import SigningKey

from degcore.errors import RuleViolation, VerificationFailed
from degcore.issuance import AuditHead, EnrollmentList, RemoteList
from degcore.issuance.enrollment import enrollment_lines
from degcore.registry import Registry, audit
from tests.conftest import execute, query
from tests.unit.registry.conftest import CLOSES, NOW, SCHEDULE, approved, confirmed, device_key

AFTER_RETENTION = SCHEDULE.voting_ends + SCHEDULE.retention


def test_the_frozen_list_holds_confirmed_voters_only_and_is_signed(registry: Registry) -> None:
    confirmed(registry, "v1")
    confirmed(registry, "v7")
    approved(registry, "v2")  # never confirmed: stays on paper, not on the list
    with pytest.raises(RuleViolation):
        registry.freeze_remote_list(NOW)  # registration is still open
    with pytest.raises(RuleViolation):
        registry.enrollment_list()  # nothing frozen yet
    remote = registry.freeze_remote_list(CLOSES)
    assert {v: e.ballot_style for v, e in remote.voters.items()} == {"v1": "style-1", "v7": "style-2"}
    assert remote.voters["v1"].voter_key == bytes(device_key("v1").verify_key)
    remote.verify(registry.public_key)
    assert RemoteList.from_json(remote.to_json()) == remote
    again = registry.freeze_remote_list(CLOSES.replace(hour=23))
    assert again.to_json() == remote.to_json()  # idempotent: the very same signed object
    head, entries = registry.enrollment_list()
    head.verify(registry.public_key)
    assert head.list_sha256 == remote.sha256()
    assert dict(head.counts) == {"style-1": 1, "style-2": 1} and head.entries == 2
    assert (head, enrollment_lines(entries)) == remote.enrollment_list(SigningKey(bytes(range(32, 64))))
    assert EnrollmentList.from_json(head.to_json()) == head
    assert set(entries) == set(remote.voters.values())


def test_the_list_is_anchored_in_the_audit_log(registry: Registry, store_location: str) -> None:
    confirmed(registry)
    remote = registry.freeze_remote_list(CLOSES)
    rows = query(store_location, "SELECT seq, action FROM audit ORDER BY seq")
    freezes = [seq for seq, action in rows if action == "freeze_remote_list"]
    assert freezes == [remote.audit_head.seq] == [rows[-1][0]]
    report = registry.verify_audit(remote.audit_head)
    assert report.ok and report.anchored == remote.audit_head.seq
    assert registry.verify_audit(remote.audit_head.to_json(), key=registry.public_key).ok


def test_cutting_the_chain_at_the_end_is_detected(registry: Registry, store_location: str) -> None:
    """Issue 14: truncation, the purge entry included, passed the unanchored check."""
    confirmed(registry)
    registry.freeze_remote_list(CLOSES)
    report = registry.purge(now=AFTER_RETENTION)
    head = report.audit_head
    assert head is not None and registry.verify_audit(head).ok
    ((last,),) = query(store_location, "SELECT MAX(seq) FROM audit")
    assert head.seq == last
    execute(store_location, f"DELETE FROM audit WHERE seq = {last}")  # noqa: S608 - our own integer
    assert registry.verify_audit().ok  # without an anchor, nothing shows
    with pytest.raises(VerificationFailed) as cut:
        registry.verify_audit(head)
    assert cut.value.subject == f"entry {last}" and cut.value.detail.startswith("truncated")
    execute(store_location, f"DELETE FROM audit WHERE seq > {last - 5}")  # noqa: S608
    with pytest.raises(VerificationFailed, match="truncated"):
        registry.verify_audit(head)


def test_a_rewritten_end_does_not_match_the_signed_head(registry: Registry, store_location: str) -> None:
    """An insider re-chains the last entry (no key needed for that): the signed head tells."""
    confirmed(registry)
    head = registry.audit_head(CLOSES)
    ((seq, prev, at, actor, action, subject),) = query(
        store_location, "SELECT seq, prev, at, actor, action, subject FROM audit ORDER BY seq DESC LIMIT 1"
    )
    fields = {"at": at, "actor": actor, "action": action, "subject": subject, "result": "refused: nothing"}
    digest = audit.entry_hash(bytes(prev), int(seq), fields)  # type: ignore[arg-type]
    blob = f"X'{digest.hex()}'" if not store_location.startswith("postgresql") else f"'\\x{digest.hex()}'"
    execute(store_location, f"UPDATE audit SET result = 'refused: nothing', hash = {blob} WHERE seq = {seq}")  # noqa: S608
    assert registry.verify_audit().ok  # the chain itself still holds
    with pytest.raises(VerificationFailed) as rewritten:
        registry.verify_audit(head)
    assert rewritten.value.subject == f"entry {seq}"
    assert rewritten.value.detail == "does not match the signed head"


def test_a_forged_head_is_refused(registry: Registry) -> None:
    confirmed(registry)
    head = registry.audit_head(CLOSES)
    impostor = SigningKey(bytes(32))
    forged = AuditHead.sign(impostor, head.election_id, head.seq, head.head, head.at)
    with pytest.raises(VerificationFailed) as info:
        registry.verify_audit(forged)
    assert info.value.check == "audit-head"
    registry.verify_audit(forged, key=bytes(impostor.verify_key))  # an auditor told the wrong key
    other = AuditHead.sign(SigningKey(bytes(range(32, 64))), "other-election", head.seq, head.head, head.at)
    with pytest.raises(VerificationFailed, match="another election"):
        registry.verify_audit(other)


def test_the_purge_removes_the_list_and_keeps_the_public_one(registry: Registry, store_location: str) -> None:
    confirmed(registry)
    registry.check_credential_eligibility("v1", "duma-2026", "style-1", CLOSES)
    remote = registry.freeze_remote_list(CLOSES)
    published = registry.enrollment_list()
    report = registry.purge(now=AFTER_RETENTION)
    kinds = sorted(k for (k,) in query(store_location, "SELECT kind FROM publications"))
    assert kinds == ["enrollment", "enrollment-list"]
    assert query(store_location, "SELECT COUNT(*) FROM enrollments") == [(0,)]  # voter id → reference: gone
    assert registry.enrollment_list() == published
    with pytest.raises(RuleViolation, match="purged"):
        registry.freeze_remote_list(AFTER_RETENTION)
    aggregates = dict(query(store_location, "SELECT key, value FROM aggregates"))
    assert aggregates["voters.credential.style-1"] == 1
    assert report.audit_head is not None and report.audit_head.seq > remote.audit_head.seq
    assert registry.verify_audit(remote.audit_head).ok  # an older anchor still holds
