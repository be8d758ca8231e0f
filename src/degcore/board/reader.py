"""Reading a ballot box's store without its signing key: what the tallier and the record writer use.

docs/integration.md. :class:`BoxReader` opens the box's store (a SQLite file or a PostgreSQL URL)
for reading and checks that it belongs to this election; it streams the log as published and the
counted ballots. It holds no secret: the box's signing key stays with the box.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from contextlib import closing
from pathlib import Path

from degcore.ballot import ElectionContext
from degcore.board.cast import CastBallot
from degcore.board.log import GENESIS, LogEntry
from degcore.board.store import BoxStore, open_box_store
from degcore.errors import InvalidInput
from degcore.storage import PostgresOptions, SqliteOptions, StoreService

__all__ = ["BoxReader"]

_COUNTED = (
    "SELECT log.payload FROM ballots JOIN log ON log.position = ballots.position"
    " WHERE ballots.status = 'counted' ORDER BY log.position"
)


class BoxReader(StoreService):
    """One election's ballot box store, read only (no signing key needed)."""

    context: ElectionContext
    _store: BoxStore

    def __init__(
        self,
        location: str | Path,
        context: ElectionContext,
        *,
        postgres: PostgresOptions | None = None,
        sqlite: SqliteOptions | None = None,
    ) -> None:
        self.context = context
        self._store = open_box_store(location, postgres=postgres, sqlite=sqlite)
        rows = self._store.read("SELECT value FROM state WHERE key = 'election'")
        if not rows or rows[0][0] != context.base_hash.hex():
            self._store.close()
            raise InvalidInput(f"{location} is not the ballot box of this election")

    def counted(self) -> Iterator[CastBallot]:
        """The counted ballots in log order (streamed, decoded with membership checks)."""
        for (payload,) in self._store.stream(_COUNTED):
            yield CastBallot.from_json(self.context, json.loads(payload))

    def counts(self) -> dict[str, int]:
        """How many ballots are counted, superseded and challenged."""
        rows = dict(self._store.read("SELECT status, COUNT(*) FROM ballots GROUP BY status"))
        rows["challenged"] = self._store.read("SELECT COUNT(*) FROM challenged")[0][0]
        return {k: rows.get(k, 0) for k in ("counted", "superseded", "challenged")}

    def log(self) -> Generator[LogEntry]:
        """Every log entry in position order (streamed): what the election record publishes."""
        query = "SELECT position, kind, payload, at, prev, hash, signature FROM log ORDER BY position"
        with closing(self._store.stream(query)) as rows:  # an abandoned walk ends its read transaction
            for row in rows:
                yield LogEntry(*row)

    def entries(self, start: int, limit: int) -> list[LogEntry]:
        """At most ``limit`` log entries from position ``start`` on, in order (the feed's page)."""
        query = (
            "SELECT position, kind, payload, at, prev, hash, signature FROM log"
            " WHERE position >= ? ORDER BY position LIMIT ?"
        )
        return [
            LogEntry(r[0], r[1], bytes(r[2]), r[3], bytes(r[4]), bytes(r[5]), bytes(r[6]))
            for r in self._store.read(query, (start, limit))
        ]

    def head_position(self) -> tuple[int, bytes]:
        """The position and hash of the last log entry ((0, GENESIS) for an empty log)."""
        rows = self._store.read("SELECT position, hash FROM log ORDER BY position DESC LIMIT 1")
        return (0, GENESIS) if not rows else (int(rows[0][0]), bytes(rows[0][1]))

    def head(self) -> bytes:
        """The hash of the last log entry (GENESIS for an empty log)."""
        rows = self._store.read("SELECT hash FROM log ORDER BY position DESC LIMIT 1")
        return GENESIS if not rows else bytes(rows[0][0])
