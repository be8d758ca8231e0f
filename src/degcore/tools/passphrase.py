"""Where a service's or a trustee's passphrase comes from: a file, the environment, or a prompt."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from degcore.errors import InvalidInput

__all__ = ["PASSPHRASE_ENV", "passphrase"]

#: The environment variable a passphrase may come from (for scripted, unattended steps).
PASSPHRASE_ENV = "DEGCORE_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret


def passphrase(*, file: str | Path | None = None, confirm: bool = False) -> str:
    """The passphrase from ``file``, else ``$DEGCORE_PASSPHRASE``, else a prompt on the terminal.

    ``confirm`` asks twice at the prompt (a new passphrase). Without a file, the variable or a
    terminal to ask on, raises InvalidInput saying how to give one.
    """
    if file is not None:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot read the passphrase file {file}: {exc.strerror}") from None
        return text.removesuffix("\n").removesuffix("\r")
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    if not sys.stdin.isatty():
        raise InvalidInput(
            f"no passphrase: set {PASSPHRASE_ENV}, give a passphrase file, or run on a terminal to be asked"
        )
    first = getpass.getpass("passphrase: ")
    if confirm and getpass.getpass("passphrase again: ") != first:
        raise InvalidInput("the two passphrases differ")
    return first
