r"""What every store shares: the transaction and database protocols and the service base class.

The engines (:mod:`degcore.storage.sqlite`, :mod:`degcore.storage.postgres`) implement
:class:`Database`; the box, its reader, the issuer and the registry are :class:`StoreService`\ s.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any, Protocol, Self

__all__ = ["DISK_FULL", "Database", "StoreService", "Transaction"]

#: What every engine says when the file system holding the store is full (SQLITE_FULL, PostgreSQL's
#: SQLSTATE 53100): the transaction was rolled back whole, so the caller may retry it (issue 27).
DISK_FULL = (
    "the disk holding the store is full (no space left on device); nothing was written:"
    " once space is freed, send the identical request again"
)


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
