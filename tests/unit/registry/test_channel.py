"""One voter, one channel (issue 14): credential claims against withdrawal and paper votes, on both stores."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.signing import SigningKey

from degcore.errors import Ineligible, IneligibleReason, Rule, RuleViolation, StorageError
from degcore.issuance import Issuer, request_credential, rsabssa
from degcore.registry import Registry, Status
from tests.conftest import execute, query, race
from tests.unit.registry.conftest import CLOSES, NOW, SCHEDULE, SETTINGS, approved, confirmed, open_registry

#: An election whose settings open issuance during registration (documented in docs/registry.md).
EARLY = dataclasses.replace(SETTINGS, issuance_opens=datetime(2026, 8, 5, tzinfo=UTC))
ELECTION = SETTINGS.election_id


def _issuer(tmp_path: Path, key: rsa.RSAPrivateKey, oracle: Registry) -> Issuer:
    """An issuer whose own window is wide open, so that the registry's rules are what refuse."""
    window = (SCHEDULE.registration_opens, SCHEDULE.voting_ends)
    return Issuer(
        tmp_path / "issuer.sqlite",
        ELECTION,
        {"style-1": key},
        oracle,
        log_key=SigningKey.generate(),
        window=window,
    )


def claim(reg: Registry, voter: str = "v1", style: str = "style-1", now: datetime = CLOSES) -> None:
    reg.check_credential_eligibility(voter, ELECTION, style, now)


def test_an_approved_but_unconfirmed_application_gets_no_credential(
    registry: Registry, tmp_path: Path
) -> None:
    """Issue 14, scenario 1: approval without the one-time code does not put the voter on the remote list."""
    number = approved(registry)
    key = rsabssa.generate_key(2048)
    issuer = _issuer(tmp_path, key, registry)
    request = request_credential(key.public_key(), ELECTION, "style-1")
    with pytest.raises(Ineligible) as info:
        issuer.issue("v1", "style-1", request.blinded_msg, request_signature=bytes(64), now=CLOSES)
    assert info.value.reason is IneligibleReason.NOT_REMOTE_CHANNEL
    assert f"application {number} was approved but never confirmed" in str(info.value)
    assert registry.voter("v1").credential_style is None
    registry.mark_voted_on_paper("v1", now=SCHEDULE.voting_starts, actor="uik-1")  # she votes on paper


def test_no_credential_while_registration_is_open(registry: Registry, tmp_path: Path) -> None:
    """Issue 14, scenario 2: by default credentials are issued only once the remote list is frozen."""
    number = confirmed(registry)
    key = rsabssa.generate_key(2048)
    issuer = _issuer(tmp_path, key, registry)
    request = request_credential(key.public_key(), ELECTION, "style-1")
    with pytest.raises(RuleViolation) as info:
        issuer.issue("v1", "style-1", request.blinded_msg, request_signature=bytes(64), now=NOW)
    assert info.value.rule is Rule.OUTSIDE_WINDOW
    assert registry.voter("v1").credential_style is None
    registry.withdraw(number, now=NOW)  # nothing was issued, so she may still go back to paper
    registry.mark_voted_on_paper("v1", now=SCHEDULE.voting_starts, actor="uik-1")


def test_after_a_credential_the_voter_can_neither_withdraw_nor_vote_on_paper(registry: Registry) -> None:
    number = confirmed(registry)
    claim(registry)
    with pytest.raises(RuleViolation) as withdrawn:
        registry.withdraw(number, now=CLOSES)
    assert withdrawn.value.rule is Rule.ALREADY_ISSUED
    assert "can no longer be withdrawn" in str(withdrawn.value)
    with pytest.raises(RuleViolation) as paper:
        registry.mark_voted_on_paper("v1", now=CLOSES, actor="uik-1")
    assert paper.value.rule is Rule.ALREADY_ISSUED
    record = registry.voter("v1")
    assert (record.channel, record.voted_on_paper, record.credential_style) == ("remote", False, "style-1")
    assert registry.application(number).status is Status.CONFIRMED


def test_with_early_issuance_withdrawal_after_the_credential_is_refused(store_location: str) -> None:
    """Issue 14, scenario 2 under settings that allow issuance during registration."""
    reg = open_registry(store_location, EARLY)
    reg.import_voters(VOTERS_TEXT, now=NOW)
    with pytest.raises(RuleViolation):
        claim(reg, now=datetime(2026, 8, 4, tzinfo=UTC))  # before the window opens
    number = confirmed(reg)
    claim(reg, now=NOW)
    with pytest.raises(RuleViolation) as withdrawn:
        reg.withdraw(number, now=NOW)
    assert withdrawn.value.rule is Rule.ALREADY_ISSUED
    with pytest.raises(RuleViolation) as paper:
        reg.mark_voted_on_paper("v1", now=NOW, actor="uik-1")
    assert paper.value.rule is Rule.ALREADY_ISSUED
    assert reg.voter("v1").channel == "remote"
    reg.close()


def test_a_voter_who_voted_on_paper_gets_no_credential(registry: Registry) -> None:
    number = approved(registry)
    registry.mark_voted_on_paper("v1", now=NOW, actor="uik-1")  # approved, not yet confirmed: paper
    code = registry.issue_code(number, now=NOW)
    with pytest.raises(RuleViolation) as info:
        registry.confirm(number, code, now=NOW)
    assert info.value.rule is Rule.VOTED_ON_PAPER
    with pytest.raises(Ineligible) as refused:
        claim(registry)
    assert refused.value.reason is IneligibleReason.VOTED_ON_PAPER


def test_a_claim_is_idempotent_and_only_inside_the_window(registry: Registry, store_location: str) -> None:
    confirmed(registry)
    claim(registry)
    claim(registry, now=CLOSES + timedelta(hours=1))  # the issuer's retry after a lost answer
    with pytest.raises(RuleViolation) as other:
        claim(registry, style="style-2")
    assert other.value.rule is Rule.ALREADY_ISSUED
    with pytest.raises(RuleViolation) as late:
        claim(registry, now=SCHEDULE.voting_ends)
    assert late.value.rule is Rule.OUTSIDE_WINDOW
    with pytest.raises(Ineligible) as elsewhere:
        registry.check_credential_eligibility("v1", "another-election", "style-1", CLOSES)
    assert elsewhere.value.reason is IneligibleReason.NOT_ON_LIST
    rows = query(store_location, "SELECT action, result FROM audit ORDER BY seq")
    assert [str(r) for a, r in rows if str(a).startswith("claim_credential")] == [
        "ok", "ok", "refused: RuleViolation(already_issued)", "refused: RuleViolation(outside_window)",
    ]  # fmt: skip


def test_the_schema_refuses_a_claim_beside_paper(registry: Registry, store_location: str) -> None:
    """The CHECK holds even against SQL written behind the registry's back."""
    confirmed(registry)
    claim(registry)
    for sql in (
        "UPDATE voters SET voted_on_paper = 1 WHERE voter_id = 'v1'",
        "UPDATE voters SET channel = 'paper' WHERE voter_id = 'v1'",
        "UPDATE voters SET claimed_style = 'style-2', claimed_at = 'x' WHERE voter_id = 'v7'",  # on paper
    ):
        with pytest.raises(Exception, match=r"(?i)check"):
            execute(store_location, sql)
    assert query(store_location, "SELECT COUNT(*) FROM voters WHERE claimed_style IS NOT NULL") == [(1,)]


def test_nothing_changes_the_list_after_the_freeze(registry: Registry) -> None:
    """A caller whose clock goes backwards after the freeze still cannot change a channel."""
    done = confirmed(registry)
    pending = approved(registry, "v7")
    code = registry.issue_code(pending, now=NOW)
    registry.freeze_remote_list(CLOSES)
    for step in (
        lambda: registry.withdraw(done, now=NOW),
        lambda: registry.confirm(pending, code, now=NOW),
    ):
        with pytest.raises(RuleViolation) as info:
            step()
        assert info.value.rule is Rule.OUTSIDE_WINDOW
    assert registry.voter("v1").channel == "remote" and registry.voter("v7").channel == "paper"


# --- races: every rule under concurrent requests, on both stores ----------------------------------
def _act(path: str, job: tuple[bool, str, str], barrier: object, out: object) -> None:
    early, action, arg = job
    reg = open_registry(path, EARLY if early else SETTINGS)
    barrier.wait()  # type: ignore[attr-defined]
    try:
        if action == "claim":
            claim(reg, now=NOW if early else CLOSES)
        elif action == "withdraw":
            reg.withdraw(arg, now=NOW)
        elif action == "withdraw+mark":
            try:
                reg.withdraw(arg, now=NOW)
            finally:
                reg.mark_voted_on_paper("v1", now=NOW, actor="uik")
        elif action == "confirm":
            reg.confirm(*arg.split(":"), now=NOW)
        else:
            reg.mark_voted_on_paper("v1", now=NOW, actor="uik")
        out.put(f"{action}: ok")  # type: ignore[attr-defined]
    except (Ineligible, RuleViolation) as exc:
        out.put(f"{action}: {getattr(exc, 'rule', None) or getattr(exc, 'reason', '')}")  # type: ignore[attr-defined]
    except StorageError as exc:  # pragma: no cover - shown in the assertion if it ever happens
        out.put(f"{action}: storage {exc}")  # type: ignore[attr-defined]
    finally:
        reg.close()


def _voter_row(path: str) -> tuple[object, ...]:
    ((row),) = query(path, "SELECT channel, voted_on_paper, claimed_style FROM voters WHERE voter_id = 'v1'")
    return tuple(row)


VOTERS_TEXT = (
    "voter_id,full_name,birth_date,citizenship,district,disenfranchised\n"
    "v1,Иванов Иван Иванович,01.02.1980,RU,d1,0\n"
)


def _prepared(path: str, settings_early: bool) -> str:
    reg = open_registry(path, EARLY if settings_early else SETTINGS)
    reg.import_voters(VOTERS_TEXT, now=NOW)
    number = confirmed(reg)
    reg.close()
    return number


def test_race_claims_against_withdrawals(store_location: str) -> None:
    number = _prepared(store_location, settings_early=True)
    outcomes = race(_act, [(store_location, (True, a, number)) for a in ["claim", "withdraw"] * 3])
    claims, withdrawals = outcomes.count("claim: ok"), outcomes.count("withdraw: ok")
    assert (claims, withdrawals) in ((3, 0), (0, 1)), outcomes  # whoever commits first decides
    channel, _, style = _voter_row(store_location)
    assert (channel, style) == (("remote", "style-1") if claims else ("paper", None)), outcomes
    if claims:
        assert outcomes.count(f"withdraw: {Rule.ALREADY_ISSUED}") == 3, outcomes


def test_race_claims_against_withdrawal_and_paper_vote(store_location: str) -> None:
    number = _prepared(store_location, settings_early=True)
    outcomes = race(_act, [(store_location, (True, a, number)) for a in ["claim", "withdraw+mark"] * 3])
    channel, paper, style = _voter_row(store_location)
    assert not (style is not None and paper), outcomes  # never both a credential and a paper vote
    if style is not None:
        assert channel == "remote" and "withdraw+mark: ok" not in outcomes, outcomes
    else:
        assert paper and "claim: ok" not in outcomes, outcomes


def test_race_confirmation_against_paper_vote(store_location: str) -> None:
    reg = open_registry(store_location)
    reg.import_voters(VOTERS_TEXT, now=NOW)
    number = approved(reg)
    code = reg.issue_code(number, now=NOW)
    reg.close()
    outcomes = race(_act, [(store_location, (False, a, f"{number}:{code}")) for a in ["confirm", "mark"] * 3])
    channel, paper, _ = _voter_row(store_location)
    assert (channel, paper) in (("remote", 0), ("paper", 1)), outcomes
    assert outcomes.count("confirm: ok") + outcomes.count("mark: ok") >= 1, outcomes
    assert not ("confirm: ok" in outcomes and "mark: ok" in outcomes), outcomes


def test_race_identical_claims_all_succeed_once(store_location: str) -> None:
    _prepared(store_location, settings_early=False)
    outcomes = race(_act, [(store_location, (False, "claim", "")) for _ in range(4)])
    assert outcomes == ["claim: ok"] * 4
    assert _voter_row(store_location) == ("remote", 0, "style-1")
