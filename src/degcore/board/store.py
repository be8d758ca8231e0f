"""Where the ballot box keeps its log: SQLite (embedded default) or PostgreSQL, chosen by a URL.

DESIGN.md §6, docs/deployment.md. Both stores give the box the same three things: a write
transaction that excludes every other writer of the log (SQLite ``BEGIN IMMEDIATE``; PostgreSQL
``LOCK TABLE log IN EXCLUSIVE MODE``, which readers do not wait for), reads, and streamed reads.
The rules that must hold under concurrent writers live in the schema, in both dialects: the log's
position is its primary key, and a partial UNIQUE index allows one counted ballot per credential.
The box's SQL is written once with ``?`` placeholders; the PostgreSQL store rewrites them.

Locations: a path or ``sqlite:///path`` → SQLite; ``postgresql://…`` → PostgreSQL through
``psycopg`` 3 and its connection pool (the ``degcore[postgres]`` extra).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from degcore.errors import InvalidInput, StorageError
from degcore.storage import connect, immediate

__all__ = ["BoxStore", "Transaction", "open_box_store"]

_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    position  INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN ('ballot', 'challenge', 'close')),
    payload   BLOB NOT NULL,
    at        TEXT NOT NULL,
    prev      BLOB NOT NULL,
    hash      BLOB NOT NULL UNIQUE,
    signature BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS ballots (
    tracking_code TEXT PRIMARY KEY,
    credential_id TEXT NOT NULL,
    style         TEXT NOT NULL,
    position      INTEGER NOT NULL UNIQUE REFERENCES log (position),
    status        TEXT NOT NULL CHECK (status IN ('counted', 'superseded'))
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS one_counted_ballot_per_credential ON ballots (credential_id)
    WHERE status = 'counted';
CREATE TABLE IF NOT EXISTS challenged (
    tracking_code TEXT PRIMARY KEY,
    position      INTEGER NOT NULL REFERENCES log (position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID
"""

_POSTGRES_SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    position  BIGINT PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN ('ballot', 'challenge', 'close')),
    payload   BYTEA NOT NULL,
    at        TEXT NOT NULL,
    prev      BYTEA NOT NULL,
    hash      BYTEA NOT NULL UNIQUE,
    signature BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS ballots (
    tracking_code TEXT PRIMARY KEY,
    credential_id TEXT NOT NULL,
    style         TEXT NOT NULL,
    position      BIGINT NOT NULL UNIQUE REFERENCES log (position),
    status        TEXT NOT NULL CHECK (status IN ('counted', 'superseded'))
);
CREATE UNIQUE INDEX IF NOT EXISTS one_counted_ballot_per_credential ON ballots (credential_id)
    WHERE status = 'counted';
CREATE TABLE IF NOT EXISTS challenged (
    tracking_code TEXT PRIMARY KEY,
    position      BIGINT NOT NULL REFERENCES log (position)
);
CREATE TABLE IF NOT EXISTS state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
)
"""


class Transaction(Protocol):
    """The one method the box uses inside a write transaction."""

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        """Run one statement; the result has ``fetchone`` and ``fetchall``."""


class BoxStore(Protocol):
    """What the ballot box needs of a database."""

    #: Errors raised when a UNIQUE or other constraint refuses a write.
    integrity_errors: tuple[type[BaseException], ...]

    def write(self) -> Any:
        """A context manager: one exclusive write transaction (commit on success, roll back otherwise)."""

    def read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """All rows of a query."""

    def stream(self, sql: str, params: Sequence[object] = ()) -> Iterator[tuple[Any, ...]]:
        """The rows of a query, fetched in batches (memory stays flat)."""

    def close(self) -> None:
        """Release the connections."""


class SqliteStore:
    """The embedded default: one SQLite file in WAL mode."""

    integrity_errors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,)

    def __init__(self, path: str | Path) -> None:
        self._conn = connect(path, "ballot box")
        with immediate(self._conn, "creating the ballot box") as conn:
            for statement in _SQLITE_SCHEMA.split(";"):
                conn.execute(statement)

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``."""
        with immediate(self._conn, "ballot box") as conn:
            yield conn

    def read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """All rows."""
        return list(self._conn.execute(sql, tuple(params)))

    def stream(self, sql: str, params: Sequence[object] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows as SQLite produces them."""
        yield from self._conn.execute(sql, tuple(params))

    def close(self) -> None:
        """Close the file."""
        self._conn.close()


class _PostgresTransaction:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self._conn.execute(sql.replace("?", "%s"), tuple(params))


class PostgresStore:
    """PostgreSQL through psycopg 3 and a connection pool (several processes may share one database)."""

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        try:
            import psycopg  # noqa: PLC0415 - an optional extra, imported only when asked
            from psycopg_pool import ConnectionPool  # noqa: PLC0415
        except ImportError:
            raise InvalidInput(
                "a PostgreSQL ballot box needs the extra: pip install 'degcore[postgres]'"
            ) from None
        self._psycopg = psycopg
        self.integrity_errors: tuple[type[BaseException], ...] = (psycopg.errors.IntegrityError,)
        try:
            self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=True, timeout=60)
            with self._pool.connection() as conn, conn.transaction():
                # Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalogue.
                conn.execute("SELECT pg_advisory_xact_lock(hashtext('degcore ballot box schema'))")
                for statement in _POSTGRES_SCHEMA.split(";"):
                    conn.execute(statement)
        except psycopg.Error as exc:
            raise StorageError(f"cannot open the PostgreSQL ballot box: {exc}") from exc

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """One transaction that holds the log's exclusive lock (positions are handed out one by one)."""
        errors = self._psycopg
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("LOCK TABLE log IN EXCLUSIVE MODE")
                yield _PostgresTransaction(conn)
        except self.integrity_errors:
            raise
        except errors.Error as exc:
            raise StorageError(f"ballot box (PostgreSQL) failed: {exc}") from exc

    def read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """All rows."""
        with self._pool.connection() as conn:
            return [
                tuple(_plain(v) for v in row) for row in conn.execute(sql.replace("?", "%s"), tuple(params))
            ]

    def stream(self, sql: str, params: Sequence[object] = ()) -> Iterator[tuple[Any, ...]]:
        """A server-side cursor, 1,000 rows per round trip."""
        with (
            self._pool.connection() as conn,
            conn.transaction(),
            conn.cursor(name="degcore_stream") as cursor,
        ):
            cursor.itersize = 1000
            cursor.execute(sql.replace("?", "%s"), tuple(params))
            for row in cursor:
                yield tuple(_plain(v) for v in row)

    def close(self) -> None:
        """Close the pool."""
        self._pool.close()


def _plain(value: object) -> object:
    return bytes(value) if isinstance(value, memoryview) else value


def open_box_store(location: str | Path) -> BoxStore:
    """The store a location names: ``postgresql://…``, ``sqlite:///path`` or a plain path."""
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresStore(text)
    if text.startswith("sqlite:///"):
        return SqliteStore(text[len("sqlite:///") :])  # sqlite:////abs/path keeps its leading slash
    if "://" in text:
        raise InvalidInput(
            f"unknown ballot box location {text!r}: use a path, sqlite:///path or postgresql://…"
        )
    return SqliteStore(location)
