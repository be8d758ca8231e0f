"""The ballot box (bulletin board): casting with receipts, challenges, a signed hash-chained log.

docs/architecture.md §2 step 5, docs/protocol.md §9. The box checks credentials (``degcore.issuance``), ballot
signatures and proofs (``degcore.ballot``) and keeps one counted ballot per credential in SQLite.
"""

from __future__ import annotations

from degcore.board.box import BallotBox
from degcore.board.cast import CastBallot, Policy, Receipt, check_cast, sign_ballot
from degcore.board.keys import load_signing_key, save_signing_key
from degcore.board.log import LogEntry, read_log, verify_entries
from degcore.board.reader import BoxReader

__all__ = [
    "BallotBox",
    "BoxReader",
    "CastBallot",
    "LogEntry",
    "Policy",
    "Receipt",
    "check_cast",
    "load_signing_key",
    "read_log",
    "save_signing_key",
    "sign_ballot",
    "verify_entries",
]
