"""Where a passphrase comes from, and the clear error when it comes from nowhere."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from degcore.errors import InvalidInput
from degcore.tools import PASSPHRASE_ENV, passphrase


def test_a_file_comes_first_then_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "from the environment")
    secret = tmp_path / "secret"
    secret.write_text("from the file\n", encoding="utf-8")
    assert passphrase(file=secret) == "from the file"
    assert passphrase() == "from the environment"


def test_nowhere_to_get_one_says_how(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: no prompt
    with pytest.raises(InvalidInput, match=PASSPHRASE_ENV):
        passphrase()
    with pytest.raises(InvalidInput, match="cannot read the passphrase file"):
        passphrase(file=tmp_path / "missing")
