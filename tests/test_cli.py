"""The `degcore demo` command prints the right tally over every group."""

from __future__ import annotations

import pytest

from degcore.cli import main


def test_demo_tallies_on_every_group(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--votes", "1,1,0,1"]) == 0
    out = capsys.readouterr().out
    for name in ("ristretto255", "secp256k1", "modp4096"):
        line = next(line for line in out.splitlines() if line.strip().startswith(name))
        assert "tally = 3" in line


def test_demo_rejects_non_binary_votes() -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--votes", "1,2"])
    with pytest.raises(SystemExit):
        main(["demo", "--votes", "yes"])
