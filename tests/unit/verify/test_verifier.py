"""The verifier: an honest record passes every check; each tampering is caught by its check, on its item.

The record is written by a test election whose box key the tests hold, so a tampering can be
re-chained and re-signed like a dishonest box would: then only the check that must catch it fails.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.signing import SigningKey

from degcore import parallel
from degcore.cli import main
from degcore.demo import run_demo
from degcore.encoding import canonical_json
from degcore.groups import get_group
from degcore.issuance import public_key_pem
from degcore.mixnet.proof import _prepared_generators as prepared_generators
from degcore.parallel import SERIAL, dask_executor, process_pool
from degcore.record import layout
from degcore.trustees.signing import sign_message
from degcore.trustees.threshold import PartialDecryption
from degcore.verify import CATALOGUE, Outcome, Report, verify_record
from tests.record_fixtures import (
    AUTHORITY,
    BOX_KEY,
    MIX_KEYS,
    _ceremony,
    build_record,
    edit_json,
    lines,
    reindex,
    write_chain,
)


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_record(tmp_path_factory.mktemp("election")).root


@pytest.fixture
def record(honest: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "record"
    shutil.copytree(honest, copy)
    return copy


_PASSING = {True: Outcome.PASS, False: Outcome.SKIP}


def _verify(root: Path) -> Report:
    return verify_record(root, executor=SERIAL)


def _assert_only(report: Report, failing: dict[str, str], also: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """``failing``: check → a substring of one failing item; ``also``: checks allowed to fail besides."""
    for check_id, item in failing.items():
        result = report.check(check_id)
        assert result.outcome is Outcome.FAIL, (check_id, report.to_text())
        assert any(item in i for i, _ in result.failures), (check_id, result.failures)
    # V19 is skipped without pins; every other check must pass.
    for check_id in CATALOGUE:
        if check_id not in failing and check_id not in also:
            assert report.check(check_id).outcome is _PASSING[check_id != "V19"], (check_id, report.to_text())
    assert not report.ok


def _log(root: Path) -> list[dict]:  # type: ignore[type-arg]
    return lines(root, layout.LOG)


def _write_log(root: Path, entries: list[dict], *, resign: bool = True) -> None:  # type: ignore[type-arg]
    """Write the log back; with ``resign`` re-number, re-chain and re-sign it as the box would."""
    write_chain(root, layout.LOG, "log-entry", b"degcore/4/board", BOX_KEY if resign else None, entries)


def _edit_json(root: Path, name: str, change: Callable[[dict], None]) -> None:  # type: ignore[type-arg]
    edit_json(root, name, change)


def test_an_honest_record_passes_every_check(honest: Path) -> None:
    report = _verify(honest)
    assert report.ok, report.to_text()
    assert report.check("V6").items == 8 and report.check("V8").items == 1
    assert report.record_sha256 and report.election_id == "e2026"
    assert json.loads(json.dumps(report.to_json()))["ok"] is True


def test_v1_a_file_changed_after_the_index_or_an_unlisted_file(record: Path) -> None:
    (record / layout.RESULT).write_text(
        json.dumps(json.loads((record / layout.RESULT).read_bytes()), indent=1)
    )
    (record / "extra.txt").write_text("not part of the record")
    report = _verify(record)
    assert report.check("V1").outcome is Outcome.FAIL
    assert {layout.RESULT, "extra.txt"} <= {item for item, _ in report.check("V1").failures}


def test_v1_an_index_not_signed_by_the_authority(record: Path) -> None:
    index = json.loads((record / layout.INDEX).read_bytes())
    index["signature"] = SigningKey.generate().sign(b"x").signature.hex()
    (record / layout.INDEX).write_bytes(canonical_json(index))
    _assert_only(_verify(record), {"V1": layout.INDEX})


def test_non_canonical_bytes_are_refused_even_when_the_index_is_re_signed(record: Path) -> None:
    """A pretty-printed file, or a count spelled 6.0, is another byte string: the check reading it fails."""
    result = json.loads((record / layout.RESULT).read_bytes())
    (record / layout.RESULT).write_text(json.dumps(result, indent=1))
    reindex(record)
    report = _verify(record)
    assert report.check("V11").outcome is Outcome.FAIL
    assert "canonical" in str(report.check("V11").failures)


def test_v2_a_ceremony_for_another_election(record: Path) -> None:
    _edit_json(record, layout.CONFIG, lambda c: c.update(election_id="other-election"))
    report = _verify(record)
    assert report.check("V2").outcome in (Outcome.FAIL, Outcome.ERROR)
    assert all(report.check(c).outcome is Outcome.SKIP for c in ("V5", "V6", "V9", "V11"))


def test_v3_a_bad_commitment_proof(record: Path) -> None:
    lines = (record / layout.COMMITMENTS).read_bytes().splitlines()
    first = json.loads(lines[1])
    proof = first["proofs"][0]
    first["proofs"][0] = proof[:-2] + ("00" if proof[-2:] != "00" else "01")
    lines[1] = canonical_json(first)
    (record / layout.COMMITMENTS).write_bytes(b"\n".join(lines) + b"\n")
    reindex(record)
    _assert_only(_verify(record), {"V3": first["trustee"]})


def test_v3_a_swapped_joint_key(record: Path) -> None:
    g = get_group("ristretto255").generator()
    _edit_json(record, layout.DKG_RESULT, lambda r: r.update(joint_key=bytes(g).hex()))
    # The setup names the joint key; the base hash covers the ceremony result, so every proof fails too.
    _assert_only(
        _verify(record),
        {"V3": "joint key", "V14": layout.SETUP},
        also={"V6", "V8", "V10", "V11", "V12", "V13"},
    )


def test_v4_a_weak_issuer_key_in_a_setup_the_authority_signed(record: Path) -> None:
    weak_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - deliberately weak
    weak = public_key_pem(weak_key.public_key()).decode()
    edit_json(record, layout.SETUP, lambda s: s["issuer"]["keys"].update(b=weak), resign=AUTHORITY)
    # The base hash covers the setup: every ballot proof and partial was made under the old one, and
    # every party co-signed the old setup (V17).
    _assert_only(
        _verify(record),
        {"V4": "b", "V6": "entry", "V17": "box"},
        also={"V8", "V10", "V11", "V12", "V13", "V16"},
    )


def test_v5_reordered_entries(record: Path) -> None:
    entries = _log(record)
    entries[1], entries[2] = entries[2], entries[1]
    _write_log(record, entries, resign=False)
    _assert_only(_verify(record), {"V5": "entry 2"})


def test_v5_and_v9_a_dropped_ballot(record: Path) -> None:
    entries = _log(record)
    del entries[3]
    _write_log(record, entries)  # a dishonest box re-chains and re-signs: the count and tally catch it
    _assert_only(_verify(record), {"V5": "closing entry", "V9": "ballots of"})


def test_v5_an_entry_signed_by_another_key(record: Path) -> None:
    entries = _log(record)
    entries[2]["signature"] = SigningKey.generate().sign(bytes.fromhex(entries[2]["hash"])).signature.hex()
    _write_log(record, entries, resign=False)
    _assert_only(_verify(record), {"V5": "entry 3"})


def test_v6_an_altered_proof(record: Path) -> None:
    entries = _log(record)
    contest = entries[0]["payload"]["ballot"]["contests"][0]
    proof = contest["proofs"][1]
    contest["proofs"][1] = proof[:-2] + ("00" if proof[-2:] != "00" else "01")
    _write_log(record, entries)
    _assert_only(_verify(record), {"V6": "entry 1"})


def test_v6_a_ballot_logged_after_voting_ended(record: Path) -> None:
    entries = _log(record)
    for entry in entries[4:]:
        entry["at"] = "2026-09-20T17:00:01Z"  # later entries too: times never decrease
    _write_log(record, entries)
    report = _verify(record)
    _assert_only(report, {"V6": "entry 5", "V5": "entry 9"})  # the challenge after them goes back in time
    assert "outside_window" in str(report.check("V6").failures) or "voting is open" in str(
        report.check("V6").failures
    )


def test_v7_a_credential_used_twice(record: Path) -> None:
    entries = _log(record)
    entries.insert(8, json.loads(json.dumps(entries[0])))  # the same ballot logged again before closing
    _write_log(record, entries)
    _assert_only(_verify(record), {"V7": "entry 9"})


def test_v8_a_false_opening(record: Path) -> None:
    entries = _log(record)
    challenge = next(e for e in entries if e["kind"] == "challenge")
    challenge["payload"]["votes"]["mayor"] = [1, 0, 0]
    _write_log(record, entries)
    _assert_only(_verify(record), {"V8": "entry"})


def test_v8_a_false_nonce_is_named_by_its_option(record: Path) -> None:
    """The opening is checked in the chunk's batch; a failure is reported in the exact check's words."""
    entries = _log(record)
    challenge = next(e for e in entries if e["kind"] == "challenge")
    nonces = challenge["payload"]["nonces"]["mayor"]
    nonces[1], nonces[2] = nonces[2], nonces[1]
    _write_log(record, entries)
    report = _verify(record)
    _assert_only(report, {"V8": "entry"})
    assert "mayor[1]" in str(report.check("V8").failures) and "does not encrypt" in str(
        report.check("V8").failures
    )


def test_v8_a_challenged_ballot_with_a_false_proof(record: Path) -> None:
    entries = _log(record)
    challenge = next(e for e in entries if e["kind"] == "challenge")
    contest = challenge["payload"]["ballot"]["contests"][0]
    contest["proofs"][0], contest["proofs"][1] = contest["proofs"][1], contest["proofs"][0]
    _write_log(record, entries)
    report = _verify(record)
    _assert_only(report, {"V8": "entry"})
    assert "range" in str(report.check("V8").failures)


def test_v9_an_altered_encrypted_tally(record: Path) -> None:
    def change(tally: dict) -> None:  # type: ignore[type-arg]
        first, second = tally["totals"][0]["ciphertexts"][:2]
        tally["totals"][0]["ciphertexts"][:2] = [second, first]

    _edit_json(record, layout.ENCRYPTED_TALLY, change)
    # The partials were made for the true tally, so their proofs fail on the altered one.
    _assert_only(_verify(record), {"V9": "a/"}, also={"V10", "V11"})


def test_v10_an_altered_partial_decryption(record: Path) -> None:
    name = layout.partial_file("t2")
    g = get_group("ristretto255").generator()
    _edit_json(record, name, lambda p: p["values"].__setitem__(0, bytes(g).hex()))
    _assert_only(_verify(record), {"V10": "t2"}, also={"V11"})


def test_v11_a_changed_count(record: Path) -> None:
    _edit_json(
        record, layout.RESULT, lambda r: r["totals"]["mayor"].update(m0=r["totals"]["mayor"]["m0"] + 1)
    )
    _assert_only(_verify(record), {"V11": "totals"})


def test_missing_files_are_errors_not_crashes(record: Path) -> None:
    (record / layout.ENCRYPTED_TALLY).unlink()
    report = _verify(record)
    assert report.check("V1").outcome is Outcome.FAIL
    assert report.check("V9").outcome is Outcome.ERROR
    assert report.check("V11").outcome is Outcome.SKIP
    assert "ERROR" in report.to_text()


def test_the_command_line(honest: Path, record: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(honest), "--quiet"]) == 0
    assert main(["verify", str(honest), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    _edit_json(record, layout.RESULT, lambda r: r["totals"]["mayor"].update(m1=0))
    assert main(["verify", str(record)]) == 1
    assert "V11  FAIL" in capsys.readouterr().out
    assert main(["verify", str(record.parent / "nowhere")]) == 3  # not a readable record
    assert main(["verify"]) == 2  # usage
    assert main(["verify", str(honest), "--expect-sha256", "00" * 32, "--quiet"]) == 1
    assert main(["find", str(honest), "00" * 32, "--quiet"]) == 1


def test_on_a_dask_cluster(honest: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    import dask  # noqa: PLC0415 - with distributed only

    # Dask's scratch space (the workers' and the nannies') in tmp_path, not left in the temporary folder.
    with dask.config.set({"temporary-directory": str(tmp_path)}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        with cluster, dask_executor(cluster.scheduler_address) as executor:
            report = verify_record(honest, executor=executor)
    assert report.ok, report.to_text()


def test_the_demo_record_verifies(tmp_path: Path) -> None:
    summary = run_demo(tmp_path / "demo", 12)
    assert summary.record is not None
    report = _verify(summary.record)
    assert report.ok, report.to_text()
    assert report.check("V12").items == 3 and report.check("V13").items == 4


def test_v12_a_mix_stage_that_replaced_a_ballot(record: Path) -> None:
    name = layout.mix_stage_file("vote", 1)

    def swap(stage: dict) -> None:  # type: ignore[type-arg]
        stage["rows"][0] = stage["rows"][1]  # one ballot duplicated, another dropped

    edit_json(record, name, swap, resign=MIX_KEYS[0])  # the first server signs its own stage
    # Stage 2's input changed too, and the published anonymous ballots were decrypted from the old output.
    _assert_only(_verify(record), {"V12": "vote stage 1"}, also={"V11", "V13"})


def test_v12_a_stage_with_an_element_outside_the_group_names_its_row(record: Path) -> None:
    """The second server signs its own stage with a non-member in row 3: decoding the rows as one
    list refuses it, and the row-by-row reading names the row."""
    name = layout.mix_stage_file("vote", 2)

    def poison(stage: dict) -> None:  # type: ignore[type-arg]
        cell = stage["rows"][3][0]
        stage["rows"][3][0] = cell[:64] + "ff" * 32  # b: not a canonical ristretto255 encoding

    edit_json(record, name, poison, resign=MIX_KEYS[1])
    report = _verify(record)
    assert not report.ok
    assert "rows[3]" in str(report.check("V12").failures), report.to_text()


@pytest.mark.parametrize(("part", "where"), [("commitment", slice(0, 64)), ("response", slice(128, 192))])
def test_v13_a_partial_proof_that_does_not_decode_is_named(record: Path, part: str, where: slice) -> None:
    """A partial whose proof 2 has a non-member commitment or an unreduced response: the file is
    refused, naming ``proofs[2]`` (the list is decoded together, then one by one to say which)."""
    name = layout.mix_partial_file("vote", "t2")

    def poison(partial: dict) -> None:  # type: ignore[type-arg]
        proof = partial["proofs"][2]
        partial["proofs"][2] = proof[: where.start] + "ff" * 32 + proof[where.stop :]

    _edit_json(record, name, poison)
    failures = _verify(record).check("V13").failures
    assert [item for item, _ in failures] == [name], failures
    assert "proofs[2]: DLEQ proof" in failures[0][1], (part, failures)


def test_v13_an_altered_mix_decryption(record: Path) -> None:
    g = get_group("ristretto255").generator()
    name = layout.mix_partial_file("vote", "t2")
    _edit_json(record, name, lambda p: p["values"].__setitem__(1, bytes(g).hex()))
    _assert_only(_verify(record), {"V13": "vote/t2"})


def test_v11_a_changed_anonymous_ballot(record: Path) -> None:
    def flip(result: dict) -> None:  # type: ignore[type-arg]
        result["anonymous_ballots"]["vote"][0] = result["anonymous_ballots"]["vote"][0][::-1]

    _edit_json(record, layout.RESULT, flip)
    _assert_only(_verify(record), {"V11": "anonymous_ballots"})


def test_every_phase_runs_on_the_executor_it_is_given(honest: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given an executor, no check falls back to the default pool (``--workers 1``, a Dask cluster)."""

    def no_default_pool() -> None:
        raise AssertionError("a check asked for the default process pool")

    monkeypatch.setattr(parallel, "MIN_PARALLEL_ITEMS", 0)  # even the smallest map would use it
    monkeypatch.setattr(parallel, "default_executor", no_default_pool)
    report = _verify(honest)
    assert report.ok, report.to_text()
    assert {"V10", "V11", "V12", "V13"} <= report.checks_run


def test_a_pool_finds_exactly_what_one_core_finds(record: Path) -> None:
    """With workers the log is scanned ahead, beside the other checks: the report must not change."""
    entries = _log(record)
    contest = entries[0]["payload"]["ballot"]["contests"][0]
    proof = contest["proofs"][1]
    contest["proofs"][1] = proof[:-2] + ("00" if proof[-2:] != "00" else "01")
    entries[2]["signature"] = SigningKey.generate().sign(bytes.fromhex(entries[2]["hash"])).signature.hex()
    _write_log(record, entries, resign=False)
    serial = _verify(record)
    _assert_only(serial, {"V5": "entry 3", "V6": "entry 1"})
    with process_pool(2) as pool:
        pooled = verify_record(record, executor=pool)
    assert pooled.to_json() == serial.to_json()


def test_a_pool_reads_the_mix_net_files_ahead_and_finds_what_one_core_finds(record: Path) -> None:
    def swap(stage: dict) -> None:  # type: ignore[type-arg]
        stage["rows"][0] = stage["rows"][1]

    edit_json(record, layout.mix_stage_file("vote", 1), swap, resign=MIX_KEYS[0])
    (record / layout.mix_partial_file("vote", "t2")).unlink()
    reindex(record)
    serial = _verify(record)
    assert not serial.ok and serial.check("V12").failures
    with process_pool(2) as pool:
        pooled = verify_record(record, executor=pool)
    assert pooled.to_json() == serial.to_json()
    assert not prepared_generators  # the first stage's, derived ahead, are not kept after the run


def test_a_pool_checks_later_stages_and_partials_during_the_scan_and_reports_as_one_core(
    record: Path,
) -> None:
    """Stage 2 and the partials' proofs are checked while the log is scanned: same report, same order."""

    def swap(stage: dict) -> None:  # type: ignore[type-arg]
        stage["rows"][0], stage["rows"][1] = stage["rows"][1], stage["rows"][0]

    edit_json(record, layout.mix_stage_file("vote", 2), swap, resign=MIX_KEYS[1])
    serial = _verify(record)
    assert "vote stage 2" in str(serial.check("V12").failures)
    with process_pool(2) as pool:
        pooled = verify_record(record, executor=pool)
    assert pooled.to_json() == serial.to_json()


def test_a_pool_checks_a_false_partial_during_the_scan_and_names_its_trustee(record: Path) -> None:
    """Trustee t3 publishes a wrong share for one ciphertext and signs it: only its proofs can tell."""
    group = get_group("ristretto255")
    share = _ceremony(group)[1]["t3"]
    name = layout.mix_partial_file("vote", "t3")
    honest = PartialDecryption.from_json(share.config, json.loads((record / name).read_bytes()))
    values = (honest.values[0] * group.generator(), *honest.values[1:])
    forged = dataclasses.replace(honest, values=values, signature=b"")
    signed = sign_message(share.config, share.signing_key, forged)
    _t3_partial_refused_alike(record, signed.to_json(share.config), "proof fails for 1 of")


def _t3_partial_refused_alike(record: Path, partial: object, why: str) -> None:
    """Write t3's partial, then: one core refuses it (``why``) and nothing else; a pool reports the same."""
    (record / layout.mix_partial_file("vote", "t3")).write_bytes(canonical_json(partial))  # type: ignore[arg-type]
    reindex(record)
    serial = _verify(record)
    assert why in str(serial.check("V13").failures)
    _assert_only(serial, {"V13": "vote/t3"})
    with process_pool(2) as pool:
        pooled = verify_record(record, executor=pool)
    assert pooled.to_json() == serial.to_json()


def test_a_pool_checks_a_partial_signature_during_the_scan_and_names_its_trustee(record: Path) -> None:
    """Trustee t2 signs t3's honest partial as if it were its own key's: the worker's signature check
    fails, the parent refuses the partial in add's words, and the report is one core's."""
    group = get_group("ristretto255")
    shares = _ceremony(group)[1]
    name = layout.mix_partial_file("vote", "t3")
    honest = PartialDecryption.from_json(shares["t3"].config, json.loads((record / name).read_bytes()))
    wrong_key = shares["t2"].signing_key.sign(b"not the partial").signature
    forged = dataclasses.replace(honest, signature=wrong_key).to_json(shares["t3"].config)
    _t3_partial_refused_alike(record, forged, "signature does not verify")


def test_a_pool_keeps_nothing_it_derived_ahead_for_a_check_that_never_ran(record: Path) -> None:
    """Stage 2's file is gone: V12 fails on the cascade's length before stage 1 is checked, and
    the generators derived ahead for stage 1 are dropped with the run, not kept in the process."""
    (record / layout.mix_stage_file("vote", 2)).unlink()
    reindex(record)
    with process_pool(2) as pool:
        pooled = verify_record(record, executor=pool)
    assert pooled.check("V12").failures
    assert pooled.to_json() == _verify(record).to_json()
    assert not prepared_generators
