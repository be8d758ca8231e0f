"""The PostgreSQL store: psycopg 3 over a small pool of our own, with options an operator can set.

docs/deployment.md §2. There are no background threads and no reconnect back-off: an operation
takes an idle connection (pinged first if it sat idle longer than ``idle_check``) or opens one
at once, bounded by ``connect_timeout``. While the server is down an operation therefore fails in
about that time with :class:`StorageError`, and the first one after the server is back reconnects
and succeeds. A connection that broke in use invalidates every idle one, since they all went to
the same server. Failures are logged on ``logging.getLogger("degcore.storage")``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from degcore.errors import InvalidInput, StorageError

__all__ = ["PostgresDatabase", "PostgresOptions", "postgres_schema"]

_log = logging.getLogger("degcore.storage")


@dataclass(frozen=True, slots=True)
class PostgresOptions:
    """How a PostgreSQL store connects and recovers (per process; docs/deployment.md §2).

    Other libpq parameters (``sslmode``, ``keepalives_idle``, ``tcp_user_timeout``, …) go in the URL.
    """

    #: Seconds one attempt to open a connection may take (libpq ``connect_timeout``, at least 2).
    connect_timeout: int = 5
    #: Connections kept open, and the most operations that run at once.
    pool_size: int = 4
    #: Seconds an operation waits for a free connection before failing with StorageError.
    pool_timeout: float = 10.0
    #: A connection idle longer than this (seconds) is pinged before use, so a server restarted in
    #: the meantime costs no failed operation (0: ping every time).
    idle_check: float = 1.0
    #: Seconds after which a connection is closed and replaced (after a fail-over, say).
    max_lifetime: float = 3600.0

    def __post_init__(self) -> None:
        """Refuse values that cannot work."""
        if self.connect_timeout < 2 or self.pool_size < 1:
            raise InvalidInput("PostgresOptions: connect_timeout ≥ 2 s and pool_size ≥ 1 are required")
        if min(self.pool_timeout, self.max_lifetime) <= 0 or self.idle_check < 0:
            raise InvalidInput("PostgresOptions: pool_timeout and max_lifetime must be positive")


@dataclass(slots=True)
class _Idle:
    conn: Any
    born: float
    returned: float
    generation: int


class _Pool:
    """At most ``pool_size`` connections; each checkout connects at once if it must (no back-off).

    A connection that broke in use invalidates every idle one (they went to the same server), so
    after a crash the next checkout reconnects instead of failing on a stale connection.
    """

    def __init__(self, url: str, options: PostgresOptions, psycopg: Any, what: str) -> None:
        self._url, self._options, self._psycopg, self._what = url, options, psycopg, what
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(options.pool_size)
        self._idle: list[_Idle] = []
        self._generation = 0
        self._pid = os.getpid()
        self._inherited: list[Any] = []  # a forked child never closes its parent's sockets

    def _take(self) -> _Idle | None:
        with self._lock:
            if os.getpid() != self._pid:
                self._inherited += [idle.conn for idle in self._idle]
                self._idle, self._pid = [], os.getpid()
            return self._idle.pop() if self._idle else None

    def _usable(self, idle: _Idle) -> bool:
        now = time.monotonic()
        if idle.generation != self._generation or now - idle.born > self._options.max_lifetime:
            return False
        if now - idle.returned <= self._options.idle_check:
            return True
        try:
            idle.conn.execute("SELECT 1")
            return True
        except self._psycopg.Error:
            self._invalidate()
            return False

    def _invalidate(self) -> None:
        with self._lock:
            self._generation += 1

    def _checkout(self) -> _Idle:
        while (idle := self._take()) is not None:
            if self._usable(idle):
                return idle
            idle.conn.close()
        try:
            conn = self._psycopg.connect(
                self._url, autocommit=True, connect_timeout=self._options.connect_timeout
            )
        except self._psycopg.Error as exc:
            _log.error("%s: cannot connect to PostgreSQL: %s", self._what, exc)
            raise StorageError(f"cannot connect to the {self._what} on PostgreSQL: {exc}") from exc
        now = time.monotonic()
        return _Idle(conn, now, now, self._generation)

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A connection for one operation, returned afterwards unless it broke."""
        if not self._slots.acquire(timeout=self._options.pool_timeout):
            raise StorageError(
                f"{self._what}: no free PostgreSQL connection after {self._options.pool_timeout} s"
            )
        try:
            idle = self._checkout()
            try:
                yield idle.conn
            finally:
                if idle.conn.broken or idle.conn.closed:
                    _log.warning("%s: a PostgreSQL connection broke; reconnecting on next use", self._what)
                    self._invalidate()
                    idle.conn.close()
                else:
                    idle.returned = time.monotonic()
                    with self._lock:
                        self._idle.append(idle)
        finally:
            self._slots.release()

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, []
        for item in idle:
            item.conn.close()


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
    """PostgreSQL through psycopg 3 and :class:`_Pool`; write transactions lock ``lock_tables``."""

    dialect = "postgresql"

    def __init__(
        self,
        url: str,
        what: str,
        schema: str,
        lock_tables: Sequence[str],
        options: PostgresOptions | None = None,
    ) -> None:
        try:
            import psycopg  # noqa: PLC0415 - an optional extra, imported only when asked
        except ImportError as exc:  # psycopg without a driver build raises ImportError too
            raise InvalidInput(
                f"PostgreSQL needs the extra and a psycopg build ({exc}): "
                "pip install 'degcore[postgres]' 'psycopg[binary]' (or psycopg[c], or the system's libpq)"
            ) from None
        self.what = what
        self._psycopg = psycopg
        self._lock = ", ".join(lock_tables)
        self.integrity_errors: tuple[type[BaseException], ...] = (psycopg.errors.IntegrityError,)
        self._pool = _Pool(url, options or PostgresOptions(), psycopg, what)
        try:
            with self._pool.connection() as conn, conn.transaction():
                # Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalogue.
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"degcore {what} schema",))
                for statement in schema.split(";"):
                    if statement.strip():
                        conn.execute(statement)
        except psycopg.Error as exc:
            raise StorageError(f"cannot open the {what} on PostgreSQL: {exc}") from exc

    @contextmanager
    def write(self) -> Iterator[_PostgresTransaction]:
        """One transaction holding the exclusive lock of the store's tables (readers do not wait)."""
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute(f"LOCK TABLE {self._lock} IN EXCLUSIVE MODE")
                yield _PostgresTransaction(conn)
        except self.integrity_errors:
            raise
        except self._psycopg.Error as exc:
            _log.error("%s (PostgreSQL) failed: %s", self.what, exc)
            raise StorageError(f"{self.what} (PostgreSQL) failed: {exc}") from exc

    @contextmanager
    def reading(self) -> Iterator[_PostgresTransaction]:
        """A pooled connection in one read transaction."""
        with self._errors(), self._pool.connection() as conn, conn.transaction():
            yield _PostgresTransaction(conn)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except self._psycopg.Error as exc:
            raise StorageError(f"{self.what} (PostgreSQL) failed: {exc}") from exc

    def read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """All rows."""
        with self._errors(), self._pool.connection() as conn:
            rows = conn.execute(sql.replace("?", "%s"), tuple(params))
            return [tuple(_plain(v) for v in row) for row in rows]

    def stream(self, sql: str, params: Sequence[object] = ()) -> Generator[tuple[Any, ...]]:
        """A server-side cursor, 1,000 rows per round trip."""
        with (
            self._errors(),
            self._pool.connection() as conn,
            conn.transaction(),
            conn.cursor(name="degcore_stream") as cursor,
        ):
            cursor.itersize = 1000
            cursor.execute(sql.replace("?", "%s"), tuple(params))
            for row in cursor:
                yield tuple(_plain(v) for v in row)

    def compact(self) -> None:
        """VACUUM FULL: rewrite the tables without the deleted rows (outside a transaction)."""
        with self._errors(), self._pool.connection() as conn:
            conn.execute("VACUUM FULL")

    def close(self) -> None:
        """Close the pool's connections."""
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
