"""The trust roots: each insider attack that once passed ``degcore verify`` is now refused by a named check.

Each test plays one dishonest party exactly: it holds that party's own key (never the authority's),
re-chains and re-signs what that party could, and hands the record to the authority, who signs the
index of whatever files it was given (the index signature fixes the bytes, not their honesty).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from degcore.ballot import ElectionContext, ElectionSetup, MixServer
from degcore.board import Receipt
from degcore.cli import main
from degcore.encoding import canonical_json
from degcore.errors import InvalidInput
from degcore.groups import get_group
from degcore.issuance.enrollment import Enrollment, enrollment_lines
from degcore.parallel import SERIAL
from degcore.record import layout, load_context, write_record
from degcore.trustees.dkg import CeremonyResult
from degcore.verify import CATALOGUE, Outcome, Report, verify_record
from degcore.verify.receipts import BallotStatus, check_receipt, find_ballot
from tests.record_fixtures import (
    AUTHORITY,
    BOX_KEY,
    ISSUANCE_KEY,
    ISSUANCE_TAG,
    REGISTRY_KEY,
    Built,
    build_record,
    edit_json,
    enrollment_list,
    enrollments,
    lines,
    manifest,
    reindex,
    setup_for,
    voter_key,
    write_chain,
)

BOARD_TAG = b"degcore/4/board"


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_record(tmp_path_factory.mktemp("honest"))


@pytest.fixture
def record(honest: Built, tmp_path: Path) -> Path:
    shutil.copytree(honest.root, tmp_path / "record")
    return tmp_path / "record"


_PASSING = {True: Outcome.PASS, False: Outcome.SKIP}


def _verify(root: Path) -> Report:
    return verify_record(root, executor=SERIAL)


def _fails(report: Report, check_id: str, item: str, reason: str = "") -> None:
    result = report.check(check_id)
    assert result.outcome is Outcome.FAIL, (check_id, report.to_text())
    assert any(item in i and reason in r for i, r in result.failures), (check_id, result.failures)
    assert not report.ok


def _others_pass(report: Report, *failing: str) -> None:
    # V19 is skipped without pins; every other check must pass.
    for check_id in CATALOGUE:
        if check_id not in failing:
            assert report.check(check_id).outcome is _PASSING[check_id != "V19"], (check_id, report.to_text())


# 1. Ballot stuffing by the issuer ------------------------------------------------------------------
def test_1_an_issuer_minting_credentials_it_never_logged(tmp_path: Path) -> None:
    """Two credentials of style b minted with the issuer's RSA key, cast, and left out of its log."""
    built = build_record(tmp_path, minted=(("b", False), ("b", False)))
    report = _verify(built.root)
    _fails(report, "V16", "b", "6 counted ballots for 5 credentials issued")
    _others_pass(report, "V16")


def test_1_an_issuer_logging_more_credentials_than_voters(tmp_path: Path) -> None:
    """Logging its mints instead pushes issuance past the remote list: 8 issued for 6 voters."""
    built = build_record(tmp_path, minted=(("a", True), ("a", True), ("a", True), ("a", True)))
    report = _verify(built.root)
    _fails(report, "V16", "a", "8 credentials issued for 6 voters")
    _fails(report, "V18", "issuance entry 9", "not on the enrollment list")
    _others_pass(report, "V16", "V18")


def test_1_the_issuer_stuffs_within_the_counts_under_invented_references(tmp_path: Path) -> None:
    """Issue 26: the issuer's RSA and log keys, two stuffed ballots in style a and one in b, within the
    counts, each logged under a reference of its own making: it passed every check before V18."""
    built = build_record(tmp_path, minted=(("a", True), ("a", True), ("b", True)))
    report = _verify(built.root)
    for position in (9, 10, 11):
        _fails(report, "V18", f"issuance entry {position}", "not on the enrollment list")
    assert len(report.check("V18").failures) == 3
    _others_pass(report, "V18")


def test_1_the_issuer_stuffs_under_references_of_enrolled_voters_who_never_asked(tmp_path: Path) -> None:
    """It reads the published list and logs its mints under real, not yet issued references: it holds
    no voter's key, so it signs the requests with its own."""
    built = build_record(tmp_path, minted=(("a", "voter-a-4"), ("a", "voter-a-5"), ("b", "voter-b-5")))
    report = _verify(built.root)
    for position in (9, 10, 11):
        _fails(report, "V18", f"issuance entry {position}", "not signed by the voter's enrolled key")
    _others_pass(report, "V18")


def test_1_the_issuer_moves_a_voters_request_to_another_style(record: Path) -> None:
    entries = lines(record, layout.ISSUANCE_LOG)
    entries[0]["payload"]["ballot_style"] = "b"
    entries[-1]["payload"]["issued"]["a"] -= 1
    entries[-1]["payload"]["issued"]["b"] += 1
    write_chain(record, layout.ISSUANCE_LOG, "issuance-entry", ISSUANCE_TAG, ISSUANCE_KEY, entries)
    report = _verify(record)
    _fails(report, "V18", "issuance entry 1", "the voter's is 'a'")
    _fails(report, "V16", "a", "4 counted ballots for 3 credentials issued")
    _others_pass(report, "V16", "V18")


def test_1_a_voter_signature_on_another_request_is_no_authorisation(record: Path) -> None:
    """The issuer replays voter 1's signature on voter 2's entry, or on another blinded message."""
    entries = lines(record, layout.ISSUANCE_LOG)
    entries[2]["payload"]["voter_signature"] = entries[0]["payload"]["voter_signature"]
    entries[3]["payload"]["request_sha256"] = "00" * 32
    write_chain(record, layout.ISSUANCE_LOG, "issuance-entry", ISSUANCE_TAG, ISSUANCE_KEY, entries)
    report = _verify(record)
    _fails(report, "V18", "issuance entry 3", "not signed")
    _fails(report, "V18", "issuance entry 4", "not signed")
    assert len(report.check("V18").failures) == 2
    _others_pass(report, "V18")


def test_1_a_duplicate_voter_reference(record: Path) -> None:
    entries = lines(record, layout.ISSUANCE_LOG)
    entries[1]["payload"]["voter_ref"] = entries[0]["payload"]["voter_ref"]
    write_chain(record, layout.ISSUANCE_LOG, "issuance-entry", ISSUANCE_TAG, ISSUANCE_KEY, entries)
    report = _verify(record)
    _fails(report, "V15", "issuance entry 2", "voter reference already issued")
    _fails(report, "V18", "issuance entry 2")  # that voter never asked for this one
    _others_pass(report, "V15", "V18")


def test_1_an_issuance_outside_the_window_and_a_wrong_close(record: Path) -> None:
    entries = lines(record, layout.ISSUANCE_LOG)
    for entry in entries[:2]:
        entry["at"] = "2026-09-01T00:00:00Z"  # before the issuance window opened
    entries[-1]["payload"]["issued"]["a"] += 1
    write_chain(record, layout.ISSUANCE_LOG, "issuance-entry", ISSUANCE_TAG, ISSUANCE_KEY, entries)
    report = _verify(record)
    _fails(report, "V15", "issuance entry 1", "outside the issuance window")
    _fails(report, "V15", "issuance close", "differ from the entries")
    _others_pass(report, "V15")  # the voters' signatures do not cover the time: V18 passes


def test_1_a_log_signed_by_another_issuer_key_and_registry_counts_re_signed(record: Path) -> None:
    entries = lines(record, layout.ISSUANCE_LOG)
    write_chain(record, layout.ISSUANCE_LOG, "issuance-entry", ISSUANCE_TAG, SigningKey.generate(), entries)
    edit_json(
        record,
        layout.REMOTE_LIST,
        lambda c: (c["counts"].update(a=100), c.update(entries=106)),
        resign=REGISTRY_KEY,
    )
    report = _verify(record)
    _fails(report, "V15", "issuance entry 1", "signature")
    _fails(report, "V15", layout.REMOTE_LIST, "is not the file the setup names")
    _fails(report, "V15", layout.REMOTE_LIST, "counts are not the setup's")
    _fails(report, "V15", layout.ENROLLMENT, "the head: 106")
    _others_pass(report, "V15")


# 1b. The registry's published enrollment list ------------------------------------------------------------
def _rewrite_enrollment(record: Path, entries: list[Enrollment]) -> None:
    """The registry rewrites its list and re-signs its head with its own key; the setup names the old."""
    (record / layout.ENROLLMENT).write_bytes(enrollment_lines(entries))
    (record / layout.REMOTE_LIST).write_bytes(canonical_json(enrollment_list(entries)))
    reindex(record)


def test_1b_the_registry_adds_a_ghost_voter_after_the_setup(record: Path) -> None:
    ghost = replace(
        enrollments({"a": 1})[0], voter_ref=bytes(32), voter_key=bytes(voter_key("ghost").verify_key)
    )
    _rewrite_enrollment(record, [*enrollments({"a": 6, "b": 6}), ghost])
    report = _verify(record)
    _fails(report, "V15", layout.REMOTE_LIST, "is not the file the setup names")
    _fails(report, "V15", layout.REMOTE_LIST, "counts are not the setup's")
    _others_pass(report, "V15")


def test_1b_the_enrollment_lines_must_be_the_signed_ones(record: Path) -> None:
    """Lines swapped under an unchanged head: a key changed, a line repeated, the order broken."""
    data = (record / layout.ENROLLMENT).read_bytes().splitlines(keepends=True)
    start = data[0].index(b'"voter_key":"') + len(b'"voter_key":"')
    swapped = data[0][:start] + bytes(voter_key("x").verify_key).hex().encode() + data[0][start + 64 :]
    (record / layout.ENROLLMENT).write_bytes(b"".join([data[1], swapped, data[1], *data[2:]]))
    reindex(record)
    report = _verify(record)
    _fails(report, "V15", layout.ENROLLMENT, "is not the list the registry signed")
    _fails(report, "V15", "enrollment line 2", "out of voter-reference order")
    _fails(report, "V15", "enrollment line 3", "a voter reference listed twice")
    _fails(report, "V15", "enrollment line 3", "a voter key enrolled twice")
    _fails(report, "V15", layout.ENROLLMENT, "the head: 12")
    _others_pass(report, "V15", "V18")


# 2. Swapped issuer keys -------------------------------------------------------------------------------
def test_2_ballots_cast_with_credentials_under_the_box_operators_own_rsa_key(
    honest: Built, record: Path
) -> None:
    """The box operator mints credentials under its own RSA key and logs their ballots, re-signing the log."""
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415

    from degcore.board.cast import CastBallot  # noqa: PLC0415
    from degcore.issuance import finish_credential, request_credential, rsabssa  # noqa: PLC0415
    from tests.record_fixtures import cast  # noqa: PLC0415

    own: rsa.RSAPrivateKey = rsabssa.generate_key(2048)
    request = request_credential(own.public_key(), "e2026", "b")
    wallet = finish_credential(request, rsabssa.blind_sign(own, request.blinded_msg), own.public_key())
    forged: CastBallot = cast(honest.context, wallet, {"mayor": {"m0": 1}})
    entries = lines(record, layout.LOG)
    fake = dict(entries[1], payload=forged.to_json(honest.context))
    entries.insert(2, fake)
    write_chain(record, layout.LOG, "log-entry", BOARD_TAG, BOX_KEY, entries)
    report = _verify(record)
    _fails(report, "V6", "entry 3", "signature")  # RSA-PSS under the setup's key fails
    # The forged ballot did not enter the tally: the close count and the tally still match the rest.
    assert report.check("V5").outcome is Outcome.FAIL  # the close entry counts one ballot less


def test_2_issuer_keys_swapped_in_the_setup(record: Path) -> None:
    """Without the authority's key the setup cannot be re-signed: V14 names it."""
    edit_json(record, layout.SETUP, lambda s: s["issuer"]["keys"].update(b=s["issuer"]["keys"]["a"]))
    report = _verify(record)
    _fails(report, "V14", layout.SETUP, "signature does not verify")


# 3. A re-signed log ----------------------------------------------------------------------------------
def test_3_the_whole_log_re_signed_with_a_fresh_box_key(record: Path) -> None:
    entries = lines(record, layout.LOG)
    write_chain(record, layout.LOG, "log-entry", BOARD_TAG, SigningKey.generate(), entries)
    report = _verify(record)
    _fails(report, "V5", "entry 1", "box signature does not verify")
    _others_pass(report, "V5")


def test_3_and_the_box_key_rewritten_in_the_setup(record: Path) -> None:
    fresh = SigningKey.generate()
    edit_json(record, layout.SETUP, lambda s: s["box"].update(key=bytes(fresh.verify_key).hex()))
    write_chain(record, layout.LOG, "log-entry", BOARD_TAG, fresh, lines(record, layout.LOG))
    _fails(_verify(record), "V14", layout.SETUP, "signature does not verify")


# 4. Policy switched after the fact --------------------------------------------------------------------
def test_4_policy_switched_to_last_and_a_ballot_replayed(record: Path) -> None:
    entries = lines(record, layout.LOG)
    entries.insert(8, dict(entries[0]))  # a second ballot of the first credential
    write_chain(record, layout.LOG, "log-entry", BOARD_TAG, BOX_KEY, entries)
    edit_json(record, layout.SETUP, lambda s: s["box"].update(policy="last"))
    report = _verify(record)
    _fails(report, "V14", layout.SETUP, "signature does not verify")


def test_4_a_replayed_ballot_under_the_setups_policy(record: Path) -> None:
    entries = lines(record, layout.LOG)
    entries.insert(8, dict(entries[0]))
    write_chain(record, layout.LOG, "log-entry", BOARD_TAG, BOX_KEY, entries)
    report = _verify(record)
    _fails(report, "V7", "entry 9", "credential already cast")


# 5. Times out of order --------------------------------------------------------------------------------
def test_5_a_close_entry_stamped_before_the_ballots_and_before_voting_ends(record: Path) -> None:
    entries = lines(record, layout.LOG)
    entries[-1]["at"] = "2026-09-18T06:00:00Z"
    write_chain(record, layout.LOG, "log-entry", BOARD_TAG, BOX_KEY, entries)
    report = _verify(record)
    _fails(report, "V5", "closing entry", "before voting ends")
    _fails(report, "V5", f"entry {len(entries)}", "earlier than the previous entry")
    _others_pass(report, "V5")


def test_5_exact_payload_keys_of_the_close_entry(record: Path) -> None:
    entries = lines(record, layout.LOG)
    entries[-1]["payload"]["note"] = "extra"
    write_chain(record, layout.LOG, "log-entry", BOARD_TAG, BOX_KEY, entries)
    report = _verify(record)
    _fails(report, "V5", "closing entry", "exactly the keys")
    _others_pass(report, "V5")


# 7. One mix server alone ------------------------------------------------------------------------------
def test_7_a_cascade_of_one_stage(record: Path) -> None:
    """The first server publishes its output as the last; the second server's stage is gone."""
    (record / layout.mix_stage_file("vote", 2)).unlink()
    report = _verify(record)
    _fails(report, "V12", "vote", "1 stages; the setup names 2 mix servers")


def test_7_a_setup_with_one_mix_server_is_refused() -> None:
    group = get_group("ristretto255")
    one = {"vote": (MixServer("mix-1", bytes(32)),)}
    with pytest.raises(InvalidInput, match="at least 2"):
        setup_for(group, mix_servers=one)


def test_7_a_stage_signed_by_a_server_the_setup_does_not_name(record: Path) -> None:
    edit_json(
        record,
        layout.mix_stage_file("vote", 2),
        lambda s: s.update(server="mix-1"),
        resign=SigningKey.generate(),
    )
    _fails(_verify(record), "V12", "vote", "")


# 8. A record written without its ceremony -------------------------------------------------------------
def test_8_a_context_rebuilt_from_the_published_result_alone_is_refused(
    honest: Built, tmp_path: Path
) -> None:
    context = honest.context
    bare = CeremonyResult.from_json(context.ceremony.config, context.ceremony.to_json())
    thin = ElectionContext(context.manifest, bare, context.setup)
    with pytest.raises(InvalidInput, match="round-1 messages"):
        write_record(
            tmp_path / "out", context=thin, announcement={}, remote_list={}, enrollment=[], issuance_log=[],
            box_log=[],
            tally=None, partials=[], result=None,  # type: ignore[arg-type]
        )  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_8_load_context_rebuilds_the_whole_context(honest: Built) -> None:
    again = load_context(honest.root)
    assert again.base_hash == honest.context.base_hash
    assert len(again.ceremony.commitments) == 5


def test_write_record_refuses_incomplete_inputs(honest: Built, tmp_path: Path) -> None:
    no_setup = replace(honest.context, setup=None)
    with pytest.raises(InvalidInput, match="setup"):
        write_record(
            tmp_path / "x", context=no_setup, announcement={}, remote_list={}, enrollment=[], issuance_log=[],
            box_log=[],
            tally=None, partials=[], result=None,  # type: ignore[arg-type]
        )  # fmt: skip


def test_the_setup_binds_the_remote_list_counts_it_was_given() -> None:
    group = get_group("ristretto255")
    context, inputs = setup_for(group, remote_list=enrollment_list({"a": 1, "b": 2}))
    assert isinstance(context.setup, ElectionSetup)
    assert context.setup.remote_list_counts == {"a": 1, "b": 2}
    with pytest.raises(InvalidInput):
        ElectionSetup.create(SigningKey.generate(), manifest("ristretto255"), context.ceremony, **inputs)  # type: ignore[arg-type]
    assert AUTHORITY  # the fixtures' authority signed the first


# 6. A receipt that proves nothing -----------------------------------------------------------------------
def _write_receipt(tmp_path: Path, receipt: Receipt) -> str:
    path = tmp_path / "receipt.json"
    path.write_bytes(canonical_json(receipt.to_json()))
    return str(path)


def test_6_every_honest_receipt_is_found_counted_or_challenged(honest: Built, tmp_path: Path) -> None:
    *cast_receipts, challenge = honest.receipts
    for receipt in cast_receipts:
        lookup = check_receipt(honest.root, receipt.to_json())
        assert lookup.ok and lookup.status is BallotStatus.COUNTED, lookup
        assert lookup.position == receipt.position
    assert (
        main(["verify", str(honest.root), "--receipt", _write_receipt(tmp_path, cast_receipts[0]), "--quiet"])
        == 0
    )
    assert (
        main(["verify", str(honest.root), "--receipt", _write_receipt(tmp_path, challenge), "--quiet"]) == 5
    )
    assert find_ballot(honest.root, challenge.tracking_code).status is BallotStatus.CHALLENGED
    assert main(["find", str(honest.root), cast_receipts[2].tracking_code, "--quiet"]) == 0


def test_6_a_dropped_ballot_with_a_receipt_for_another_entry(
    record: Path, honest: Built, tmp_path: Path
) -> None:
    """The box drops the third ballot and, with its own key, signs its voter a receipt naming entry 4."""
    dropped, other = honest.receipts[2], honest.receipts[3]
    entries = lines(record, layout.LOG)
    del entries[dropped.position - 1]
    write_chain(record, layout.LOG, "log-entry", BOARD_TAG, BOX_KEY, entries)
    forged = replace(
        dropped, position=other.position - 1, payload_hash=other.payload_hash, entry_hash=other.entry_hash
    )
    forged = replace(forged, box_signature=BOX_KEY.sign(forged.digest()).signature)
    lookup = check_receipt(record, forged.to_json())
    assert not lookup.ok and lookup.status is BallotStatus.NOT_FOUND
    assert any("another ballot than the receipt names" in p for p in lookup.problems)
    # The voter's own receipt (for her true entry) is now evidence: the entry is gone.
    assert not check_receipt(record, dropped.to_json()).ok
    assert main(["verify", str(record), "--receipt", _write_receipt(tmp_path, dropped), "--quiet"]) == 1
    assert main(["find", str(record), dropped.tracking_code, "--quiet"]) == 1


def test_6_a_receipt_not_signed_by_the_setups_box_key(honest: Built) -> None:
    receipt = honest.receipts[0]
    forged = replace(receipt, box_signature=SigningKey.generate().sign(receipt.digest()).signature)
    lookup = check_receipt(honest.root, forged.to_json())
    assert not lookup.ok and any("box key" in p for p in lookup.problems)


def test_1_an_issuance_after_the_close_and_a_log_never_closed(record: Path) -> None:
    """The issuer, with its own log key, issues once more after closing: V15 names the entry."""
    entries = lines(record, layout.ISSUANCE_LOG)
    late = dict(entries[0], payload=dict(entries[0]["payload"], voter_ref="ab" * 32), at=entries[-1]["at"])
    write_chain(record, layout.ISSUANCE_LOG, "issuance-entry", ISSUANCE_TAG, ISSUANCE_KEY, [*entries, late])
    report = _verify(record)
    _fails(report, "V15", f"issuance entry {len(entries) + 1}", "after the closing entry")


def test_1_an_issuance_log_without_its_close(record: Path) -> None:
    entries = lines(record, layout.ISSUANCE_LOG)[:-1]
    write_chain(record, layout.ISSUANCE_LOG, "issuance-entry", ISSUANCE_TAG, ISSUANCE_KEY, entries)
    _fails(_verify(record), "V15", layout.ISSUANCE_LOG, "not closed")


def test_1_an_issuance_for_a_style_the_setup_has_no_key_for(record: Path) -> None:
    entries = lines(record, layout.ISSUANCE_LOG)
    entries[0]["payload"]["ballot_style"] = "c"
    write_chain(record, layout.ISSUANCE_LOG, "issuance-entry", ISSUANCE_TAG, ISSUANCE_KEY, entries)
    _fails(_verify(record), "V15", "issuance entry 1", "no issuer key")
