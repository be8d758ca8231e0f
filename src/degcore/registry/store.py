"""The registry's schema (docs/deployment.md §1): the rules that must hold under concurrent writers live here.

- One active application per voter, per СНИЛС and per passport: partial UNIQUE indexes over the
  active states, so two portals racing to file the same person cannot both win.
- A phone belongs to one applicant: ``phones`` has the phone as its primary key.
- Foreign keys tie transitions, consents, uploads and codes to their application.
- One channel per voter: a voter's credential claim (``claimed_style``) is one column of the voter's
  own row, and a CHECK refuses any row where a claim stands beside the paper channel or a paper
  vote. Whatever the code above it does, the database never holds a voter who both received a
  credential and was put back on the paper list or marked as having voted on paper.
- The frozen remote list and its counts are stored once each (``publications``, keyed by kind).
"""

from __future__ import annotations

from pathlib import Path

from degcore.registry.status import ACTIVE_STATES
from degcore.storage import Database, PostgresOptions, SqliteOptions, open_database

__all__ = ["ACTIVE_SQL", "open_store"]

#: The active statuses as an SQL list (one active application per voter, СНИЛС, passport, key).
ACTIVE_SQL = ", ".join(f"'{s}'" for s in sorted(ACTIVE_STATES))
_ACTIVE = ACTIVE_SQL

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS voters (
    voter_id        TEXT PRIMARY KEY,
    full_name       TEXT NOT NULL,
    birth_date      TEXT NOT NULL,
    citizen         INTEGER NOT NULL CHECK (citizen IN (0, 1)),
    district        TEXT NOT NULL,
    disenfranchised INTEGER NOT NULL CHECK (disenfranchised IN (0, 1)),
    channel         TEXT NOT NULL DEFAULT 'paper' CHECK (channel IN ('paper', 'remote')),
    voted_on_paper  INTEGER NOT NULL DEFAULT 0 CHECK (voted_on_paper IN (0, 1)),
    claimed_style   TEXT,
    claimed_at      TEXT,
    CHECK ((claimed_style IS NULL) = (claimed_at IS NULL)),
    CHECK (claimed_style IS NULL OR (channel = 'remote' AND voted_on_paper = 0))
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS applications (
    number          TEXT PRIMARY KEY,
    voter_id        TEXT NOT NULL REFERENCES voters (voter_id),
    status          TEXT NOT NULL,
    previous        TEXT REFERENCES applications (number),
    full_name       TEXT NOT NULL,
    birth_date      TEXT NOT NULL,
    passport        TEXT NOT NULL,
    passport_issued TEXT NOT NULL,
    passport_issuer TEXT NOT NULL,
    division_code   TEXT,
    snils           TEXT NOT NULL,
    inn             TEXT,
    phone           TEXT NOT NULL,
    email           TEXT,
    district        TEXT NOT NULL,
    address         TEXT NOT NULL,
    voter_key       TEXT NOT NULL,
    reasons         TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS one_active_per_voter ON applications (voter_id) WHERE status IN ({_ACTIVE});
CREATE UNIQUE INDEX IF NOT EXISTS one_active_per_snils ON applications (snils) WHERE status IN ({_ACTIVE});
CREATE UNIQUE INDEX IF NOT EXISTS one_active_per_passport ON applications (passport)
    WHERE status IN ({_ACTIVE});
CREATE UNIQUE INDEX IF NOT EXISTS one_active_per_voter_key ON applications (voter_key)
    WHERE status IN ({_ACTIVE});

CREATE TABLE IF NOT EXISTS enrollments (
    voter_id     TEXT PRIMARY KEY REFERENCES voters (voter_id),
    number       TEXT NOT NULL UNIQUE REFERENCES applications (number),
    voter_ref    BLOB NOT NULL UNIQUE,
    salt         BLOB NOT NULL,
    voter_key    BLOB NOT NULL UNIQUE,
    ballot_style TEXT NOT NULL,
    enrolled_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS phones (
    phone    TEXT PRIMARY KEY,
    voter_id TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS transitions (
    id          INTEGER PRIMARY KEY,
    number      TEXT NOT NULL REFERENCES applications (number) ON DELETE CASCADE,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    reasons     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS consents (
    number   TEXT NOT NULL REFERENCES applications (number) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    version  TEXT NOT NULL,
    given_at TEXT NOT NULL,
    PRIMARY KEY (number, kind)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS uploads (
    number      TEXT NOT NULL REFERENCES applications (number) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    mime        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (number, kind)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS codes (
    number    TEXT PRIMARY KEY REFERENCES applications (number) ON DELETE CASCADE,
    mac       BLOB NOT NULL,
    issued_at TEXT NOT NULL,
    failures  INTEGER NOT NULL DEFAULT 0,
    used      INTEGER NOT NULL DEFAULT 0,
    -- set while a code confirms a replacement voter key (a lost device), not the application
    new_key   TEXT
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS audit (
    seq     INTEGER PRIMARY KEY,
    at      TEXT,
    actor   TEXT,
    action  TEXT,
    subject TEXT,
    result  TEXT,
    prev    BLOB NOT NULL,
    hash    BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS publications (
    kind TEXT PRIMARY KEY,
    body TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS aggregates (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
"""


def open_store(
    location: str | Path, *, postgres: PostgresOptions | None = None, sqlite: SqliteOptions | None = None
) -> Database:
    """Open the registry's store (a SQLite path or a ``postgresql://`` URL), creating its tables.

    On PostgreSQL every write transaction locks the audit table: each operation appends to the
    audit chain, so the operations are serialised exactly as SQLite's write lock serialises them.
    """
    return open_database(
        location, "registry store", schema=SCHEMA, lock_tables=("audit",), postgres=postgres, sqlite=sqlite
    )
