"""``degcore verify`` on a torn record (issue 27): exit 3 naming the file (and line), never a traceback.

A record copied while its writer was being killed: each file in turn cut at a random byte (in the
middle of a line), cut at a line boundary, or missing; and a real writer (the record writer
building a small election, slowed so that the kill lands mid-write) SIGKILLed, then its partial
folder verified. Exit status 3 is docs/verifier.md's "not a readable degcore record".
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from degcore.cli import main
from degcore.parallel import mp_context
from degcore.record import layout
from tests.record_fixtures import build_record

#: Seconds the killed writer may take to produce its first files.
BOUND = 120


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_record(tmp_path_factory.mktemp("torn")).root
    assert _verify(root) == (0, "")
    return root


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _verify(root: Path) -> tuple[int, str]:
    """``degcore verify ROOT`` in-process through the CLI's main: (exit status, standard error)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(["verify", str(root), "--workers", "1"])
    return status, err.getvalue()


def _torn_copies(record: Path, work: Path) -> list[tuple[str, str, Path, str]]:
    """(file, how, copy, what the message must say): every file cut mid-line, at a line end, missing."""
    rng = random.Random(27)
    out = []
    for name in _files(record):
        data = (record / name).read_bytes()
        stream = name.endswith(".jsonl")
        cuts: list[tuple[str, bytes | None, str]] = [("missing", None, name)]
        if data:
            # A random byte strictly inside a line (never just after a newline): the line is cut.
            inside = [i for i in range(1, len(data)) if data[i - 1] != 0x0A]
            at = rng.choice(inside)
            line = data[:at].count(b"\n") + 1
            cuts.append(("mid-line", data[:at], f"{name} line {line}" if stream else name))
        if data.count(b"\n") >= 1:
            boundary = data[:-1].rfind(b"\n") + 1  # drop the last line whole
            kept = data[:boundary].count(b"\n")
            cuts.append(("line boundary", data[:boundary], f"{name} is cut short after line {kept}"))
        for how, cut, said in cuts:
            copy = work / f"{len(out)}"
            shutil.copytree(record, copy)
            if cut is None:
                (copy / name).unlink()
            else:
                (copy / name).write_bytes(cut)
            out.append((name, how, copy, said))
    return out


def test_every_file_cut_or_missing_exits_3_naming_it(record: Path, tmp_path: Path) -> None:
    copies = _torn_copies(record, tmp_path)
    assert {how for _, how, _, _ in copies} == {"missing", "mid-line", "line boundary"}
    assert len({name for name, _, _, _ in copies}) == len(_files(record)) > 20
    for name, how, copy, said in copies:
        status, err = _verify(copy)
        assert status == 3, (name, how, status, err)
        assert said in err, (name, how, err)
        assert "Traceback" not in err, err


def test_as_a_subprocess_a_torn_log_exits_3_naming_file_and_line(record: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(record, copy)
    log = copy / layout.LOG
    data = log.read_bytes()
    third = data.index(b"\n", data.index(b"\n") + 1) + 1  # the third line starts here
    log.write_bytes(data[: third + 40])  # 40 bytes into line 3
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "degcore", "verify", str(copy), "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )
    assert done.returncode == 3, (done.returncode, done.stderr)
    assert f"{layout.LOG} line 3 is cut short" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "degcore", "verify", str(copy), "--json"],
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )
    assert done.returncode == 3 and layout.LOG in done.stdout and "Traceback" not in done.stderr


# --- a real writer, killed mid-write ------------------------------------------------------------------
def _write_slowly(root: str) -> None:
    """Child: build the record with the real writer, each file it writes followed by a pause."""
    from degcore.record import writer  # noqa: PLC0415 - in the child only

    real = writer.RecordWriter._path

    def slow(self: writer.RecordWriter, name: str) -> Path:
        time.sleep(0.2)  # between files: the parent's SIGKILL lands while the record is half-written
        return real(self, name)

    writer.RecordWriter._path = slow  # type: ignore[method-assign]
    build_record(Path(root))


def test_a_writer_killed_mid_write_leaves_a_folder_that_exits_3_naming_a_file(tmp_path: Path) -> None:
    child = mp_context().Process(target=_write_slowly, args=(str(tmp_path),))
    child.start()
    record = tmp_path / "record"
    try:
        deadline = time.monotonic() + BOUND
        while not (record.is_dir() and len(_files(record)) >= 4):
            assert child.is_alive() and time.monotonic() < deadline, "the writer never wrote its first files"
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        child.join(BOUND)
        assert child.exitcode == -signal.SIGKILL
    finally:
        if child.is_alive():  # pragma: no cover - a failed assertion above: no orphan
            child.kill()
            child.join()
    written = _files(record)
    assert layout.INDEX not in written, "the writer finished before the kill: nothing was torn"
    status, err = _verify(record)
    assert status == 3, (status, err)
    assert layout.INDEX in err and "Traceback" not in err, err
    assert len(written) >= 4
