"""The verifier: an honest record passes every check; each tampering is caught by its check, on its item.

The record is written by a test election whose box key the tests hold, so a tampering can be
re-chained and re-signed like a dishonest box would: then only the check that must catch it fails.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.signing import SigningKey

from degcore.ballot import PlaintextBallot, encrypt_ballot, open_ballot
from degcore.board import BallotBox
from degcore.board.log import GENESIS, entry_hash
from degcore.cli import main
from degcore.demo import run_demo
from degcore.elgamal import threshold
from degcore.encoding import canonical_json
from degcore.groups import get_group
from degcore.issuance import public_key_pem
from degcore.parallel import SERIAL
from degcore.record import layout, write_record
from degcore.tally import aggregate, decrypt_tally
from degcore.verify import CATALOGUE, Outcome, Report, verify_record
from tests.election_fixtures import DURING, ENDS, TRUSTEES, election

BOX_KEY = SigningKey(bytes(range(100, 132)))


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    e = election(get_group("ristretto255"))
    root = tmp_path_factory.mktemp("election")
    box = BallotBox(root / "box.sqlite", e.context, e.public_keys, BOX_KEY)
    for i in range(4):
        box.cast(e.cast(e.credential("a"), {"mayor": {f"m{i % 3}": 1}, "council": {"c1": 2}}), now=DURING)
        box.cast(e.cast(e.credential("b"), {"mayor": {f"m{(i + 1) % 3}": 1}}), now=DURING)
    wallet = e.credential("b")
    spoiled, nonces = encrypt_ballot(
        e.context, PlaintextBallot("b", {"mayor": {"m2": 1}}), wallet.credential.public_key
    )
    box.challenge(open_ballot(e.context, spoiled, nonces), now=DURING)
    box.close(now=ENDS)
    tally = aggregate(e.context, (c.ballot for c in box.counted()))
    partials = [
        threshold.partial_decrypt(e.shares[t], tally.ciphertexts(), e.context.base_hash) for t in TRUSTEES[:4]
    ]
    result = decrypt_tally(e.context, tally, partials[:3])
    return write_record(
        root / "record", context=e.context, issuer_keys=e.public_keys, box=box, tally=tally,
        partials=partials, result=result,
    )  # fmt: skip


@pytest.fixture
def record(honest: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "record"
    shutil.copytree(honest, copy)
    return copy


def _verify(root: Path) -> Report:
    return verify_record(root, executor=SERIAL)


def _outcomes(report: Report) -> dict[str, Outcome]:
    return {c: report.check(c).outcome for c in CATALOGUE}


def _assert_only(report: Report, failing: dict[str, str], also: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """``failing``: check → a substring of one failing item; ``also``: checks allowed to fail besides."""
    for check_id, item in failing.items():
        result = report.check(check_id)
        assert result.outcome is Outcome.FAIL, (check_id, report.to_text())
        assert any(item in i for i, _ in result.failures), (check_id, result.failures)
    for check_id in CATALOGUE:
        if check_id not in failing and check_id not in also:
            assert report.check(check_id).outcome is Outcome.PASS, (check_id, report.to_text())
    assert not report.ok


def _rehash(root: Path) -> None:
    index = json.loads((root / layout.INDEX).read_bytes())
    for name in index["files"]:
        index["files"][name] = hashlib.sha256((root / name).read_bytes()).hexdigest()
    index["lines"][layout.LOG] = sum(1 for _ in (root / layout.LOG).open("rb"))
    (root / layout.INDEX).write_bytes(canonical_json(index))


def _log(root: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in (root / layout.LOG).read_bytes().splitlines()]


def _write_log(root: Path, entries: list[dict], *, resign: bool = True) -> None:  # type: ignore[type-arg]
    """Write the log back; with ``resign`` re-number, re-chain and re-sign it as the box would."""
    prev = GENESIS
    for position, entry in enumerate(entries, start=1):
        if resign:
            entry["position"], entry["prev"] = position, prev.hex()
            digest = entry_hash(prev, position, entry["kind"], canonical_json(entry["payload"]), entry["at"])
            entry["hash"], entry["signature"] = digest.hex(), BOX_KEY.sign(digest).signature.hex()
            prev = digest
    (root / layout.LOG).write_bytes(b"".join(canonical_json(e) + b"\n" for e in entries))
    _rehash(root)


def _edit_json(root: Path, name: str, change: Callable[[dict], None]) -> None:  # type: ignore[type-arg]
    obj = json.loads((root / name).read_bytes())
    change(obj)
    (root / name).write_bytes(canonical_json(obj))
    _rehash(root)


def test_an_honest_record_passes_every_check(honest: Path) -> None:
    report = _verify(honest)
    assert report.ok, report.to_text()
    assert report.check("V6").items == 8 and report.check("V8").items == 1
    assert json.loads(json.dumps(report.to_json()))["ok"] is True


def test_v1_a_file_changed_after_the_index_or_an_unlisted_file(record: Path) -> None:
    manifest = record / layout.MANIFEST
    manifest.write_text(json.dumps(json.loads(manifest.read_bytes()), indent=1))  # same content, other bytes
    (record / "extra.txt").write_text("not part of the record")
    _assert_only(_verify(record), {"V1": layout.MANIFEST})
    assert any("extra.txt" in item for item, _ in _verify(record).check("V1").failures)


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
    _rehash(record)
    _assert_only(_verify(record), {"V3": first["trustee"]})


def test_v3_a_swapped_joint_key(record: Path) -> None:
    g = get_group("ristretto255").generator()
    _edit_json(record, layout.DKG_RESULT, lambda r: r.update(joint_key=bytes(g).hex()))
    # The base hash covers the ceremony result, so every ballot proof fails too.
    _assert_only(_verify(record), {"V3": "joint key"}, also={"V5", "V6", "V8", "V10", "V11"})


def test_v4_a_weak_issuer_key(record: Path) -> None:
    weak_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - deliberately weak
    weak = public_key_pem(weak_key.public_key()).decode()
    _edit_json(record, layout.ISSUER_KEYS, lambda k: k["keys"].update(b=weak))
    _assert_only(_verify(record), {"V4": "b", "V6": "entry"})


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
    entries[4]["at"] = "2026-09-20T17:00:01Z"
    _write_log(record, entries)
    report = _verify(record)
    _assert_only(report, {"V6": "entry 5"})
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
    assert main(["verify", str(record.parent / "nowhere")]) == 2


def test_on_a_dask_cluster(honest: Path) -> None:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        report = verify_record(honest, executor=client.get_executor())
    assert report.ok, report.to_text()


@pytest.fixture(scope="module")
def demo_record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A record with a mix-net contest (the demo's referendum)."""
    summary = run_demo(tmp_path_factory.mktemp("demo"), 12)
    assert summary.record is not None
    return summary.record


def _copy(record: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(record, copy)
    return copy


def test_the_mixnet_record_verifies(demo_record: Path) -> None:
    report = _verify(demo_record)
    assert report.ok, report.to_text()
    assert report.check("V12").items == 3 and report.check("V13").items == 4


def test_v12_a_mix_stage_that_replaced_a_ballot(demo_record: Path, tmp_path: Path) -> None:
    record = _copy(demo_record, tmp_path)
    name = layout.mix_stage_file("referendum", 2)

    def swap(stage: dict) -> None:  # type: ignore[type-arg]
        stage["rows"][0] = stage["rows"][1]  # one ballot duplicated, another dropped

    _edit_json(record, name, swap)
    # Stage 3's input changed too, and the published anonymous ballots were decrypted from the old output.
    _assert_only(_verify(record), {"V12": "referendum stage 2"}, also={"V11", "V13"})


def test_v13_an_altered_mix_decryption(demo_record: Path, tmp_path: Path) -> None:
    record = _copy(demo_record, tmp_path)
    g = get_group("ristretto255").generator()
    name = layout.mix_partial_file("referendum", "trustee-2")
    _edit_json(record, name, lambda p: p["values"].__setitem__(1, bytes(g).hex()))
    _assert_only(_verify(record), {"V13": "referendum/trustee-2"})


def test_v11_a_changed_anonymous_ballot(demo_record: Path, tmp_path: Path) -> None:
    record = _copy(demo_record, tmp_path)

    def flip(result: dict) -> None:  # type: ignore[type-arg]
        result["anonymous_ballots"]["referendum"][0] = result["anonymous_ballots"]["referendum"][0][::-1]

    _edit_json(record, layout.RESULT, flip)
    _assert_only(_verify(record), {"V11": "anonymous_ballots"})
