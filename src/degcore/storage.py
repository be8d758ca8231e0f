"""The stores: SQLite (WAL, foreign keys, full sync) or PostgreSQL, one transaction per operation.

``open_database`` picks the engine from a location (a path, ``sqlite:///path`` or
``postgresql://…``); callers write their SQL once with ``?`` placeholders and ``ON CONFLICT``
clauses that both engines accept, and keep one schema per dialect.

DESIGN.md §6. :func:`connect` opens a file in autocommit mode (transactions are explicit);
:func:`immediate` wraps one operation in ``BEGIN IMMEDIATE`` … ``COMMIT``: it takes the write
lock at the start, so concurrent writers queue instead of failing half-way, and a crash or an
exception before the commit leaves nothing behind. ``sqlite3.IntegrityError`` passes through for
the caller to turn into its rule; every other database failure becomes :class:`StorageError`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from degcore.errors import InvalidInput, StorageError

__all__ = [
    "Database",
    "PostgresDatabase",
    "SqliteDatabase",
    "Transaction",
    "connect",
    "immediate",
    "open_database",
    "postgres_schema",
]

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

    def stream(self, sql: str, params: Sequence[object] = ()) -> Iterator[tuple[Any, ...]]:
        """The rows of a query, fetched in batches (memory stays flat)."""

    def compact(self) -> None:
        """Return freed space and overwrite deleted rows where the engine can (retention)."""

    def close(self) -> None:
        """Release the connections."""


class SqliteDatabase:
    """One SQLite file in WAL mode (the embedded default)."""

    dialect = "sqlite"
    integrity_errors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,)

    def __init__(self, path: str | Path, what: str, schema: str) -> None:
        self.what = what
        self._conn = connect(path, what)
        with immediate(self._conn, f"creating the {what}") as conn:
            for statement in schema.split(";"):
                if statement.strip():
                    conn.execute(statement)

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

    def stream(self, sql: str, params: Sequence[object] = ()) -> Iterator[tuple[Any, ...]]:
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
        """Close the file."""
        self._conn.close()


class _PostgresTransaction:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self._conn.execute(sql.replace("?", "%s"), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> Any:
        cursor = self._conn.cursor()
        cursor.executemany(sql.replace("?", "%s"), rows)
        return cursor


class PostgresDatabase:
    """PostgreSQL through psycopg 3 and a connection pool; write transactions lock ``lock_tables``."""

    dialect = "postgresql"

    def __init__(
        self, url: str, what: str, schema: str, lock_tables: Sequence[str], *, pool_size: int = 4
    ) -> None:
        try:
            import psycopg  # noqa: PLC0415 - an optional extra, imported only when asked
            from psycopg_pool import ConnectionPool  # noqa: PLC0415
        except ImportError as exc:  # psycopg without a driver build raises ImportError too
            raise InvalidInput(
                f"PostgreSQL needs the extra and a psycopg build ({exc}): "
                "pip install 'degcore[postgres]' 'psycopg[binary]' (or psycopg[c], or the system's libpq)"
            ) from None
        self.what = what
        self._psycopg = psycopg
        self._lock = ", ".join(lock_tables)
        self.integrity_errors: tuple[type[BaseException], ...] = (psycopg.errors.IntegrityError,)
        try:
            self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=True, timeout=60)
            with self._pool.connection() as conn, conn.transaction():
                # Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalogue.
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"degcore {what} schema",))
                for statement in schema.split(";"):
                    if statement.strip():
                        conn.execute(statement)
        except psycopg.Error as exc:
            raise StorageError(f"cannot open the {what} on PostgreSQL: {exc}") from exc

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """One transaction holding the exclusive lock of the store's tables (readers do not wait)."""
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute(f"LOCK TABLE {self._lock} IN EXCLUSIVE MODE")
                yield _PostgresTransaction(conn)
        except self.integrity_errors:
            raise
        except self._psycopg.Error as exc:
            raise StorageError(f"{self.what} (PostgreSQL) failed: {exc}") from exc

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        """A pooled connection in one read transaction."""
        with self._pool.connection() as conn, conn.transaction():
            yield _PostgresTransaction(conn)

    def read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """All rows."""
        with self._pool.connection() as conn:
            rows = conn.execute(sql.replace("?", "%s"), tuple(params))
            return [tuple(_plain(v) for v in row) for row in rows]

    def stream(self, sql: str, params: Sequence[object] = ()) -> Iterator[tuple[Any, ...]]:
        """A server-side cursor, 1,000 rows per round trip."""
        pool = self._pool
        with pool.connection() as conn, conn.transaction(), conn.cursor(name="degcore_stream") as cursor:
            cursor.itersize = 1000
            cursor.execute(sql.replace("?", "%s"), tuple(params))
            for row in cursor:
                yield tuple(_plain(v) for v in row)

    def compact(self) -> None:
        """VACUUM FULL: rewrite the tables without the deleted rows (outside a transaction)."""
        with self._pool.connection() as conn:
            conn.autocommit = True
            try:
                conn.execute("VACUUM FULL")
            finally:
                conn.autocommit = False

    def close(self) -> None:
        """Close the pool."""
        self._pool.close()


def _plain(value: object) -> object:
    return bytes(value) if isinstance(value, memoryview) else value


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


def open_database(location: str | Path, what: str, *, schema: str, lock_tables: Sequence[str]) -> Database:
    """The store a location names: ``postgresql://…``, ``sqlite:///path`` or a plain path.

    ``schema`` is written for SQLite; PostgreSQL gets :func:`postgres_schema` of it.
    """
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(text, what, postgres_schema(schema), lock_tables)
    if text.startswith("sqlite:///"):
        # sqlite:////abs/path keeps its leading slash
        return SqliteDatabase(text[len("sqlite:///") :], what, schema)
    if "://" in text:
        raise InvalidInput(f"unknown {what} location {text!r}: use a path, sqlite:///path or postgresql://…")
    return SqliteDatabase(location, what, schema)
