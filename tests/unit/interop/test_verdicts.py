"""The verdict on a run laid out as vmn lays it out, and on the cases where vmnv's own rules decide it.

vmn 3.0.4's source (docs/verificatum.md §1, "Versions"): a ``mixing`` run has no
``ShuffledCiphertexts.bt`` (``MixNetElGamalSession.decrypt`` renames it to
``proofs/Ciphertexts<λ>.bt``); an inactive mix server leaves no proof files; the combined proof of
decryption is over the first λ parties ``CorrectIndices.bt`` marks, which is not hashed. The runs
are self-generated (degcore.interop.verificatum.export) in that layout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from degcore.interop.verificatum.bytetree import Leaf, parse
from degcore.interop.verificatum.cli import main
from degcore.interop.verificatum.export import P256_PGROUP, write_run
from degcore.interop.verificatum.verifier import verify_run
from degcore.parallel import SERIAL


def _write(root: Path, **options: object) -> tuple[Path, Path]:
    options = {"n": 4, "kind": "mixing", "executor": SERIAL} | options
    protinfo, proof_dir, _ = write_run(root, P256_PGROUP, **options)  # type: ignore[arg-type]
    return protinfo, proof_dir


def _outcomes(run: tuple[Path, Path]) -> dict[str, str]:
    return {c.id: c.outcome for c in verify_run(*run).checks}


def _flags(run: tuple[Path, Path], flags: bytes) -> None:
    (run[1] / "proofs" / "CorrectIndices.bt").write_bytes(Leaf(flags).to_bytes())


def test_a_mixing_run_in_vmns_layout_verifies(tmp_path: Path) -> None:
    run = _write(tmp_path, servers=2)
    assert not (run[1] / "ShuffledCiphertexts.bt").exists()
    assert (run[1] / "proofs" / "Ciphertexts02.bt").exists()
    report = verify_run(*run, expected_type="mixing")
    assert report.ok, report.to_text()


def test_an_inactive_server_is_skipped_and_left_out_of_the_decryption(tmp_path: Path) -> None:
    # vmn with parties {1, 3} active of 3, λ = 2: the active threshold is 3, server 2 has no proof
    # files, CorrectIndices.bt is 01 01 00 01, and the final list is also renamed onto Ciphertexts02.bt.
    run = _write(tmp_path, servers=3, threshold=2, idle=(2,), absent=(2,))
    assert parse((run[1] / "proofs" / "CorrectIndices.bt").read_bytes()) == Leaf(b"\x01\x01\x00\x01")
    assert (run[1] / "proofs" / "Ciphertexts02.bt").read_bytes() == (
        run[1] / "proofs" / "Ciphertexts03.bt"
    ).read_bytes()
    report = verify_run(*run)
    assert report.ok, report.to_text()
    assert next(c for c in report.checks if c.id == "pos-02").title == "mix server 2 took no part"


def test_a_deleted_shuffle_proof_fails_the_run(tmp_path: Path) -> None:
    run = _write(tmp_path, servers=2)
    (run[1] / "proofs" / "PoSCommitment02.bt").unlink()  # vmnv skips the server, then the decryption fails
    outcomes = _outcomes(run)
    assert outcomes["threshold"] == "fail" and outcomes["decryption"] == "fail"


@pytest.mark.parametrize("damage", ["missing", "malformed"])
def test_an_unreadable_intermediate_list_is_a_failed_proof_not_unreadable_input(
    tmp_path: Path, damage: str
) -> None:
    run = _write(tmp_path, servers=2)
    path = run[1] / "proofs" / "Ciphertexts01.bt"
    if damage == "missing":
        path.unlink()
    else:
        path.write_bytes(path.read_bytes()[:-3])
    report = verify_run(*run)
    assert [(c.id, c.outcome) for c in report.checks] == [("pos-01", "fail")]  # vmnv stops here too
    assert "Ciphertexts01.bt" in report.checks[0].detail
    assert main(["vmnv", str(run[0]), str(run[1]), "--quiet"]) == 1


def test_unmarking_a_valid_party_changes_nothing(tmp_path: Path) -> None:
    # The flags are not hashed and any λ valid parties interpolate the same key: vmnv verifies too.
    run = _write(tmp_path, servers=3, threshold=2)
    for flags in (b"\x01\x00\x01\x01", b"\x01\x01\x01\x00", b"\x00\x01\x01\x01"):
        _flags(run, flags)
        assert verify_run(*run).ok, flags


def test_marking_an_absent_party_into_the_combination_fails(tmp_path: Path) -> None:
    run = _write(tmp_path, servers=3, threshold=2, absent=(1,))
    assert verify_run(*run).ok
    _flags(run, b"\x01\x01\x01\x01")  # party 1's all-identity factors and zero reply are now combined
    assert _outcomes(run)["decryption"] == "fail"


def test_a_wrong_party_beyond_the_first_lambda_marked_is_not_combined(tmp_path: Path) -> None:
    # Only a dishonest record marks a party whose factors are wrong (vmn's prover unmarks it after its
    # own proof fails); outside the first λ marked it is never combined, by vmnv nor here.
    run = _write(tmp_path, servers=3, threshold=2, faulty=(3,))
    assert verify_run(*run).ok


def test_a_wrong_party_among_the_first_lambda_marked_is_named(tmp_path: Path) -> None:
    run = _write(tmp_path, servers=3, threshold=2, faulty=(2,))
    report = verify_run(*run)
    check = next(c for c in report.checks if c.id == "decryption")
    assert check.outcome == "fail" and check.equation == "decryption-key"
    assert "party 2:" in check.detail and "party 1:" not in check.detail
    _flags(run, b"\x01\x01\x00\x01")  # what vmn's prover would have recorded: S = {1, 3}
    assert verify_run(*run).ok


def test_the_expected_type_is_enforced(tmp_path: Path) -> None:
    run = _write(tmp_path)
    assert main(["vmnv", str(run[0]), str(run[1]), "--quiet", "--type", "mixing"]) == 0
    assert main(["vmnv", str(run[0]), str(run[1]), "--quiet", "--type", "shuffling"]) == 3
