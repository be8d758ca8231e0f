"""Voter keys at the registry: enrollment with the code, one key per voter, a lost device, the receipts."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
from dataclasses import replace
from datetime import timedelta

import pytest
from nacl.signing import SigningKey

from degcore.errors import InvalidInput, Rule, RuleViolation, VerificationFailed
from degcore.issuance import EnrollmentReceipt, voter_reference
from degcore.registry import Registry
from tests.conftest import query, race
from tests.unit.registry.conftest import (
    CLOSES,
    NOW,
    SETTINGS,
    SNILS,
    VOTERS,
    approved,
    confirmed,
    device_key,
    form,
    open_registry,
)


def _hex(key: SigningKey) -> str:
    return bytes(key.verify_key).hex()


def test_confirmation_enrolls_the_key_with_a_signed_receipt(registry: Registry, store_location: str) -> None:
    number = approved(registry)
    with pytest.raises(InvalidInput, match="no enrolled voter key"):
        registry.enrollment_receipt(number)  # approved is not enrolled: the code confirms the key
    registry.confirm(number, registry.issue_code(number, now=NOW), now=NOW)
    receipt = registry.enrollment_receipt(number)
    receipt.verify(registry.public_key)
    assert receipt.voter_key == bytes(device_key("v1").verify_key)
    assert (receipt.election_id, receipt.ballot_style, receipt.enrolled_at) == ("duma-2026", "style-1", NOW)
    # Only the voter (with her id and the receipt's salt) recomputes her reference.
    assert receipt.voter_ref == voter_reference("duma-2026", "v1", receipt.salt)
    assert EnrollmentReceipt.from_json(receipt.to_json()) == receipt
    assert registry.enrollment_receipt(number) == receipt  # the same signed bytes on every request
    with pytest.raises(VerificationFailed):
        receipt.verify(bytes(SigningKey.generate().verify_key))
    actions = [a for (a,) in query(store_location, "SELECT action FROM audit ORDER BY seq")]
    assert actions[-1] == "confirm"


@pytest.mark.parametrize("bad", ["00" * 32, "zz" * 32, "ab" * 31, "AB" * 16, "01" + "00" * 31])
def test_an_invalid_key_is_a_field_error(registry: Registry, bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        registry.create("v1", form("v1", voter_key=bad), now=NOW)
    assert [(e.field, e.code) for e in info.value.errors] == [("voter_key", "voter_key_invalid")]


def test_a_key_serves_one_voter(registry: Registry, store_location: str) -> None:
    confirmed(registry, "v1")
    taken = _hex(device_key("v1"))
    with pytest.raises(RuleViolation) as info:
        registry.create("v7", form("v7", voter_key=taken), now=NOW)
    assert info.value.rule is Rule.KEY_IN_USE
    assert query(store_location, "SELECT COUNT(*) FROM applications WHERE voter_id = 'v7'") == [(0,)]
    # Also while the first voter's application is still only a draft.
    registry.create("v2", form("v2"), now=NOW)
    with pytest.raises(RuleViolation) as draft:
        registry.create("v7", form("v7", voter_key=_hex(device_key("v2"))), now=NOW)
    assert draft.value.rule is Rule.KEY_IN_USE


def _apply_with(
    path: str,
    voter: str,
    key_hex: str,
    barrier: multiprocessing.synchronize.Barrier,
    out: multiprocessing.Queue,
) -> None:  # type: ignore[type-arg]
    reg = open_registry(path)
    barrier.wait()
    try:
        reg.create(voter, form(voter, voter_key=key_hex), now=NOW)
        out.put("won")
    except RuleViolation as exc:
        out.put(str(exc.rule))
    finally:
        reg.close()


def test_two_voters_racing_with_one_key_only_one_wins(store_location: str) -> None:
    open_registry(store_location).import_voters(VOTERS, now=NOW)
    shared = _hex(SigningKey.generate())
    results = race(_apply_with, [(store_location, v, shared) for v in ("v1", "v7", "v1", "v7")])
    assert results.count("won") == 1
    assert set(results) - {"won"} <= {str(Rule.KEY_IN_USE), str(Rule.DUPLICATE_APPLICATION)}
    assert query(store_location, "SELECT COUNT(*) FROM applications") == [(1,)]


def test_a_lost_device_is_replaced_only_through_a_new_code(registry: Registry, store_location: str) -> None:
    number = confirmed(registry, "v1")
    first = registry.enrollment_receipt(number)
    new = device_key("v1", 1)
    code = registry.request_key_change(number, _hex(new), now=NOW)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(VerificationFailed, match="4 tries left"):
        registry.confirm_key_change(number, wrong, now=NOW)
    assert registry.enrollment_receipt(number) == first  # nothing changed by a wrong code
    with pytest.raises(RuleViolation):  # a key-change code does not re-confirm the application
        registry.confirm(number, code, now=NOW)
    later = NOW + timedelta(minutes=1)
    receipt = registry.confirm_key_change(number, code, now=later)
    receipt.verify(registry.public_key)
    assert receipt.voter_key == bytes(new.verify_key) and receipt.enrolled_at == later
    assert (receipt.voter_ref, receipt.salt) == (first.voter_ref, first.salt)  # the same reference
    with pytest.raises(RuleViolation) as reused:
        registry.confirm_key_change(number, code, now=later)
    assert reused.value.rule is Rule.CODE_INVALID
    # The new key is hers now: no other voter may apply with it.
    with pytest.raises(RuleViolation) as taken:
        registry.create("v7", form("v7", voter_key=_hex(new)), now=later)
    assert taken.value.rule is Rule.KEY_IN_USE
    rows = query(store_location, "SELECT action, subject, result FROM audit ORDER BY seq")
    changes = [(a, r) for a, s, r in rows if s == number and "key" in str(a)]
    assert changes == [
        ("request_key_change", "ok"),
        ("confirm_key_change", "refused: wrong code"),
        ("confirm_key_change", "ok"),
        ("confirm_key_change", "refused: RuleViolation(code_invalid)"),
    ]


def test_a_key_change_needs_a_confirmed_open_unclaimed_application(registry: Registry) -> None:
    number = approved(registry, "v1")
    new = _hex(device_key("v1", 1))
    with pytest.raises(RuleViolation) as unconfirmed:
        registry.request_key_change(number, new, now=NOW)
    assert unconfirmed.value.rule is Rule.ILLEGAL_TRANSITION
    registry.confirm(number, registry.issue_code(number, now=NOW), now=NOW)
    confirmed(registry, "v7")
    with pytest.raises(RuleViolation) as in_use:
        registry.request_key_change(number, _hex(device_key("v7")), now=NOW)  # another voter's key
    assert in_use.value.rule is Rule.KEY_IN_USE
    code = registry.request_key_change(number, new, now=NOW)
    with pytest.raises(RuleViolation) as frozen:  # registration closed: the list is fixed
        registry.confirm_key_change(number, code, now=CLOSES)
    assert frozen.value.rule is Rule.OUTSIDE_WINDOW
    with pytest.raises(InvalidInput):
        registry.request_key_change(number, "00" * 32, now=NOW)


def test_a_claimed_credential_freezes_the_key(store_location: str) -> None:
    early = replace(SETTINGS, issuance_opens=NOW.replace(tzinfo=None))
    reg = open_registry(store_location, settings=early)
    reg.import_voters(VOTERS, now=NOW)
    number = confirmed(reg, "v1")
    reg.check_credential_eligibility("v1", "duma-2026", "style-1", NOW + timedelta(hours=1))
    with pytest.raises(RuleViolation) as claimed:
        reg.request_key_change(number, _hex(device_key("v1", 1)), now=NOW + timedelta(hours=2))
    assert claimed.value.rule is Rule.ALREADY_ISSUED
    reg.close()


def test_withdrawal_un_enrolls_and_the_list_holds_the_enrolled_keys(
    registry: Registry, store_location: str
) -> None:
    gone = confirmed(registry, "v1")
    kept = confirmed(registry, "v7")
    registry.withdraw(gone, now=NOW)
    with pytest.raises(InvalidInput):
        registry.enrollment_receipt(gone)
    assert query(store_location, "SELECT voter_id FROM enrollments") == [("v7",)]
    registry.freeze_remote_list(CLOSES)
    head, entries = registry.enrollment_list()
    assert [e.voter_key for e in entries] == [registry.enrollment_receipt(kept).voter_key]
    assert dict(head.counts) == {"style-2": 1}
    assert SNILS["v7"] not in repr(entries)  # nothing personal in the public list
