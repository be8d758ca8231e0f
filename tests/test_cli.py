"""The `degcore demo` command runs a whole election and reports what it checked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from degcore.chain import sign_object
from degcore.cli import main
from degcore.encoding import canonical_json


def test_demo_runs_a_complete_election(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "election"
    assert main(["demo", "--voters", "40", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "result equals the plaintext count" in text
    assert (
        "second ballot of a credential" in text
        and "tampered proof" in text
        and "outside the voting window" in text
    )
    assert {p.name for p in out.glob("*.sqlite")} == {"registry.sqlite", "issuer.sqlite", "box.sqlite"}
    # The voters' receipts it keeps are the ones the printed commands check (README's walk).
    kept = sorted((out / "receipts").glob("*.json"))
    assert len(kept) == 5
    record = str(out / "record")
    assert any(f"degcore verify {record} --receipt {k}" in text for k in kept)
    for receipt in kept:
        assert main(["verify", record, "--receipt", str(receipt), "--quiet"]) == 0
        assert main(["find", record, receipt.stem, "--quiet"]) == 0
    # Beside them, the same voters' signed enrollment receipts, and the command that checks one.
    enrolled = sorted((out / "receipts" / "enrollment").glob("*.json"))
    assert [p.name for p in enrolled] == [p.name for p in kept]
    assert any(f"degcore find-voter {record} {e}" in text for e in enrolled)
    for receipt in enrolled:
        assert main(["find-voter", record, str(receipt), "--quiet"]) == 0
    foreign = json.loads(enrolled[0].read_bytes())
    foreign["voter_key"] = bytes(SigningKey.generate().verify_key).hex()
    foreign.pop("signature")
    forged = tmp_path / "forged.json"
    forged.write_bytes(canonical_json(sign_object(SigningKey.generate(), foreign)))  # another registry's
    assert main(["find-voter", record, str(forged), "--quiet"]) == 3
    tampered = tmp_path / "tampered.json"
    mine = json.loads(enrolled[0].read_bytes())
    other_style = {"style-1": "style-2", "style-2": "style-1"}[mine["ballot_style"]]
    tampered.write_bytes(canonical_json({**mine, "ballot_style": other_style}))
    assert main(["find-voter", record, str(tampered), "--quiet"]) == 3


def test_demo_is_quiet_when_asked(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["demo", "--voters", "5", "--out", str(tmp_path / "q"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_demo_refuses_bad_arguments(tmp_path: Path) -> None:
    assert main(["demo", "--voters", "0"]) == 2  # usage errors exit 2, without a traceback
    assert main(["demo", "--voters", "many"]) == 2
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    assert main(["demo", "--out", str(tmp_path / "busy")]) == 2


def test_demo_refuses_an_out_that_is_a_file_or_cannot_be_made(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("x")
    assert main(["demo", "--voters", "5", "--out", str(tmp_path / "a-file")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["demo", "--voters", "5", "--out", str(tmp_path / "a-file" / "below")]) == 2
    err = capsys.readouterr().err
    assert "cannot be written" in err and "Traceback" not in err


def test_no_progress_frames_when_standard_error_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["demo", "--voters", "5", "--out", str(tmp_path / "e")]) == 0
    assert "\r" not in capsys.readouterr().err


def test_verify_refuses_an_output_it_cannot_write_before_verifying(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["verify", str(tmp_path), "--output", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["result", str(tmp_path), "--output", str(tmp_path / "no" / "such.txt")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_the_library_logs_nothing_to_stderr_unless_the_application_configures_logging(
    tmp_path: Path,
) -> None:
    """Run as its own process (pytest's log capture would hide Python's last-resort handler)."""
    run = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "degcore", "demo", "--voters", "5", "--out", str(tmp_path / "d"), "--quiet"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0 and run.stderr == "" and run.stdout == ""


def test_a_demo_and_a_verification_on_two_workers_leave_nothing_in_the_temporary_folder(
    tmp_path: Path,
) -> None:
    """Issue 27: rbcl's libsodium copy, pool sockets and the demo's own output all stay out of TMPDIR."""
    # Short: the pool's fork-server socket lives in it, and AF_UNIX paths are at most 107 bytes.
    temporary, work = Path(tempfile.mkdtemp(prefix="t")), tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "TMPDIR": str(temporary)}
    for args in (
        ["demo", "--voters", "5", "--quiet"],
        ["verify", "degcore-demo/record", "--workers", "2", "--quiet"],
    ):
        run = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "degcore", *args], cwd=work, env=env, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
    assert (work / "degcore-demo" / "record").is_dir()  # without --out the demo writes ./degcore-demo
    left = sorted(p.name for p in temporary.iterdir())
    shutil.rmtree(temporary)
    assert left == []


def test_the_command_line_starts_without_what_verify_does_not_use() -> None:
    """`degcore verify` pays for its own imports only: no tqdm (a quiet or piped run draws no bar), no
    gmpy2 (the blind signer's arithmetic), no observer, feed server or site builder, no demo."""
    code = (
        "import sys, degcore.cli; "
        "print(','.join(sorted(m for m in ('tqdm', 'gmpy2', 'degcore.observe.follow', 'degcore.board.feed', "
        "'degcore.site', 'degcore.demo', 'degcore.groups.modp') if m in sys.modules)))"
    )
    loaded = subprocess.run(  # noqa: S603 - our interpreter and our code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == ""


def _on_a_terminal(args: list[str]) -> tuple[int, bytes]:
    """``degcore ARGS`` with standard error on a 120-column pseudo-terminal: (status, what it drew)."""
    import fcntl  # noqa: PLC0415 - POSIX only, like the terminal itself
    import pty  # noqa: PLC0415
    import select  # noqa: PLC0415
    import struct  # noqa: PLC0415
    import termios  # noqa: PLC0415

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "degcore", *args], stdout=subprocess.DEVNULL, stderr=slave
    )
    os.close(slave)
    drawn = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                drawn += chunk
            elif child.poll() is not None:
                break
    finally:
        os.close(master)
        status = child.wait()
    return status, drawn


def test_progress_bars_are_drawn_on_a_terminal_and_not_with_quiet(tmp_path: Path) -> None:
    """What a person at a terminal sees: the demo's and the verifier's bars; --quiet draws none."""
    status, drawn = _on_a_terminal(["demo", "--voters", "5", "--out", str(tmp_path / "e")])
    assert status == 0 and b"applications:" in drawn and b"%|" in drawn
    record = str(tmp_path / "e" / "record")
    status, drawn = _on_a_terminal(["verify", record, "--workers", "1"])
    assert status == 0 and b"log entries" in drawn
    status, drawn = _on_a_terminal(["verify", record, "--workers", "1", "--quiet"])
    assert status == 0 and b"\r" not in drawn
