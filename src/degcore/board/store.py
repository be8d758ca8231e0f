"""Where the ballot box keeps its log: SQLite (embedded default) or PostgreSQL, chosen by a URL.

docs/deployment.md. Both stores give the box the same three things: a write
transaction that excludes every other writer of the log (SQLite ``BEGIN IMMEDIATE``; PostgreSQL
``LOCK TABLE log IN EXCLUSIVE MODE``, which readers do not wait for), reads, and streamed reads.
The rules that must hold under concurrent writers live in the schema (written once; PostgreSQL
gets :func:`degcore.storage.postgres_schema` of it): the log's
position is its primary key, and a partial UNIQUE index allows one counted ballot per credential.
The box's SQL is written once with ``?`` placeholders; the PostgreSQL store rewrites them.

Locations (:func:`degcore.storage.parse_location`): a path or ``sqlite:///path`` → SQLite;
``postgresql://…`` or ``postgres://…`` → PostgreSQL through ``psycopg`` 3 (the ``degcore[postgres]``
extra) with the options of :class:`degcore.storage.PostgresOptions`; anything else is refused.
The ``state`` table binds the store to one election, one policy and one box key.
"""

from __future__ import annotations

from pathlib import Path

from degcore.storage import Database, PostgresOptions, SqliteOptions, Transaction, open_database

__all__ = ["BoxStore", "Transaction", "open_box_store"]

_SCHEMA = """
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

BoxStore = Database


def open_box_store(
    location: str | Path, *, postgres: PostgresOptions | None = None, sqlite: SqliteOptions | None = None
) -> BoxStore:
    """The box's store: ``postgresql://…``, ``sqlite:///path`` or a plain path (parsed strictly)."""
    return open_database(
        location, "ballot box", schema=_SCHEMA, lock_tables=("log",), postgres=postgres, sqlite=sqlite
    )
