"""The PostgreSQL store: psycopg 3 over a small pool of our own, with options an operator can set.

docs/deployment.md §2. There is no reconnect back-off: an operation takes an idle connection
(pinged first if it sat idle longer than ``idle_check``) or opens one at once, bounded by
``connect_timeout``. While the server is down an operation therefore fails in about that time
with :class:`StorageError`, and the first one after the server is back reconnects and succeeds.
A connection that broke in use invalidates every idle one, since they all went to the same server.

Every operation has a deadline (``operation_timeout``). The server enforces it on itself
(``statement_timeout``, ``lock_timeout``) and the kernel on a dead network (TCP keepalives,
``tcp_user_timeout``), but a server that is alive and does not answer (stopped, swapping, its
disk stalled) defeats all three: its kernel still acknowledges every packet. So one watchdog
thread per pool shuts down the socket of any connection whose operation outlives its deadline;
libpq then fails at once and the caller gets :class:`StorageError`. The cut connection is
discarded; what the server had not committed it rolls back when it sees the closed socket, and
what it had committed a retry of the identical request finds (the stores are idempotent).
Failures are logged on ``logging.getLogger("degcore.storage")``.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import math
import os
import re
import socket
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from degcore.errors import InvalidInput, StorageError
from degcore.storage.base import DISK_FULL

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
    #: Seconds one operation (a cast, an issuance, one page of a read) may take once it has a
    #: connection, before it fails with StorageError: the server's statement and lock timeouts,
    #: the TCP user timeout, and the watchdog that cuts a connection to a server that hangs.
    operation_timeout: float = 10.0

    def __post_init__(self) -> None:
        """Refuse values that cannot work."""
        if self.connect_timeout < 2 or self.pool_size < 1:
            raise InvalidInput("PostgresOptions: connect_timeout ≥ 2 s and pool_size ≥ 1 are required")
        if min(self.pool_timeout, self.max_lifetime) <= 0 or self.idle_check < 0:
            raise InvalidInput("PostgresOptions: pool_timeout and max_lifetime must be positive")
        if not 0.5 <= self.operation_timeout <= 86_400:
            raise InvalidInput("PostgresOptions: operation_timeout must be between 0.5 s and a day")

    def session_parameters(self, url: str) -> dict[str, object]:
        """The libpq parameters that bound every operation, less those the URL sets itself."""
        millis = math.ceil(self.operation_timeout * 1000)
        idle = max(1, math.ceil(self.operation_timeout / 4))
        server = (
            f"-c statement_timeout={millis} -c lock_timeout={millis} "
            # A client that stopped half-way through a transaction must not hold the tables' lock.
            f"-c idle_in_transaction_session_timeout={2 * millis}"
        )
        wanted: dict[str, object] = {
            "keepalives": 1,
            "keepalives_idle": idle,
            "keepalives_interval": idle,
            "keepalives_count": 3,
            "tcp_user_timeout": millis,
            "options": server,
        }
        from psycopg.conninfo import conninfo_to_dict  # noqa: PLC0415 - the optional extra

        given = conninfo_to_dict(url)
        if given.get("options"):  # the URL's own settings come later, so they win
            wanted["options"] = f"{server} {given['options']}"
        return {key: value for key, value in wanted.items() if key == "options" or key not in given}


@dataclass(slots=True)
class _Idle:
    conn: Any
    born: float
    returned: float
    generation: int


class _Watchdog:
    """One thread that cuts the socket of every connection still busy past its deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: list[tuple[float, int]] = []  # a heap of (deadline, token)
        self._armed: dict[int, Any] = {}
        self._fired: set[int] = set()
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def arm(self, conn: Any, deadline: float) -> int:
        """Watch ``conn`` until :meth:`disarm`; past ``deadline`` its socket is shut down."""
        with self._cond:
            if self._pid != os.getpid():  # a forked child has no watchdog thread: start its own
                self._due, self._armed, self._fired, self._thread = [], {}, set(), None
                self._pid = os.getpid()
            token = next(self._tokens)
            self._armed[token] = conn
            heapq.heappush(self._due, (deadline, token))
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="degcore-pg-watchdog", daemon=True)
                self._thread.start()
            elif self._due[0][1] == token:  # the earliest deadline now: the thread must wait less
                self._cond.notify()
            return token

    def disarm(self, token: int) -> bool:
        """Stop watching; True if the deadline had passed and the connection was cut."""
        with self._cond:
            self._armed.pop(token, None)
            if token in self._fired:
                self._fired.discard(token)
                return True
            return False

    def _watch(self) -> None:
        with self._cond:
            while True:
                while self._due and self._due[0][1] not in self._armed:
                    heapq.heappop(self._due)  # disarmed in time
                if not self._due:
                    if not self._cond.wait(timeout=60.0) and not self._armed:
                        self._thread = None  # idle for a minute: the next arm starts a new one
                        return
                    continue
                deadline, token = self._due[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(timeout=wait)
                    continue
                heapq.heappop(self._due)
                self._fired.add(token)
                _cut(self._armed.pop(token))


def _cut(conn: Any) -> None:
    """Shut down a connection's socket (libpq's next wait fails at once; closing it is the owner's)."""
    try:
        with socket.socket(fileno=os.dup(conn.fileno())) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except Exception as exc:  # closed already (OSError, or psycopg's own error): nothing waits on it
        _log.debug("watchdog: the connection was already closed: %s", exc)


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
        self._watchdog = _Watchdog()
        self._session = options.session_parameters(url)

    def _take(self) -> _Idle | None:
        with self._lock:
            if os.getpid() != self._pid:
                self._inherited += [idle.conn for idle in self._idle]
                self._idle, self._pid = [], os.getpid()
            return self._idle.pop() if self._idle else None

    def _usable(self, idle: _Idle, deadline: float) -> bool:
        now = time.monotonic()
        if idle.generation != self._generation or now - idle.born > self._options.max_lifetime:
            return False
        if now - idle.returned <= self._options.idle_check:
            return True
        try:  # an unbounded operation (a long read) still bounds its ping
            with self.bounded(idle.conn, min(deadline, now + self._options.operation_timeout)):
                idle.conn.execute("SELECT 1")
            return True
        except self._psycopg.Error:
            self._invalidate()
            return False
        except StorageError:  # the server hangs: every idle connection is as stale as this one
            self._invalidate()
            raise

    def _invalidate(self) -> None:
        with self._lock:
            self._generation += 1

    def _checkout(self, deadline: float) -> _Idle:
        while (idle := self._take()) is not None:
            if self._usable(idle, deadline):
                return idle
            idle.conn.close()
        left = deadline - time.monotonic()
        if left <= 0:
            raise self._timed_out()
        try:
            conn = self._psycopg.connect(
                self._url,
                autocommit=True,
                connect_timeout=max(2, min(self._options.connect_timeout, math.ceil(left))),
                **self._session,
            )
        except self._psycopg.Error as exc:
            _log.error("%s: cannot connect to PostgreSQL: %s", self._what, exc)
            raise StorageError(f"cannot connect to the {self._what} on PostgreSQL: {exc}") from exc
        now = time.monotonic()
        return _Idle(conn, now, now, self._generation)

    def _timed_out(self) -> StorageError:
        seconds = self._options.operation_timeout
        _log.error(
            "%s: a PostgreSQL operation did not finish within %s s; connection cut", self._what, seconds
        )
        return StorageError(
            f"{self._what}: PostgreSQL did not answer within {seconds} s (a hung server or a lost "
            "network); the operation was abandoned: send the identical request again"
        )

    @contextmanager
    def connection(self, bounded: bool = True) -> Iterator[Any]:
        """A connection for one operation (within ``operation_timeout`` if ``bounded``), then returned."""
        if not self._slots.acquire(timeout=self._options.pool_timeout):
            raise StorageError(
                f"{self._what}: no free PostgreSQL connection after {self._options.pool_timeout} s"
            )
        try:
            deadline = time.monotonic() + self._options.operation_timeout
            idle = self._checkout(deadline if bounded else math.inf)
            try:
                with self.bounded(idle.conn, deadline) if bounded else contextlib.nullcontext():
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

    @contextmanager
    def bounded(self, conn: Any, deadline: float | None = None) -> Iterator[None]:
        """Work on ``conn`` until ``deadline`` (default: ``operation_timeout`` from now), else StorageError.

        A connection the watchdog cut is closed here, so the pool discards it.
        """
        if deadline is None:
            deadline = time.monotonic() + self._options.operation_timeout
        token = self._watchdog.arm(conn, deadline)
        try:
            yield
        except self._psycopg.Error as exc:
            if self._watchdog.disarm(token):
                conn.close()
                raise self._timed_out() from exc
            raise
        finally:
            if self._watchdog.disarm(token):  # cut just as it finished: its socket is dead all the same
                conn.close()

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
            raise self._failed(exc) from exc

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
            raise self._failed(exc) from exc

    def _failed(self, exc: Exception) -> StorageError:
        """The StorageError of a failed operation; a full disk (SQLSTATE 53100) says so plainly.

        The server's text ("could not extend file …: No space left on device") names a file the
        caller cannot act on; the transaction was rolled back, so the identical request is safe.
        """
        if getattr(exc, "sqlstate", None) == "53100":  # disk_full
            return StorageError(f"{self.what} (PostgreSQL) failed: {DISK_FULL} ({exc})")
        return StorageError(f"{self.what} (PostgreSQL) failed: {exc}")

    def read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """All rows."""
        with self._errors(), self._pool.connection() as conn:
            rows = conn.execute(sql.replace("?", "%s"), tuple(params))
            return [tuple(_plain(v) for v in row) for row in rows]

    def stream(self, sql: str, params: Sequence[object] = ()) -> Generator[tuple[Any, ...]]:
        """A server-side cursor, 1,000 rows per round trip."""
        # The caller may take its time between rows: each round trip is bounded, not the whole.
        with (
            self._errors(),
            self._pool.connection(bounded=False) as conn,
            conn.transaction(),
            conn.cursor(name="degcore_stream") as cursor,
        ):
            with self._pool.bounded(conn):
                cursor.execute(sql.replace("?", "%s"), tuple(params))
            while True:
                with self._pool.bounded(conn):
                    rows = cursor.fetchmany(1000)
                if not rows:
                    return
                for row in rows:
                    yield tuple(_plain(v) for v in row)

    def compact(self) -> None:
        """VACUUM FULL: rewrite the tables without the deleted rows (outside a transaction; unbounded)."""
        with self._errors(), self._pool.connection(bounded=False) as conn:
            conn.execute("SET statement_timeout = 0")
            conn.execute("VACUUM FULL")
            conn.execute("RESET statement_timeout")

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
