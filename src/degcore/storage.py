"""SQLite the way every degcore store uses it: WAL, foreign keys, full sync, one transaction per operation.

DESIGN.md §6. :func:`connect` opens a file in autocommit mode (transactions are explicit);
:func:`immediate` wraps one operation in ``BEGIN IMMEDIATE`` … ``COMMIT``: it takes the write
lock at the start, so concurrent writers queue instead of failing half-way, and a crash or an
exception before the commit leaves nothing behind. ``sqlite3.IntegrityError`` passes through for
the caller to turn into its rule; every other database failure becomes :class:`StorageError`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from degcore.errors import StorageError

__all__ = ["connect", "immediate"]

#: Seconds a writer waits for the lock before giving up (busy timeout).
LOCK_TIMEOUT = 60


def connect(path: str | Path, what: str) -> sqlite3.Connection:
    """Open (creating if needed) the SQLite file at ``path``; ``what`` names the store in errors."""
    try:
        conn = sqlite3.connect(str(path), timeout=LOCK_TIMEOUT, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        # Deleted personal data is overwritten, not left in free pages (retention, REQUIREMENTS R25).
        conn.execute("PRAGMA secure_delete=ON")
        return conn
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open the {what} at {path}: {exc}") from exc


@contextmanager
def immediate(conn: sqlite3.Connection, what: str) -> Iterator[sqlite3.Connection]:
    """One write transaction: commit if the block succeeds, roll back if it raises."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise StorageError(f"{what}: cannot start a transaction: {exc}") from exc
    try:
        yield conn
        conn.execute("COMMIT")
    except sqlite3.IntegrityError:
        raise
    except sqlite3.Error as exc:
        raise StorageError(f"{what} failed: {exc}") from exc
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
