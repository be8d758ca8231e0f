"""What the observer tests share: a published election, signed ballots, a box, a dishonest box's tools."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from degcore.ballot import ElectionContext
from degcore.board import BallotBox, CastBallot
from degcore.board.log import entry_hash
from degcore.groups import get_group
from degcore.observe import Observer, StoreFeed, load_published
from degcore.observe.follow import Event, write_published
from degcore.parallel import SERIAL
from tests.record_fixtures import BOX_KEY, cast, credential, issuer_key, setup_for


@dataclass
class World:
    """The published files, the context and ballots ready to cast (style b: one contest)."""

    published: Path
    context: ElectionContext
    casts: list[CastBallot]

    @property
    def issuer_keys(self) -> dict[str, rsa.RSAPublicKey]:
        return {s: issuer_key(s).public_key() for s in ("a", "b")}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    context, _ = setup_for(get_group("ristretto255"))
    published = write_published(tmp_path_factory.mktemp("published") / "published", context)
    casts = [cast(context, credential("b"), {"mayor": {f"m{i % 3}": 1}}) for i in range(10)]
    return World(published, context, casts)


@pytest.fixture
def open_box(world: World) -> Iterator[Callable[[str], BallotBox]]:
    boxes: list[BallotBox] = []

    def make(location: str) -> BallotBox:
        boxes.append(BallotBox(location, world.context, world.issuer_keys, BOX_KEY))
        return boxes[-1]

    yield make
    for box in boxes:
        box.close()


@pytest.fixture
def observe(world: World) -> Iterator[Callable[..., tuple[Observer, list[Event]]]]:
    """observe(location, state) → a new observer run (a restart, each call) and its events."""
    feeds: list[StoreFeed] = []
    published = load_published(world.published)

    def make(location: str, state: Path, **options: object) -> tuple[Observer, list[Event]]:
        events: list[Event] = []
        feeds.append(StoreFeed(location, world.context))
        observer = Observer(published, state, feeds[-1], executor=SERIAL, on_event=events.append, **options)  # type: ignore[arg-type]
        return observer, events

    yield make
    for feed in feeds:
        feed.close()


# --- the dishonest box: it holds its own key, so it re-chains and re-signs whatever it rewrites ----
def _connect(location: str) -> tuple[object, str]:
    if location.startswith("postgresql://"):
        import psycopg  # noqa: PLC0415 - only where PostgreSQL is configured

        return psycopg.connect(location, autocommit=True), "%s"
    return sqlite3.connect(location, isolation_level=None), "?"


def log_rows(location: str) -> list[tuple[int, str, bytes, str]]:
    """(position, kind, payload, at) of every entry, in order."""
    conn, _ = _connect(location)
    try:
        rows = conn.execute("SELECT position, kind, payload, at FROM log ORDER BY position")  # type: ignore[attr-defined]
        return [(int(r[0]), str(r[1]), bytes(r[2]), str(r[3])) for r in rows]
    finally:
        conn.close()  # type: ignore[attr-defined]


def rewrite(location: str, entries: list[tuple[str, bytes, str]], *, from_position: int = 1) -> None:
    """Replace the log from ``from_position`` on with ``entries`` (kind, payload, at), re-chained, re-signed.

    The table names and placeholders are this module's own: no outside text reaches the SQL.
    """
    conn, mark = _connect(location)
    try:
        prev_rows = list(
            conn.execute(f"SELECT hash FROM log WHERE position = {mark}", (from_position - 1,))  # type: ignore[attr-defined]  # noqa: S608
        )
        prev = bytes(prev_rows[0][0]) if prev_rows else bytes(32)
        for table in ("ballots", "challenged"):
            conn.execute(f"DELETE FROM {table} WHERE position >= {mark}", (from_position,))  # type: ignore[attr-defined]  # noqa: S608
        conn.execute(f"DELETE FROM log WHERE position >= {mark}", (from_position,))  # type: ignore[attr-defined]  # noqa: S608
        for position, (kind, payload, at) in enumerate(entries, start=from_position):
            digest = entry_hash(prev, position, kind, payload, at)
            signature = BOX_KEY.sign(digest).signature
            marks = ", ".join([mark] * 7)
            conn.execute(  # type: ignore[attr-defined]
                f"INSERT INTO log (position, kind, payload, at, prev, hash, signature) VALUES ({marks})",  # noqa: S608
                (position, kind, payload, at, prev, digest, signature),
            )
            prev = digest
    finally:
        conn.close()  # type: ignore[attr-defined]
