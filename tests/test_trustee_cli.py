"""`degcore trustee …` end to end: five trustee processes over a shared folder, one absent at the tally.

Each trustee step runs as its own ``python -m degcore`` process, the five of a round at once, with
its passphrase in the environment of that process only. The test plays the authority between the
ceremony and the tally (manifest, signed setup, encrypted tally, mix stages, as integration.md's
services publish them) and checks the combined result against the plaintext count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from degcore.ballot import ElectionSetup
from degcore.ballot.setup import announcement
from degcore.board import BallotBox
from degcore.cli import main
from degcore.encoding import canonical_json
from degcore.groups import get_group
from degcore.record import layout, load_context
from degcore.record.writer import log_line
from degcore.tally import aggregate, mix_contests, mixnet_rows
from degcore.tools.trustee import PASSPHRASE_ENV
from degcore.trustees._sealed import MIN_SCRYPT_N
from degcore.trustees.dkg import CeremonyConfig, CeremonyResult
from tests.record_fixtures import (
    AUTHORITY,
    BOX_KEY,
    DURING,
    ENDS,
    MIX_KEYS,
    TRUSTEES,
    cast,
    credential,
    issuer_key,
    manifest,
    setup_for,
)

GROUP = "ristretto255"


def _run(board: Path, step: str, who: str | None = None, *extra: str) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "degcore", "trustee", step, str(board), *extra]
    env = dict(os.environ)
    if who is not None:
        home = board.parent / who
        home.mkdir(exist_ok=True)
        args += ["--scrypt-n", str(MIN_SCRYPT_N)]
        if step in {"commit", "deal", "receive", "answer", "finish"}:
            args += ["--state", str(home / "ceremony.sealed")]
        if step in {"finish", "decrypt"}:
            args += ["--share", str(home / "share.sealed")]
        if step in {"keygen", "commit"}:
            args += ["--id", who, "--key", str(home / "signing.sealed")]
        env[PASSPHRASE_ENV] = f"passphrase of {who}"
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        args, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _round(board: Path, step: str, trustees: tuple[str, ...], *extra: str) -> list[str]:
    """One step of every trustee at once; each must succeed."""
    running = [_run(board, step, who, *extra) for who in trustees]
    outputs = []
    for who, process in zip(trustees, running, strict=True):
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, f"{who} {step}: {err}"
        outputs.append(out)
    return outputs


def _check(board: Path, step: str, *extra: str) -> tuple[int, str, str]:
    process = _run(board, step, None, *extra)
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def _authority_publishes(board: Path) -> dict[str, dict[str, int]]:
    """The setup, a few ballots' encrypted tally and the mix-net's stages, in the record's layout."""
    group = get_group(GROUP)
    config = CeremonyConfig.from_json(_load(board / layout.CONFIG))
    ceremony = CeremonyResult.from_json(config, _load(board / layout.DKG_RESULT))
    m = manifest(GROUP)
    _, inputs = setup_for(group)
    setup = ElectionSetup.create(AUTHORITY, m, ceremony, **inputs)  # type: ignore[arg-type]
    (board / layout.MANIFEST).write_bytes(m.canonical())
    (board / layout.SETUP).parent.mkdir(parents=True, exist_ok=True)
    (board / layout.SETUP).write_bytes(canonical_json(setup.to_json()))
    (board / layout.ANNOUNCEMENT).write_bytes(canonical_json(announcement(AUTHORITY, m, config)))
    context = load_context(board)
    picks = [
        {"mayor": {"m0": 1}, "council": {"c1": 2}, "vote": {"yes": 1}},
        {"mayor": {"m2": 1}, "council": {"c0": 1, "c3": 2}, "vote": {"no": 1}},
        {"mayor": {"m0": 1}, "council": {}, "vote": {"yes": 1}},
    ]
    keys = {s: issuer_key(s).public_key() for s in ("a", "b")}
    with BallotBox(board.parent / "box.sqlite", context, keys, BOX_KEY) as box:
        for p in picks:
            box.cast(cast(context, credential("a"), p), now=DURING)
        box.close_voting(now=ENDS)
        (board / layout.LOG).parent.mkdir(parents=True, exist_ok=True)
        (board / layout.LOG).write_bytes(b"".join(canonical_json(log_line(e)) + b"\n" for e in box.log()))
        ballots = [c.ballot for c in box.counted()]
    (board / layout.ENCRYPTED_TALLY).parent.mkdir(parents=True, exist_ok=True)
    (board / layout.ENCRYPTED_TALLY).write_bytes(canonical_json(aggregate(context, ballots).to_json()))
    servers = {"vote": [(f"mix-{i}", k) for i, k in enumerate(MIX_KEYS, 1)]}
    for contest_id, contest in mix_contests(context, mixnet_rows(context, ballots), servers).items():
        for k, stage in enumerate(contest.stages, 1):
            path = board / layout.mix_stage_file(contest_id, k)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(canonical_json(stage.to_json()))
    return {
        "mayor": {"m0": 2, "m1": 0, "m2": 1},
        "council": {"c0": 1, "c1": 2, "c2": 0, "c3": 2},
        "vote": {"yes": 2, "no": 1},
    }


def _load(path: Path) -> object:
    return json.loads(path.read_bytes())


@pytest.mark.slow
def test_five_trustee_processes_run_the_ceremony_and_four_decrypt(tmp_path: Path) -> None:
    board = tmp_path / "board"
    board.mkdir()
    keys = _round(board, "keygen", TRUSTEES)
    assert all("fingerprint (publish it yourself" in out for out in keys)
    code, out, err = _check(
        board, "config", "--election-id", "e2026", "--group", GROUP, "--threshold", "3",
        "--trustees", ",".join(TRUSTEES),
    )  # fmt: skip
    assert code == 0, err
    digest = out.split("digest (read it out to every trustee): ")[1].split()[0]
    # A round run before the others published waits (exit 3) and changes nothing.
    process = _run(board, "commit", "t1", "--digest", digest)
    assert process.wait(timeout=300) == 0
    code, _, err = _check(board, "show")
    assert code == 0
    early = _run(board, "deal", "t1")
    assert early.wait(timeout=300) == 3
    assert not (board / "ceremony/messages/shares").exists()
    _round(board, "commit", TRUSTEES[1:], "--digest", digest)
    _round(board, "deal", TRUSTEES)
    _round(board, "receive", TRUSTEES)
    _round(board, "answer", TRUSTEES)
    finished = _round(board, "finish", TRUSTEES)
    digests = {line for out in finished for line in out.splitlines() if line.startswith("result digest")}
    assert len(digests) == 1  # every trustee computed byte-for-byte the same result
    for who in TRUSTEES:
        assert not (tmp_path / who / "ceremony.sealed").exists()
        assert (tmp_path / who / "share.sealed").is_file()

    expected = _authority_publishes(board)
    # A dishonest authority swaps the encrypted tally for another: nobody decrypts it.
    honest = (board / layout.ENCRYPTED_TALLY).read_bytes()
    obj = json.loads(honest)
    obj["ballots"]["a"] = 1
    (board / layout.ENCRYPTED_TALLY).write_bytes(canonical_json(obj))
    refused = _run(board, "decrypt", "t1")
    _, err = refused.communicate(timeout=300)
    assert refused.returncode == 1 and "V9" in err and "nothing was decrypted" in err
    assert not (board / layout.partial_file("t1")).exists()
    (board / layout.ENCRYPTED_TALLY).write_bytes(honest)
    present = tuple(t for t in TRUSTEES if t != "t2")
    _round(board, "decrypt", present)
    assert not (board / layout.partial_file("t2")).exists()
    code, out, err = _check(board, "combine", "--json")
    assert code == 0, err
    result = _load(board / layout.RESULT)
    assert isinstance(result, dict)
    assert result["totals"] == expected
    assert "t2" not in result["trustees"]


def test_a_wrong_passphrase_is_refused_without_a_traceback(tmp_path: Path) -> None:
    board = tmp_path / "board"
    board.mkdir()
    _round(board, "keygen", ("a", "b"))
    assert _check(board, "config", "--election-id", "e", "--group", GROUP, "--threshold", "2",
                  "--trustees", "a,b")[0] == 0  # fmt: skip
    assert _run(board, "commit", "a").wait(timeout=300) == 0
    phrase = tmp_path / "wrong.txt"
    phrase.write_text("not the passphrase\n")
    code, _, err = _check(
        board, "deal", "--state", str(tmp_path / "a" / "ceremony.sealed"), "--passphrase-file", str(phrase),
        "--deadline-passed",
    )  # fmt: skip
    assert code == 1
    assert "WrongPassphrase" in err and "Traceback" not in err
    # Committing twice would replace the secrets behind a published commitment: refused.
    assert _run(board, "commit", "a").wait(timeout=300) == 1


def test_after_the_deadline_the_others_go_on_without_a_silent_trustee(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    board = tmp_path / "board"
    board.mkdir()
    monkeypatch.setenv(PASSPHRASE_ENV, "the same for both, in this test")

    def step(name: str, who: str, *extra: str) -> int:
        state = [] if name == "keygen" else ["--state", str(tmp_path / f"{who}.sealed")]
        state += ["--scrypt-n", str(MIN_SCRYPT_N)]
        ids = ["--id", who, "--key", str(tmp_path / f"{who}.key")] if name in {"keygen", "commit"} else []
        return main(["trustee", name, str(board), *state, *ids, *extra])

    assert main(["trustee", "config", str(board), "--election-id", "e", "--group", GROUP,
                 "--threshold", "2", "--trustees", "a,b,c"]) == 3  # fmt: skip  # no keys published yet
    assert all(step("keygen", who) == 0 for who in "abc")
    assert step("keygen", "a") == 1  # never replace a published key
    assert main(["trustee", "config", str(board), "--election-id", "e", "--group", GROUP,
                 "--threshold", "2", "--trustees", "a,b,c"]) == 0  # fmt: skip

    assert step("commit", "a") == 0 and step("commit", "b") == 0  # c never commits
    assert step("deal", "a") == 3  # not ready: waiting for c
    assert "waiting for c" in capsys.readouterr().err
    for name in ("deal", "receive", "answer"):
        assert step(name, "a", "--deadline-passed") == 0 and step(name, "b", "--deadline-passed") == 0
    share = ["--share", str(tmp_path / "a.share"), "--deadline-passed"]
    assert step("finish", "a", *share) == 0
    out = capsys.readouterr().out
    assert "qualified: a, b" in out
    result = _load(board / layout.DKG_RESULT)
    assert isinstance(result, dict) and result["qualified"] == ["a", "b"]


def test_config_starts_the_shared_folder_as_trustees_md_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = tmp_path / "board"  # not there yet: the trustees' first command makes it
    monkeypatch.setenv(PASSPHRASE_ENV, "pw")
    for who in ("a", "b"):
        assert main(["trustee", "keygen", str(board), "--id", who, "--key", str(tmp_path / f"{who}.key"),
                     "--scrypt-n", str(MIN_SCRYPT_N)]) == 0  # fmt: skip
    assert main(["trustee", "config", str(board), "--election-id", "e", "--group", GROUP,
                 "--threshold", "2", "--trustees", "a,b"]) == 0  # fmt: skip
    assert (board / layout.CONFIG).is_file()
    assert main(["trustee", "show", str(tmp_path / "elsewhere")]) == 1  # the others do not make one
    assert not (tmp_path / "elsewhere").exists()
