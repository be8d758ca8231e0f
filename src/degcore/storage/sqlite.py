"""The SQLite engine: WAL, foreign keys, full sync, one ``BEGIN IMMEDIATE`` transaction per operation.

:func:`connect` opens a file in autocommit mode (transactions are explicit); :func:`immediate`
wraps one operation in ``BEGIN IMMEDIATE`` … ``COMMIT``: it takes the write lock at the start, so
concurrent writers queue instead of failing half-way, and a crash or an exception before the
commit leaves nothing behind. ``sqlite3.IntegrityError`` passes through for the caller to turn
into its rule; every other database failure becomes :class:`StorageError`. docs/deployment.md §1.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from degcore.errors import InvalidInput, StorageError
from degcore.storage.base import DISK_FULL, Transaction

__all__ = ["LOCK_TIMEOUT", "SqliteDatabase", "SqliteOptions", "connect", "immediate"]


#: Default seconds a writer waits for another's write lock before it fails (SQLite's busy timeout).
LOCK_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class SqliteOptions:
    """How long an operation on a SQLite store may wait for the file's write lock (docs/deployment.md)."""

    #: Seconds a writer waits while another process holds the write lock, then fails with
    #: StorageError ("database is locked"); the same bound covers switching a new file to WAL.
    lock_timeout: float = LOCK_TIMEOUT

    def __post_init__(self) -> None:
        if not 0.1 <= self.lock_timeout <= 86_400:
            raise InvalidInput("SqliteOptions: lock_timeout must be between 0.1 s and a day")


def connect(path: str | Path, what: str, options: SqliteOptions | None = None) -> sqlite3.Connection:
    """Open (creating if needed) the SQLite file at ``path``; ``what`` names the store in errors."""
    lock_timeout = (options or SqliteOptions()).lock_timeout
    try:
        conn = sqlite3.connect(str(path), timeout=lock_timeout, isolation_level=None, check_same_thread=False)
        _wal(conn, lock_timeout)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        # Deleted personal data is overwritten, not left in free pages (retention, REQUIREMENTS R25).
        conn.execute("PRAGMA secure_delete=ON")
        return conn
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open the {what} at {path}: {exc}") from exc


def _wal(conn: sqlite3.Connection, lock_timeout: float) -> None:
    """Switch to WAL; a new file opened by several processes at once makes all but one wait here."""
    deadline = time.monotonic() + lock_timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # SQLite's busy handler does not cover this step
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


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
        raise _failed(what, exc) from exc
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def _failed(what: str, exc: sqlite3.Error) -> StorageError:
    """The StorageError of a failed write; SQLITE_FULL (the file system is full) says so plainly.

    SQLite's own text ("database or disk is full") does not tell the operator what to do, and the
    caller needs to know that the transaction was rolled back whole (tests/integration/test_disk_full.py).
    """
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return StorageError(f"{what} failed: {DISK_FULL} ({exc})")
    return StorageError(f"{what} failed: {exc}")


class SqliteDatabase:
    """One SQLite file in WAL mode (the embedded default)."""

    dialect = "sqlite"
    integrity_errors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,)

    def __init__(
        self, path: str | Path, what: str, schema: str, options: SqliteOptions | None = None
    ) -> None:
        self.what = what
        self._connection: sqlite3.Connection | None = connect(path, what, options)
        with immediate(self._conn, f"creating the {what}") as conn:
            for statement in schema.split(";"):
                if statement.strip():
                    conn.execute(statement)

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:  # sqlite3 would raise its own ProgrammingError
            raise StorageError(f"the {self.what} was closed: open it again to use it")
        return self._connection

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``."""
        with immediate(self._conn, self.what) as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        """The connection itself (each statement sees committed data)."""
        yield self._conn

    def read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """All rows."""
        return list(self._conn.execute(sql, tuple(params)))

    def stream(self, sql: str, params: Sequence[object] = ()) -> Generator[tuple[Any, ...]]:
        """Rows as SQLite produces them."""
        yield from self._conn.execute(sql, tuple(params))

    def compact(self) -> None:
        """Checkpoint the WAL into the file and VACUUM it (``secure_delete`` zeroed the rows)."""
        try:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._conn.execute("VACUUM")
        except sqlite3.Error as exc:
            raise StorageError(f"compacting the {self.what} failed: {exc}") from exc

    def close(self) -> None:
        """Close the file (idempotent); any later use raises StorageError."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
