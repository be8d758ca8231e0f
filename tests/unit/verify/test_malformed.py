"""No record breaks the verifier: malformed files end in a failed or errored check, never a traceback.

Each case damages a copy of an honest record the way a hostile or broken publisher could (and,
where it matters, has the authority re-sign the index of what it was given, so that the damage
reaches the check that parses the file), and asserts that ``verify_record`` returns a report that
does not verify, naming the file.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from degcore.encoding import canonical_json
from degcore.parallel import SERIAL
from degcore.record import Limits, layout, sign_record
from degcore.verify import Outcome, Report, verify_record
from tests.record_fixtures import AUTHORITY, build_record, reindex


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_record(tmp_path_factory.mktemp("honest")).root


@pytest.fixture
def record(honest: Path, tmp_path: Path) -> Path:
    shutil.copytree(honest, tmp_path / "record")
    return tmp_path / "record"


def _verify(root: Path, limits: Limits | None = None) -> Report:
    report = verify_record(root, executor=SERIAL, limits=limits)
    assert not report.ok, report.to_text()
    assert isinstance(report.to_json(), dict) and report.to_text()
    return report


def _named(report: Report, text: str) -> bool:
    return text in report.to_text()


def _replace_line(root: Path, name: str, index: int, data: bytes) -> None:
    lines = (root / name).read_bytes().splitlines(keepends=True)
    lines[index] = data
    (root / name).write_bytes(b"".join(lines))
    reindex(root)


_INTEGER = re.compile(rb"([:\[,])(\d+)([,}\]])")

BAD_VALUES: dict[str, Callable[[bytes], bytes]] = {
    "not JSON": lambda _: b"{not json",
    "deep nesting": lambda _: b"[" * 100_000 + b"]" * 100_000,
    "lone surrogate": lambda _: b'{"format":"degcore/4","type":"x","v":"\\ud800"}',
    "invalid UTF-8": lambda _: b'{"a":"\xff\xfe"}',
    "a float": lambda data: _INTEGER.sub(rb"\1\2.0\3", data, count=1),
    "a boolean for an integer": lambda data: _INTEGER.sub(rb"\1true\3", data, count=1),
    "pretty-printed": lambda data: json.dumps(json.loads(data), indent=2).encode(),
    "an empty file": lambda _: b"",
    "a list": lambda _: b"[]",
}


JSON_FILES = (
    layout.CONFIG,
    layout.SETUP,
    layout.RESULT,
    layout.ENCRYPTED_TALLY,
    layout.partial_file("t1"),
    layout.mix_stage_file("vote", 1),
    layout.REMOTE_LIST,
    layout.ANNOUNCEMENT,
    layout.MANIFEST,
)
#: Files without an integer cannot get a float or a boolean in place of one.
NO_INTEGER = {layout.partial_file("t1"), layout.ANNOUNCEMENT, layout.COMMITMENTS}
NUMERIC = {"a float", "a boolean for an integer"}


def _cases(names: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(n, d) for n in names for d in sorted(BAD_VALUES) if not (n in NO_INTEGER and d in NUMERIC)]


@pytest.mark.parametrize(("name", "damage"), _cases(JSON_FILES))
def test_a_damaged_json_file(record: Path, name: str, damage: str) -> None:
    path = record / name
    damaged = BAD_VALUES[damage](path.read_bytes())
    assert damaged != path.read_bytes()
    path.write_bytes(damaged)
    reindex(record)
    _verify(record)


@pytest.mark.parametrize(("name", "damage"), _cases((layout.LOG, layout.ISSUANCE_LOG, layout.COMMITMENTS)))
def test_a_damaged_line(record: Path, name: str, damage: str) -> None:
    first = (record / name).read_bytes().splitlines()[0]
    damaged = BAD_VALUES[damage](first)
    assert damaged != first
    _replace_line(record, name, 0, damaged + b"\n")
    _verify(record)


def test_random_byte_flips_never_crash(record: Path, tmp_path: Path) -> None:
    rng = random.Random(2026)
    names = [p.relative_to(record).as_posix() for p in record.rglob("*") if p.is_file() and p.stat().st_size]
    for round_ in range(25):
        copy = tmp_path / f"r{round_}"
        shutil.copytree(record, copy)
        target = copy / rng.choice(names)
        data = bytearray(target.read_bytes())
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        target.write_bytes(bytes(data))
        if rng.random() < 0.5 and target.name != layout.INDEX:
            reindex(copy)
        _verify(copy)


def test_a_symlink_to_dev_zero_is_not_followed(record: Path) -> None:
    target = record / layout.RESULT
    target.unlink()
    target.symlink_to("/dev/zero")
    report = _verify(record)
    assert _named(report, "symlink")


def test_a_fifo_named_like_a_json_file_does_not_hang(record: Path) -> None:
    target = record / layout.RESULT
    target.unlink()
    os.mkfifo(target)
    report = _verify(record)
    assert report.check("V1").outcome is Outcome.FAIL


def test_a_folder_named_like_a_file(record: Path) -> None:
    (record / layout.RESULT).unlink()
    (record / layout.RESULT).mkdir()
    _verify(record)


def test_index_entries_outside_the_record_are_not_opened(record: Path) -> None:
    index = json.loads((record / layout.INDEX).read_bytes())
    index["files"]["../../etc/passwd"] = "0" * 64
    index["files"]["/etc/hostname"] = "0" * 64
    (record / layout.INDEX).write_bytes(canonical_json(index))
    report = _verify(record)
    assert _named(report, "leaves the record")


def test_a_line_above_the_cap(record: Path) -> None:
    first = (record / layout.LOG).read_bytes().splitlines()[0]
    _replace_line(record, layout.LOG, 0, first + b" " * 5000 + b"\n")
    report = _verify(record, Limits(line_bytes=4096))
    assert _named(report, "cap")


def test_a_log_without_a_final_newline(record: Path) -> None:
    data = (record / layout.LOG).read_bytes()
    (record / layout.LOG).write_bytes(data.rstrip(b"\n"))
    reindex(record)
    _verify(record)


def test_the_parent_folder_gets_a_hint(record: Path) -> None:
    report = verify_record(record.parent, executor=SERIAL)
    assert not report.ok and "did you mean" in report.to_text()


@pytest.mark.parametrize("older", ["degcore/1", "degcore/2", "degcore/3"])
def test_an_older_record_is_refused_as_unsupported(record: Path, older: str) -> None:
    """An older record is never misread: every object says its format, and degcore/4 is the only one read."""
    for path in record.rglob("*.json"):
        path.write_bytes(path.read_bytes().replace(b'"format":"degcore/4"', f'"format":"{older}"'.encode()))
    report = verify_record(record, executor=SERIAL)
    assert not report.ok
    assert "UnsupportedFormat" in report.to_text()


def test_a_wrong_line_count_in_the_index(record: Path) -> None:
    index = json.loads((record / layout.INDEX).read_bytes())
    index["lines"][layout.LOG] += 1
    index.pop("signature")
    (record / layout.INDEX).write_bytes(canonical_json(index))
    sign_record(record, AUTHORITY)
    report = _verify(record)
    assert any(item == layout.LOG and "the index says" in why for item, why in report.check("V1").failures)


def test_an_unsigned_index_says_how_to_sign_it(record: Path) -> None:
    index = json.loads((record / layout.INDEX).read_bytes())
    index.pop("signature")
    (record / layout.INDEX).write_bytes(canonical_json(index))
    report = _verify(record)
    assert not report.ok and _named(report, "is not signed") and _named(report, "sign_record")
