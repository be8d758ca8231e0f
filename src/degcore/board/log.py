"""The ballot box's append-only log: the signed hash chain of :mod:`degcore.chain`, tag ``degcore/4/board``.

docs/protocol.md §9.2. Entry n (positions start at 1) is ``(n, kind, payload, at)`` with

    hash_n = sha256("degcore/4/board", hash_{n−1}, u64(n), kind, sha256(payload), at)

(length-prefixed fields, :func:`degcore.hashing.sha256`; hash_0 = 32 zero bytes) and the box's
signature on hash_n. ``kind`` is ``ballot`` (payload: the cast ballot's canonical JSON),
``challenge`` (the opened ballot's) or ``close``. Times never decrease along the log.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

from degcore.chain import GENESIS, ChainEntry, link_hash, verify_chain

__all__ = ["GENESIS", "TAG", "LogEntry", "entry_hash", "read_log", "verify_entries"]

#: The chain tag of the box's log.
TAG = b"degcore/4/board"

#: One entry of the log as stored and published.
LogEntry = ChainEntry


def entry_hash(prev: bytes, position: int, kind: str, payload: bytes, at: str) -> bytes:
    """hash_n of the entry at ``position``."""
    return link_hash(TAG, prev, position, kind=kind, payload=payload, at=at)


def read_log(conn: sqlite3.Connection) -> Iterator[LogEntry]:
    """Every entry in position order (streamed)."""
    query = "SELECT position, kind, payload, at, prev, hash, signature FROM log ORDER BY position"
    for row in conn.execute(query):
        yield LogEntry(row[0], row[1], bytes(row[2]), row[3], bytes(row[4]), bytes(row[5]), bytes(row[6]))


def verify_entries(entries: Iterable[LogEntry], box_key: bytes) -> int:
    """Check positions, links, hashes, signatures and time order; the entry count.

    The first bad entry raises VerificationFailed("box-log", "position N", what is wrong there).
    """
    return verify_chain(TAG, entries, box_key, check="box-log", item="position")
