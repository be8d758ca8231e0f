"""Commands for the people who run an election (``degcore trustee …``), beside :mod:`degcore.cli`.

:func:`passphrase` is how a command or a service's own script gets the passphrase of its sealed
key files: a file, ``$DEGCORE_PASSPHRASE``, or a prompt on the terminal.
"""

from degcore.tools.passphrase import PASSPHRASE_ENV, passphrase

__all__ = ["PASSPHRASE_ENV", "passphrase"]
