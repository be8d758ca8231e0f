"""``degcore find-voter``: the voter's check of her enrollment and issuance, with its exit statuses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from degcore.cli import main
from degcore.encoding import canonical_json
from degcore.errors import VerificationFailed
from degcore.verify.voter import VoterStatus, find_voter
from tests.record_fixtures import Built, build_record, enrollment_receipt, voter_ref

EXIT_ISSUED, EXIT_EVIDENCE, EXIT_UNREADABLE, EXIT_NOT_ISSUED = 0, 1, 3, 6


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_record(tmp_path_factory.mktemp("honest"))


def _run(
    record: Path, receipt: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict]:  # type: ignore[type-arg]
    path = tmp_path / "enrollment.json"
    path.write_bytes(receipt if isinstance(receipt, bytes) else canonical_json(receipt))  # type: ignore[arg-type]
    capsys.readouterr()
    status = main(["find-voter", str(record), str(path), "--json"])
    captured = capsys.readouterr()
    return status, (json.loads(captured.out) if captured.out.strip() else {"stderr": captured.err})


def test_an_issued_voter_finds_her_signed_request(
    honest: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, answer = _run(honest.root, enrollment_receipt("voter-a-0", "a").to_json(), tmp_path, capsys)
    assert status == EXIT_ISSUED
    assert answer["status"] == str(VoterStatus.ISSUED) and answer["positions"] == [1]
    assert answer["voter_ref"] == voter_ref("voter-a-0") and answer["evidence"] is False
    main(["find-voter", str(honest.root), str(tmp_path / "enrollment.json")])
    assert "issued under your signature" in capsys.readouterr().out


def test_an_enrolled_voter_who_never_asked(
    honest: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, answer = _run(honest.root, enrollment_receipt("voter-a-5", "a").to_json(), tmp_path, capsys)
    assert status == EXIT_NOT_ISSUED and answer["status"] == str(VoterStatus.NOT_ISSUED)


def test_the_registry_listed_another_key_for_her(
    honest: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Her signed receipt names her device key; the signed list the registry published names another."""
    receipt = enrollment_receipt("voter-a-1", "a", key=SigningKey(bytes(range(5, 37))))
    status, answer = _run(honest.root, receipt.to_json(), tmp_path, capsys)
    assert status == EXIT_EVIDENCE and answer["status"] == str(VoterStatus.OTHER_KEY) and answer["evidence"]
    main(["find-voter", str(honest.root), str(tmp_path / "enrollment.json")])
    assert "keep your enrollment receipt" in capsys.readouterr().out


def test_the_registry_left_her_out(honest: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, answer = _run(honest.root, enrollment_receipt("voter-c-0", "a").to_json(), tmp_path, capsys)
    assert status == EXIT_EVIDENCE and answer["status"] == str(VoterStatus.MISSING)


def test_the_issuer_asked_in_her_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    built = build_record(tmp_path, minted=(("a", "voter-a-5"),))
    status, answer = _run(built.root, enrollment_receipt("voter-a-5", "a").to_json(), tmp_path, capsys)
    assert status == EXIT_EVIDENCE and answer["status"] == str(VoterStatus.NOT_YOURS)
    assert answer["positions"] == [9]


@pytest.mark.parametrize(
    "receipt",
    [
        b"not json",
        b"{}",
        enrollment_receipt(
            "voter-a-0", "a", signer=SigningKey(bytes(range(3, 35)))
        ).to_json(),  # not the registry's
        {**enrollment_receipt("voter-a-0", "a").to_json(), "election_id": "other"},
    ],
)
def test_an_unusable_receipt_exits_3(
    honest: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str], receipt: object
) -> None:
    status, answer = _run(honest.root, receipt, tmp_path, capsys)
    assert status == EXIT_UNREADABLE
    assert answer["stderr"].startswith("degcore find-voter: ")


def test_a_record_whose_list_was_rewritten_is_not_evidence(
    honest: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = tmp_path / "record"
    shutil.copytree(honest.root, record)
    enrollment = record / "eligibility" / "enrollment.jsonl"
    enrollment.write_bytes(enrollment.read_bytes().splitlines(keepends=True)[1] * 2)
    status, _ = _run(record, enrollment_receipt("voter-a-0", "a").to_json(), tmp_path, capsys)
    assert status == EXIT_UNREADABLE
    with pytest.raises(VerificationFailed, match="not the list the registry signed"):
        find_voter(record, enrollment_receipt("voter-a-0", "a").to_json())
    assert main(["find-voter", str(record), str(tmp_path / "missing.json")]) == EXIT_UNREADABLE
