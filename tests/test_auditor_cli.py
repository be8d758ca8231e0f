"""The auditor's commands: `degcore result` shows only a verified result; `verify --checks` runs a subset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from degcore.cli import main
from degcore.parallel import SERIAL
from degcore.record import layout
from degcore.verify import CATALOGUE, Outcome, verify_record
from degcore.verify.report import with_dependencies
from tests.record_fixtures import build_record, edit_json


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_record(tmp_path_factory.mktemp("election")).root


@pytest.fixture
def changed_count(honest: Path, tmp_path: Path) -> Path:
    """The published result claims one more vote for m0 than the partials decrypt to."""
    copy = tmp_path / "record"
    shutil.copytree(honest, copy)
    edit_json(copy, layout.RESULT, lambda r: r["totals"]["mayor"].update(m0=r["totals"]["mayor"]["m0"] + 1))
    return copy


def test_result_prints_the_verified_counts(honest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["result", str(honest)]) == 0
    text = capsys.readouterr().out
    assert "verified result:" in text and "Мэр" in text and "Кандидат 0" in text
    assert main(["result", str(honest), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    published = json.loads((honest / layout.RESULT).read_bytes())
    assert obj["verified"] is True and obj["result"] == published and obj["failing_checks"] == []
    assert obj["record_sha256"] and obj["election_id"] == "e2026"


def test_result_of_a_record_that_does_not_verify_is_withheld(
    changed_count: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["result", str(changed_count)]) == 1
    text = capsys.readouterr().out
    assert "DOES NOT VERIFY: V11" in text and "Кандидат" not in text
    assert main(["result", str(changed_count), "--json"]) == 1
    obj = json.loads(capsys.readouterr().out)
    assert obj["verified"] is False and "result" not in obj and obj["failing_checks"] == ["V11"]
    # Asked for, it is shown, marked, and the exit status still says it does not verify.
    out = tmp_path / "result.txt"
    assert main(["result", str(changed_count), "--unverified", "--output", str(out)]) == 1
    assert "UNVERIFIED RESULT, AS PUBLISHED" in out.read_text() and "Кандидат 0" in out.read_text()
    assert main(["result", str(changed_count.parent / "nowhere")]) == 3


def test_dependencies_of_a_check_are_run_with_it() -> None:
    assert with_dependencies(["V1"]) == {"V1", "V2"}
    assert with_dependencies(["v5"]) == {"V2", "V14", "V4", "V5"}
    assert {"V3", "V5", "V7", "V9", "V12"} <= with_dependencies(["V11"])
    assert with_dependencies(CATALOGUE) == set(CATALOGUE)


def test_checks_runs_a_subset_and_reports_the_others_skipped(changed_count: Path) -> None:
    report = verify_record(changed_count, executor=SERIAL, checks=["V3", "V15"])
    assert report.ok  # V11 is the only failing check, and it was not asked for
    ran = {c for c in CATALOGUE if report.check(c).outcome is Outcome.PASS}
    assert ran == {"V2", "V3", "V14", "V15"}
    assert all(report.check(c).note == "not requested" for c in CATALOGUE if c not in ran)
    assert not verify_record(changed_count, executor=SERIAL, checks=["V11"]).ok


def test_checks_on_the_command_line(changed_count: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(changed_count), "--checks", "V1,V5"]) == 0
    text = capsys.readouterr().out
    assert "checks asked for, with what they depend on: V1, V2, V4, V5, V14" in text
    assert "V11  SKIP" in text
    assert main(["verify", str(changed_count), "--checks", "V11", "--json"]) == 1
    obj = json.loads(capsys.readouterr().out)
    failed = [c for c in obj["checks"] if c["outcome"] == "fail"]
    assert [c["id"] for c in failed] == ["V11"]
    # V11 names the contest and option, with the published and the decrypted values.
    assert "mayor" in json.dumps(failed[0]["failed_items"], ensure_ascii=False)
    assert main(["verify", str(changed_count), "--checks", "V99", "--quiet"]) == 2
