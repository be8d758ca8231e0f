"""The stores: SQLite (WAL, foreign keys, full sync) or PostgreSQL, one transaction per operation.

:func:`open_database` picks the engine from a location that :func:`parse_location` reads strictly
(a path, ``sqlite:///path`` or ``postgresql://…``; anything else is :class:`InvalidInput`); callers
write their SQL once with ``?`` placeholders and ``ON CONFLICT`` clauses that both engines accept,
and keep one schema (PostgreSQL gets :func:`postgres_schema` of it).

docs/deployment.md §1. :func:`connect` opens a file in autocommit mode (transactions are explicit);
:func:`immediate` wraps one operation in ``BEGIN IMMEDIATE`` … ``COMMIT``: it takes the write
lock at the start, so concurrent writers queue instead of failing half-way, and a crash or an
exception before the commit leaves nothing behind. ``sqlite3.IntegrityError`` passes through for
the caller to turn into its rule; every other database failure becomes :class:`StorageError`.

PostgreSQL (:mod:`degcore.storage.postgres`) takes :class:`PostgresOptions`: timeouts, pool size
and how it reconnects.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, Self

from degcore.errors import InvalidInput, StorageError
from degcore.storage.postgres import PostgresDatabase, PostgresOptions

__all__ = [
    "Database",
    "Location",
    "PostgresDatabase",
    "PostgresOptions",
    "SqliteDatabase",
    "StoreService",
    "Transaction",
    "connect",
    "immediate",
    "open_database",
    "parse_location",
    "postgres_schema",
]


#: Seconds a writer waits for the lock before giving up (busy timeout).
LOCK_TIMEOUT = 60


def connect(path: str | Path, what: str) -> sqlite3.Connection:
    """Open (creating if needed) the SQLite file at ``path``; ``what`` names the store in errors."""
    try:
        conn = sqlite3.connect(str(path), timeout=LOCK_TIMEOUT, isolation_level=None, check_same_thread=False)
        _wal(conn)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        # Deleted personal data is overwritten, not left in free pages (retention, REQUIREMENTS R25).
        conn.execute("PRAGMA secure_delete=ON")
        return conn
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open the {what} at {path}: {exc}") from exc


def _wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL; a new file opened by several processes at once makes all but one wait here."""
    deadline = time.monotonic() + LOCK_TIMEOUT
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
        raise StorageError(f"{what} failed: {exc}") from exc
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


class Transaction(Protocol):
    """What a store's user calls inside a transaction (a sqlite3 connection has exactly these)."""

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        """Run one statement; the result has ``fetchone``, ``fetchall``, ``rowcount`` and iterates."""

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> Any:
        """Run one statement for every row."""


class Database(Protocol):
    """One store over SQLite or PostgreSQL: SQL written once with ``?`` placeholders."""

    dialect: str
    #: Errors raised when a UNIQUE or other constraint refuses a write.
    integrity_errors: tuple[type[BaseException], ...]

    def write(self) -> Any:
        """A context manager: one exclusive write transaction (commit on success, roll back otherwise)."""

    def reading(self) -> Any:
        """A context manager: a connection for consistent reads."""

    def read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """All rows of a query."""

    def stream(self, sql: str, params: Sequence[object] = ()) -> Generator[tuple[Any, ...]]:
        """The rows of a query, fetched in batches (memory stays flat)."""

    def compact(self) -> None:
        """Return freed space and overwrite deleted rows where the engine can (retention)."""

    def close(self) -> None:
        """Release the connections."""


class StoreService:
    """A service over one store (the box, its reader, the issuer, the registry).

    ``close()`` releases the store's connections, and ``with service:`` closes it at the end.
    """

    _store: Database

    def close(self) -> None:
        """Close the store's connections; using the service afterwards raises StorageError."""
        self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SqliteDatabase:
    """One SQLite file in WAL mode (the embedded default)."""

    dialect = "sqlite"
    integrity_errors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,)

    def __init__(self, path: str | Path, what: str, schema: str) -> None:
        self.what = what
        self._connection: sqlite3.Connection | None = connect(path, what)
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


# --- locations ------------------------------------------------------------------------------------
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True, slots=True)
class Location:
    """A parsed store location: the engine and what it opens (a file path or a libpq URL)."""

    engine: Literal["sqlite", "postgresql"]
    target: str


def parse_location(location: str | Path, what: str) -> Location:
    """Read a store location strictly: ``postgresql://``/``postgres://`` URL, ``sqlite:///path`` or a path.

    Anything else — another scheme, ``postgresql:`` without ``//``, a path whose first part looks
    like a scheme (a folder named ``postgresql:``) — is :class:`InvalidInput`, never a file.
    """
    text = str(location)
    hint = "use a file path, sqlite:///path or postgresql://user@host:port/database"
    if not text.strip() or text != text.strip():
        raise InvalidInput(f"{what} location {text!r} is empty or has surrounding spaces: {hint}")
    if text.startswith(("postgresql://", "postgres://")):
        return Location("postgresql", text)
    if text.startswith("sqlite:"):
        # sqlite:///relative/path and sqlite:////absolute/path, as SQLAlchemy spells them
        path = text[len("sqlite:///") :] if text.startswith("sqlite:///") else ""
        if not path or "://" in path:
            raise InvalidInput(f"{what} location {text!r} is not a sqlite:/// URL with a path: {hint}")
        return Location("sqlite", path)
    if _SCHEME.match(text) or "://" in text:
        raise InvalidInput(f"unknown {what} location {text!r}: {hint}")
    return Location("sqlite", text)


def postgres_schema(sqlite_schema: str) -> str:
    """The PostgreSQL form of a degcore SQLite schema (one schema text, one place for the dialect rules).

    ``INTEGER PRIMARY KEY`` (SQLite's rowid alias: explicit values, or the next one when omitted)
    becomes an identity column, other ``INTEGER`` columns ``BIGINT``, ``BLOB`` ``BYTEA``, and
    ``WITHOUT ROWID`` is dropped.
    """
    schema = re.sub(
        r"\bINTEGER PRIMARY KEY\b", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", sqlite_schema
    )
    schema = re.sub(r"\bINTEGER\b", "BIGINT", schema)
    return schema.replace("BLOB", "BYTEA").replace(") WITHOUT ROWID", ")")


def open_database(
    location: str | Path,
    what: str,
    *,
    schema: str,
    lock_tables: Sequence[str],
    postgres: PostgresOptions | None = None,
) -> Database:
    """The store a location names (:func:`parse_location`); ``postgres`` applies to PostgreSQL only.

    ``schema`` is written for SQLite; PostgreSQL gets :func:`postgres_schema` of it.
    """
    parsed = parse_location(location, what)
    if parsed.engine == "postgresql":
        return PostgresDatabase(parsed.target, what, postgres_schema(schema), lock_tables, postgres)
    return SqliteDatabase(parsed.target, what, schema)
