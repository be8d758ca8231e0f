"""The registry on real SQLite files: state machine, rules, deadlines, codes, races, audit, retention."""

from __future__ import annotations

import itertools
import multiprocessing
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from degcore.errors import Ineligible, IneligibleReason, InvalidInput, Rule, RuleViolation, VerificationFailed
from degcore.issuance import Issuer, finish_credential, request_credential, rsabssa, sign_credential_request
from degcore.registry import ElectionSettings, Registry, RejectionReason, Schedule, Status, StatusChanged
from degcore.registry.status import TRANSITIONS
from tests.conftest import execute, query, race
from tests.unit.registry.conftest import (
    CLOSES,
    NOW,
    SCHEDULE,
    SETTINGS,
    SNILS,
    VOTERS,
    approved,
    confirmed,
    consented,
    device_key,
    form,
    open_registry,
)


def test_the_happy_path_moves_the_voter_to_the_remote_list(
    registry: Registry, events: list[StatusChanged]
) -> None:
    assert registry.voter("v1").channel == "paper"
    number = approved(registry)
    assert registry.voter("v1").channel == "paper"  # approval alone does not: the voter confirms
    code = registry.issue_code(number, now=NOW)
    assert len(code) == 6 and code.isdigit()
    assert registry.confirm(number, code, now=NOW + timedelta(minutes=4)).status is Status.CONFIRMED
    assert registry.voter("v1").channel == "remote"
    steps = [(t.old, t.new) for t in registry.history(number)]
    assert steps == [
        (None, Status.DRAFT),
        (Status.DRAFT, Status.SUBMITTED),
        (Status.SUBMITTED, Status.UNDER_REVIEW),
        (Status.UNDER_REVIEW, Status.APPROVED),
        (Status.APPROVED, Status.CONFIRMED),
    ]
    assert [e.new for e in events] == [new for _, new in steps]
    assert all(t.at.tzinfo is not None for t in registry.history(number))
    with pytest.raises(Ineligible) as info:
        registry.check_credential_eligibility("v1", "duma-2026", "style-2", CLOSES)
    assert info.value.reason is IneligibleReason.WRONG_DISTRICT
    registry.check_credential_eligibility("v1", "duma-2026", "style-1", CLOSES)
    assert registry.voter("v1").credential_style == "style-1"


def test_every_illegal_transition_is_a_rule_violation(tmp_path: Path) -> None:
    moves = {
        Status.SUBMITTED: None,  # submit is its own operation
        Status.UNDER_REVIEW: "start_review",
        Status.NEEDS_CLARIFICATION: "request_clarification",
        Status.APPROVED: "approve",
        Status.WITHDRAWN: "withdraw",
        Status.REJECTED: "reject",
    }
    paths = {
        Status.DRAFT: [],
        Status.SUBMITTED: ["submit"],
        Status.UNDER_REVIEW: ["submit", "start_review"],
        Status.NEEDS_CLARIFICATION: ["submit", "start_review", "request_clarification"],
        Status.APPROVED: ["submit", "start_review", "approve"],
        Status.REJECTED: ["submit", "start_review", "reject"],
        Status.WITHDRAWN: ["withdraw"],
    }
    for i, (start, target) in enumerate(itertools.product(paths, moves)):
        reg = open_registry(tmp_path / f"r{i}.sqlite")
        reg.import_voters(VOTERS, now=NOW)
        number = reg.create("v1", form(), now=NOW).number
        consented(reg, number)
        for step in paths[start]:
            _apply(reg, number, step)
        assert reg.application(number).status is start
        action = moves[target] or "submit"
        if target in TRANSITIONS[start] and (target is not Status.UNDER_REVIEW or start is not Status.DRAFT):
            _apply(reg, number, action)
            assert reg.application(number).status is target
        else:
            with pytest.raises(RuleViolation) as info:
                _apply(reg, number, action)
            assert info.value.rule is Rule.ILLEGAL_TRANSITION, (start, target)
            assert reg.application(number).status is start  # nothing changed
        reg.close()


def _apply(reg: Registry, number: str, step: str) -> None:
    if step == "submit":
        reg.submit(number, now=NOW)
    elif step == "reject":
        reg.reject(number, [RejectionReason.INVALID_DATA], now=NOW, actor="op")
    elif step == "withdraw":
        reg.withdraw(number, now=NOW)
    else:
        getattr(reg, step)(number, now=NOW, actor="op")


def test_clarification_goes_back_to_review(registry: Registry) -> None:
    number = registry.create("v1", form(), now=NOW).number
    consented(registry, number)
    registry.submit(number, now=NOW)
    registry.start_review(number, now=NOW, actor="op")
    registry.request_clarification(number, now=NOW, actor="op")
    assert registry.attach(number, "passport-scan", b"%PDF-1.4 scan", now=NOW) == "application/pdf"
    registry.resume_review(number, now=NOW, actor="op")
    assert registry.approve(number, now=NOW, actor="op").status is Status.APPROVED


def test_rejection_is_final_and_a_new_linked_application_may_follow(registry: Registry) -> None:
    number = registry.create("v1", form(), now=NOW).number
    consented(registry, number)
    registry.submit(number, now=NOW)
    rejected = registry.reject(
        number, [RejectionReason.MISSING_DOCUMENT, RejectionReason.UPLOAD_ERROR], now=NOW, actor="op"
    )
    assert rejected.reasons == (RejectionReason.MISSING_DOCUMENT, RejectionReason.UPLOAD_ERROR)
    with pytest.raises(InvalidInput):
        registry.reject(number, [], now=NOW, actor="op")
    second = registry.create("v1", form(), now=NOW, previous=number)
    assert second.previous == number and second.number != number
    with pytest.raises(RuleViolation):
        registry.create("v7", form("v7"), now=NOW, previous=number)  # someone else's rejection


def test_submission_needs_both_consents_at_their_current_versions(registry: Registry) -> None:
    number = registry.create("v1", form(), now=NOW).number
    registry.consent(number, "personal_data", "1.0", now=NOW)
    with pytest.raises(RuleViolation) as info:
        registry.submit(number, now=NOW)
    assert info.value.rule is Rule.CONSENT_REQUIRED
    registry.consent(number, "remote_voting_terms", "2.0", now=NOW)  # an outdated version
    with pytest.raises(RuleViolation):
        registry.submit(number, now=NOW)
    registry.consent(number, "remote_voting_terms", "2.1", now=NOW)
    assert registry.submit(number, now=NOW).status is Status.SUBMITTED
    with pytest.raises(InvalidInput):
        registry.consent(number, "marketing", "1", now=NOW)


@pytest.mark.parametrize(
    ("voter", "district", "reasons"),
    [
        ("v3", "d1", {IneligibleReason.UNDER_18}),  # 18 on 21.09.2026, the day after voting ends
        ("v4", "d1", {IneligibleReason.NOT_CITIZEN}),
        ("v5", "d1", {IneligibleReason.DISENFRANCHISED}),
        ("v6", "d3", {IneligibleReason.REMOTE_NOT_OFFERED}),
        ("v1", "d2", {IneligibleReason.WRONG_DISTRICT}),
        ("nobody", "d1", {IneligibleReason.NOT_ON_LIST}),
    ],
)
def test_eligibility_reasons(
    registry: Registry, voter: str, district: str, reasons: set[IneligibleReason]
) -> None:
    assert set(registry.assess(voter, district, NOW)) == reasons


def test_age_is_judged_on_the_last_day_of_voting(registry: Registry) -> None:
    assert SCHEDULE.election_day.isoformat() == "2026-09-20"
    assert IneligibleReason.UNDER_18 not in registry.assess("v2", "d1")  # turns 18 on 20.09.2026
    assert IneligibleReason.UNDER_18 in registry.assess("v3", "d1")  # turns 18 on 21.09.2026


def test_ineligible_and_mismatching_applications_are_rejected_with_reasons(registry: Registry) -> None:
    app = registry.create("v6", form("v6", district="d3", snils="672-384-123 06"), now=NOW)
    consented(registry, app.number)
    result = registry.submit(app.number, now=NOW)
    assert result.status is Status.REJECTED
    assert set(result.reasons) == {RejectionReason.REGION_UNAVAILABLE, RejectionReason.REGISTER_MISMATCH}
    app = registry.create("v7", form("v7"), now=NOW)  # «Елка» on the form, «Ёлка» on the list: the same
    consented(registry, app.number)
    assert registry.submit(app.number, now=NOW).status is Status.SUBMITTED


def test_deadlines_in_the_region_time_zone(tmp_path: Path) -> None:
    """Registration closes at 08:00 Vladivostok time (UTC+10) on the day before voting: 22:00 UTC."""
    schedule = Schedule(
        "Asia/Vladivostok",
        registration_opens=datetime(2026, 8, 1, 0, 0),
        voting_starts=datetime(2026, 9, 18, 8, 0),
        voting_ends=datetime(2026, 9, 20, 20, 0),
    )
    assert schedule.closes == datetime(2026, 9, 16, 22, 0, tzinfo=UTC)
    settings = ElectionSettings(
        "far-east", schedule, frozenset({"d1"}), {"d1": "s"}, SETTINGS.consent_versions
    )
    reg = open_registry(tmp_path / "r.sqlite", settings)
    reg.import_voters(VOTERS, now=NOW)
    on_time = datetime(2026, 9, 16, 21, 59, tzinfo=UTC)  # 07:59 on the 17th in Vladivostok
    late = datetime(2026, 9, 16, 22, 0, tzinfo=UTC)  # 08:00: closed
    first = reg.create("v1", form(), now=on_time).number
    consented(reg, first, on_time)
    assert reg.submit(first, now=on_time).status is Status.SUBMITTED
    reg.withdraw(first, now=on_time)
    second = reg.create("v1", form(), now=late).number
    consented(reg, second, late)
    rejected = reg.submit(second, now=late)
    assert (rejected.status, rejected.reasons) == (Status.REJECTED, (RejectionReason.LATE,))
    with pytest.raises(InvalidInput, match="aware"):
        reg.create("v1", form(), now=datetime(2026, 9, 1))
    reg.close()


def test_withdrawal_moves_the_voter_back_until_registration_closes(registry: Registry) -> None:
    number = confirmed(registry)
    assert registry.voter("v1").channel == "remote"
    with pytest.raises(RuleViolation) as info:
        registry.withdraw(number, now=SCHEDULE.closes)
    assert info.value.rule is Rule.OUTSIDE_WINDOW
    registry.withdraw(number, now=SCHEDULE.closes - timedelta(seconds=1))
    assert registry.voter("v1").channel == "paper"
    with pytest.raises(Ineligible) as refused:
        registry.check_credential_eligibility("v1", "duma-2026", "style-1", CLOSES)
    assert refused.value.reason is IneligibleReason.NOT_REMOTE_CHANNEL


def test_a_paper_vote_blocks_the_credential_and_a_remote_voter_cannot_vote_on_paper(
    registry: Registry,
) -> None:
    registry.mark_voted_on_paper("v7", now=NOW, actor="uik-1")
    assert IneligibleReason.VOTED_ON_PAPER in registry.assess("v7", "d2")
    confirmed(registry, "v1")
    with pytest.raises(RuleViolation) as info:
        registry.mark_voted_on_paper("v1", now=NOW, actor="uik-1")
    assert info.value.rule is Rule.WRONG_CHANNEL


def test_duplicates_are_refused(registry: Registry) -> None:
    registry.create("v1", form(), now=NOW)
    for changes in ({"snils": SNILS["v1"]}, {"passport_number": form()["passport_number"]}):
        with pytest.raises(RuleViolation) as info:
            registry.create("v7", form("v7", **changes), now=NOW)
        assert info.value.rule is Rule.DUPLICATE_APPLICATION
    with pytest.raises(RuleViolation, match="phone"):
        registry.create("v7", form("v7", phone="+79123456789"), now=NOW)
    with pytest.raises(RuleViolation):
        registry.create("v1", form(passport_number="999999", snils="646-663-083 23"), now=NOW)  # same voter


def test_field_errors_all_at_once_and_nothing_stored(registry: Registry) -> None:
    with pytest.raises(InvalidInput) as info:
        registry.create("v1", form(full_name="Ivanov", phone="+7 abc", snils="112-233-445 94"), now=NOW)
    assert {e.field for e in info.value.errors} == {"full_name", "phone", "snils"}
    with pytest.raises(InvalidInput) as upload:
        registry.attach("2026-000000000000", "scan", b"GIF89a", now=NOW)
    assert upload.value.errors[0].code == "upload_type"
    registry.create("v1", form(), now=NOW)  # the refused attempt left no trace behind


def _race(
    path: str, voter: str, barrier: multiprocessing.synchronize.Barrier, out: multiprocessing.Queue
) -> None:  # type: ignore[type-arg]
    reg = open_registry(path)
    barrier.wait()
    try:
        reg.create(voter, form(voter, snils=SNILS["v1"]), now=NOW)
        out.put("won")
    except RuleViolation as exc:
        out.put(str(exc.rule))
    finally:
        reg.close()


def test_concurrent_duplicate_applications_only_one_wins(store_location: str) -> None:
    path = store_location
    open_registry(path).import_voters(VOTERS, now=NOW)
    contenders = ["v1", "v7", "v1", "v7", "v1", "v7"]
    results = race(_race, [(path, v) for v in contenders])
    assert results.count("won") == 1
    assert results.count(str(Rule.DUPLICATE_APPLICATION)) == len(contenders) - 1
    assert query(path, "SELECT COUNT(*) FROM applications") == [(1,)]


def test_one_time_codes_expire_are_single_use_and_lock_after_five_failures(registry: Registry) -> None:
    number = approved(registry)
    code = registry.issue_code(number, now=NOW)
    with pytest.raises(RuleViolation) as expired:
        registry.confirm(number, code, now=NOW + timedelta(minutes=5, seconds=1))
    assert expired.value.rule is Rule.CODE_EXPIRED
    code = registry.issue_code(number, now=NOW)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2):
        with pytest.raises(VerificationFailed, match=f"{left} tries left"):
            registry.confirm(number, wrong, now=NOW)
    code = registry.issue_code(number, now=NOW)  # re-sending does not reset the count
    wrong = "000000" if code != "000000" else "111111"
    for left in (1, 0):
        with pytest.raises(VerificationFailed, match=f"{left} tries left"):
            registry.confirm(number, wrong, now=NOW)
    with pytest.raises(RuleViolation) as locked:
        registry.confirm(number, code, now=NOW)
    assert locked.value.rule is Rule.CODE_LOCKED
    assert registry.application(number).status is Status.APPROVED


def test_a_used_code_cannot_be_used_again_and_codes_are_not_stored(
    registry: Registry, store_location: str
) -> None:
    number = approved(registry)
    code = registry.issue_code(number, now=NOW)
    registry.confirm(number, code, now=NOW)
    with pytest.raises(RuleViolation):
        registry.confirm(number, code, now=NOW)
    if store_location.startswith("postgresql://"):
        assert [bytes(m) for (m,) in query(store_location, "SELECT mac FROM codes")] != [code.encode()]
        return
    raw = Path(store_location).read_bytes() + Path(store_location + "-wal").read_bytes()
    assert code.encode() not in raw


def test_import_is_all_or_nothing_and_reports_rows(tmp_path: Path) -> None:
    reg = open_registry(tmp_path / "r.sqlite")
    bad = (
        VOTERS
        + "v8,John Smith,01.01.1990,RU,d1,0\n"
        + "v9,Петров Пётр,31.02.1990,RU,d1,maybe\n"
        + "v1,Иванов Иван,01.01.1990,RU,d1,0\n"
    )
    with pytest.raises(InvalidInput) as info:
        reg.import_voters(bad, now=NOW)
    assert {(e.field, e.code) for e in info.value.errors} == {
        ("row 9: full_name", "not_cyrillic"),
        ("row 10: birth_date", "not_a_date"),
        ("row 10: disenfranchised", "not_a_flag"),
        ("row 11: voter_id", "duplicate"),
    }
    with pytest.raises(InvalidInput, match="nobody"):
        reg.voter("nobody")
    with pytest.raises(InvalidInput):
        reg.voter("v1")  # nothing was imported
    with pytest.raises(InvalidInput, match="columns"):
        reg.import_voters("id,name\n1,x\n", now=NOW)
    assert reg.import_voters(VOTERS, now=NOW) == 7
    with pytest.raises(InvalidInput, match="already on the list"):
        reg.import_voters(VOTERS, now=NOW)
    reg.close()


def test_the_audit_chain_detects_tampering(registry: Registry, store_location: str) -> None:
    approved(registry)
    with pytest.raises(RuleViolation):
        registry.create("v1", form(), now=NOW)  # refusals are audited too
    report = registry.verify_audit()
    assert report.ok and report.entries >= 8
    results = [r for (r,) in query(store_location, "SELECT result FROM audit ORDER BY seq")]
    assert results[-1].startswith("refused")
    ((actor,),) = query(store_location, "SELECT actor FROM audit WHERE seq = 3")
    execute(store_location, "UPDATE audit SET actor = 'someone else' WHERE seq = 3")
    with pytest.raises(VerificationFailed) as changed:
        registry.verify_audit()
    assert (changed.value.check, changed.value.subject) == ("audit-log", "entry 3")
    execute(store_location, f"UPDATE audit SET actor = '{actor}' WHERE seq = 3")  # noqa: S608 - our own value
    assert registry.verify_audit().ok
    execute(store_location, "DELETE FROM audit WHERE seq = 5")
    with pytest.raises(VerificationFailed) as missing:
        registry.verify_audit()
    assert (missing.value.subject, missing.value.detail) == ("entry 5", "entry 5 is missing")


def test_purge_leaves_no_personal_data_in_the_file(registry: Registry, store_location: str) -> None:
    number = approved(registry)
    code = registry.issue_code(number, now=NOW)
    registry.confirm(number, code, now=NOW)
    with pytest.raises(RuleViolation):
        registry.purge(now=SCHEDULE.voting_ends)  # still within the retention period
    after = SCHEDULE.voting_ends + SCHEDULE.retention
    report = registry.purge(now=after)
    assert report.removed["voters"] == 7 and report.removed["applications"] == 1
    assert registry.purge(now=after).total == 0  # idempotent
    assert registry.verify_audit().ok
    counts = dict(query(store_location, "SELECT key, value FROM aggregates"))
    assert counts["applications.status.confirmed"] == 1
    assert counts["voters.channel.remote"] == 1
    for table in ("voters", "applications", "phones", "transitions", "consents", "codes"):
        assert query(store_location, f"SELECT COUNT(*) FROM {table}") == [(0,)], table  # noqa: S608
    if store_location.startswith("postgresql://"):
        return  # PostgreSQL's files and WAL are the server's; VACUUM FULL rewrote the tables
    path = Path(store_location)
    raw = path.read_bytes()
    wal = Path(store_location + "-wal")
    if wal.exists():
        raw += wal.read_bytes()
    personal = [
        "Иванов", "Петрова", "Ёлка", "Сидоров", "112-233-445 95", "11223344595", "79123456789", "4510",
        "Тверская", number, "ОВД Тверского",
    ]  # fmt: skip
    # Two-character voter ids ("v1") would match random bytes of hashes by chance; names and numbers cannot.
    for needle in personal:
        assert needle.encode() not in raw, needle


def test_status_names_and_synonyms() -> None:
    assert Status.from_display("Отклонено") is Status.REJECTED
    assert Status.from_display("  заявка   ПРИНЯТА ") is Status.SUBMITTED
    assert Status.from_display("Принято") is Status.APPROVED
    assert Status.from_display("Проверка завершена") is Status.APPROVED
    assert Status.from_display("Подтверждено") is Status.CONFIRMED
    assert Status.APPROVED.display_ru == "Одобрено"
    assert RejectionReason.LATE.display_ru.startswith("Пропущен")
    with pytest.raises(InvalidInput):
        Status.from_display("Готово к получению")  # a diploma status, not an application one


def test_schedule_validation() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        Schedule("Mars/Olympus", datetime(2026, 8, 1), datetime(2026, 9, 18), datetime(2026, 9, 20))
    with pytest.raises(InvalidInput, match="opens < closes"):
        Schedule("Europe/Moscow", datetime(2026, 9, 19), datetime(2026, 9, 18), datetime(2026, 9, 20))
    with pytest.raises(InvalidInput):
        open_registry(os.devnull, code_key=b"short")


def test_the_issuer_consults_the_registry(registry: Registry, tmp_path: Path) -> None:
    """The registry is the issuer's eligibility oracle: confirmed remote voters only, once."""
    key = rsabssa.generate_key(2048)
    issuer = Issuer(
        tmp_path / "issuer.sqlite",
        "duma-2026",
        {"style-1": key, "style-2": key},
        registry,
        log_key=SigningKey.generate(),
        window=(NOW, CLOSES + timedelta(days=1)),
    )
    request = request_credential(key.public_key(), "duma-2026", "style-1")
    with pytest.raises(Ineligible) as info:
        issuer.issue("v1", "style-1", request.blinded_msg, request_signature=bytes(64), now=CLOSES)
    assert info.value.reason is IneligibleReason.NOT_REMOTE_CHANNEL
    number = confirmed(registry)
    enrolled = registry.enrollment_receipt(number)  # the device holds it: her reference, her key
    signature = sign_credential_request(
        device_key("v1"), "duma-2026", "style-1", enrolled.voter_ref, request.blinded_msg
    )
    blind = issuer.issue("v1", "style-1", request.blinded_msg, request_signature=signature, now=CLOSES)
    finish_credential(request, blind, key.public_key()).credential.verify(key.public_key())
    with pytest.raises(Ineligible):
        issuer.issue("v7", "style-2", request.blinded_msg, request_signature=bytes(64), now=CLOSES)
