"""The stores: SQLite (WAL, foreign keys, full sync) or PostgreSQL, one transaction per operation.

:func:`open_database` picks the engine from a location that :func:`parse_location` reads strictly
(a path, ``sqlite:///path`` or ``postgresql://…``; anything else is :class:`InvalidInput`); callers
write their SQL once with ``?`` placeholders and ``ON CONFLICT`` clauses that both engines accept,
and keep one schema (PostgreSQL gets :func:`postgres_schema` of it).

docs/deployment.md §1. :mod:`degcore.storage.sqlite` is the SQLite engine
(:func:`~degcore.storage.sqlite.connect`, :func:`~degcore.storage.sqlite.immediate`);
:mod:`degcore.storage.base` holds the protocols every engine implements.

PostgreSQL (:mod:`degcore.storage.postgres`) takes :class:`PostgresOptions`: timeouts, pool size
and how it reconnects; SQLite takes :class:`SqliteOptions`: how long a writer waits for the lock.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from degcore.errors import InvalidInput
from degcore.storage.base import Database, StoreService, Transaction
from degcore.storage.postgres import PostgresDatabase, PostgresOptions, postgres_schema
from degcore.storage.sqlite import SqliteDatabase, SqliteOptions, connect, immediate

__all__ = [
    "Database",
    "Location",
    "PostgresDatabase",
    "PostgresOptions",
    "SqliteDatabase",
    "SqliteOptions",
    "StoreService",
    "Transaction",
    "connect",
    "immediate",
    "open_database",
    "parse_location",
    "postgres_schema",
]


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


def open_database(
    location: str | Path,
    what: str,
    *,
    schema: str,
    lock_tables: Sequence[str],
    postgres: PostgresOptions | None = None,
    sqlite: SqliteOptions | None = None,
) -> Database:
    """The store a location names (:func:`parse_location`) with the options of its engine.

    ``schema`` is written for SQLite; PostgreSQL gets :func:`postgres_schema` of it.
    """
    parsed = parse_location(location, what)
    if parsed.engine == "postgresql":
        return PostgresDatabase(parsed.target, what, postgres_schema(schema), lock_tables, postgres)
    return SqliteDatabase(parsed.target, what, schema, sqlite)
