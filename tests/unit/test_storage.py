"""Store locations are parsed strictly; PostgreSQL options refuse values that cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest
from nacl.signing import SigningKey

from degcore.board import BallotBox
from degcore.errors import InvalidInput, StorageError
from degcore.groups import get_group
from degcore.issuance import Issuer
from degcore.registry.store import open_store
from degcore.storage import Location, PostgresOptions, parse_location
from tests.election_fixtures import ENDS, STARTS, election


class _NoOracle:
    """An eligibility oracle the issuer never gets to ask (its store is refused first)."""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://degcore@127.0.0.1:5432/degcore", Location("postgresql", "postgresql://degcore@127.0.0.1:5432/degcore")),
        ("postgres://u@h/db?sslmode=require", Location("postgresql", "postgres://u@h/db?sslmode=require")),
        ("sqlite:///box.sqlite", Location("sqlite", "box.sqlite")),
        ("sqlite:////var/lib/degcore/box.sqlite", Location("sqlite", "/var/lib/degcore/box.sqlite")),
        ("box.sqlite", Location("sqlite", "box.sqlite")),
        ("/var/lib/degcore/box.sqlite", Location("sqlite", "/var/lib/degcore/box.sqlite")),
        ("./data/postgresql/box.sqlite", Location("sqlite", "./data/postgresql/box.sqlite")),
    ],
)  # fmt: skip
def test_each_accepted_location_means_one_engine(text: str, expected: Location) -> None:
    assert parse_location(text, "ballot box") == expected


@pytest.mark.parametrize(
    "text",
    [
        "postgresql:box",  # no //
        "postgresql:/box.sqlite",  # a folder named "postgresql:" in the working directory
        "postgres:",
        "PostgreSQL://h/db",  # libpq knows only the lowercase schemes
        "mysql://h/db",
        "sqlite://box.sqlite",  # two slashes: a host, not a path
        "sqlite:///",
        "sqlite:box.sqlite",
        "file:///tmp/box.sqlite",
        "http://example.org/box",
        "data/x://y",
        "",
        " box.sqlite",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_location(text, "ballot box")


def test_a_folder_named_postgresql_colon_gets_no_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mistake of issue 19: ``postgresql:`` as a folder made a SQLite file appear inside it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "postgresql:").mkdir()
    e = election(get_group("ristretto255"))
    for location in ("postgresql:/box.sqlite", Path("postgresql:") / "box.sqlite", "postgresql:box.sqlite"):
        with pytest.raises(InvalidInput, match="location"):
            BallotBox(location, e.context, e.public_keys, SigningKey.generate())
        with pytest.raises(InvalidInput, match="location"):
            open_store(location)
        with pytest.raises(InvalidInput, match="location"):
            Issuer(
                location, "e2026", e.issuer, _NoOracle(), log_key=SigningKey.generate(), window=(STARTS, ENDS)
            )
    assert list((tmp_path / "postgresql:").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["postgresql:"]


def test_sqlite_urls_and_paths_open_the_same_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    e = election(get_group("ristretto255"))
    key = SigningKey.generate()
    for location in (
        "box.sqlite",
        "sqlite:///box.sqlite",
        f"sqlite:///{tmp_path}/box.sqlite",
        tmp_path / "box.sqlite",
    ):
        BallotBox(location, e.context, e.public_keys, key).close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".sqlite") == ["box.sqlite"]


@pytest.mark.parametrize(
    "options",
    [
        {"connect_timeout": 1},
        {"pool_size": 0},
        {"pool_timeout": 0},
        {"max_lifetime": -1},
        {"idle_check": -0.5},
        {"operation_timeout": 0.1},
        {"operation_timeout": 100_000},
    ],
)
def test_postgres_options_that_cannot_work_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        PostgresOptions(**options)  # type: ignore[arg-type]


def test_a_closed_sqlite_store_says_so(tmp_path: Path) -> None:
    """Using a service after close() gets degcore's StorageError, not the driver's ProgrammingError."""
    e = election(get_group("ristretto255"))
    box = BallotBox(tmp_path / "box.sqlite", e.context, e.public_keys, SigningKey(bytes(32)))
    box.close()
    box.close()  # idempotent
    for use in (box.counts, box.head, lambda: list(box.log())):
        with pytest.raises(StorageError, match="was closed"):
            use()


def test_postgres_session_parameters_bound_every_operation_and_yield_to_the_url() -> None:
    """Server timeouts, keepalives and tcp_user_timeout from operation_timeout; the URL's own win."""
    pytest.importorskip("psycopg", reason="the postgres extra is not installed")
    derived = PostgresOptions(operation_timeout=8).session_parameters("postgresql://u@h/db")
    assert derived["tcp_user_timeout"] == 8000 and derived["keepalives"] == 1
    assert derived["options"] == (
        "-c statement_timeout=8000 -c lock_timeout=8000 -c idle_in_transaction_session_timeout=16000"
    )
    url = "postgresql://u@h/db?keepalives_idle=30&options=-csearch_path%3Dmine"
    given = PostgresOptions(operation_timeout=8).session_parameters(url)
    assert "keepalives_idle" not in given and given["tcp_user_timeout"] == 8000
    assert str(given["options"]).startswith("-c statement_timeout=8000 ")  # ours first …
    assert str(given["options"]).endswith(" -csearch_path=mine")  # … so the URL's settings win
