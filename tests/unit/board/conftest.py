"""The ballot box's tests run against both stores: SQLite, and PostgreSQL where a server is reachable.

Set ``DEGCORE_POSTGRES_URL`` (``.ci/run`` starts a server and sets it) to run the PostgreSQL half;
without it those tests skip and say so. Each test gets its own PostgreSQL schema.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get("DEGCORE_POSTGRES_URL", "")


def _with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def box_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh ballot box location: a SQLite file, or a new schema in the PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "box.sqlite")
        return
    if not POSTGRES_URL:
        pytest.skip(
            "PostgreSQL not configured: set DEGCORE_POSTGRES_URL (.ci/run starts a server and sets it)"
        )
    psycopg = pytest.importorskip("psycopg", reason="the postgres extra is not installed")
    schema = f"box_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield _with_schema(POSTGRES_URL, schema)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def execute(location: str, sql: str) -> None:
    """Run one statement on a box's store behind its back (tamper tests)."""
    if location.startswith("postgresql://"):
        import psycopg  # noqa: PLC0415 - only where PostgreSQL is configured

        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute(sql)
    else:
        with sqlite3.connect(location) as conn:
            conn.execute(sql)
