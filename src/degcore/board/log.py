"""The ballot box's append-only log: a hash chain of entries, each signed by the box (Ed25519).

docs/protocol.md §9.2. Entry n (positions start at 1) is ``(n, kind, payload, at)`` with

    hash_n = SHA-256("degcore/2/board" ‖ hash_{n−1} ‖ u64(n) ‖ kind ‖ SHA-256(payload) ‖ at)

(length-prefixed fields, :func:`degcore.hashing.sha256`; hash_0 = 32 zero bytes) and the box's
signature on hash_n. ``kind`` is ``ballot`` (payload: the cast ballot's canonical JSON),
``challenge`` (the opened ballot's) or ``close``. A receipt for entry n is hash_n with its
signature; anyone holding the log can check that it is there and that nothing before it changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from degcore.hashing import sha256

__all__ = ["GENESIS", "LogEntry", "entry_hash", "read_log", "verify_entries"]

GENESIS = bytes(32)


def entry_hash(prev: bytes, position: int, kind: str, payload: bytes, at: str) -> bytes:
    """hash_n of the entry at ``position``."""
    return sha256(
        b"degcore/2/board", prev, position.to_bytes(8, "big"), kind.encode(), sha256(payload), at.encode()
    )


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One entry of the log as stored and published."""

    position: int
    kind: str
    payload: bytes
    at: str
    prev: bytes
    hash: bytes
    signature: bytes


def read_log(conn: sqlite3.Connection) -> Iterator[LogEntry]:
    """Every entry in position order (streamed)."""
    query = "SELECT position, kind, payload, at, prev, hash, signature FROM log ORDER BY position"
    for row in conn.execute(query):
        yield LogEntry(row[0], row[1], bytes(row[2]), row[3], bytes(row[4]), bytes(row[5]), bytes(row[6]))


def verify_entries(entries: Iterator[LogEntry], box_key: bytes) -> tuple[int, int | None, str]:
    """Check the chain and every signature: (entries checked, first bad position or None, why)."""
    verifier = VerifyKey(box_key)
    prev, expected, count = GENESIS, 1, 0
    for entry in entries:
        count += 1
        if entry.position != expected:
            return count, expected, f"position {expected} is missing"
        if entry.prev != prev:
            return count, entry.position, "does not link to the previous entry"
        if entry_hash(prev, entry.position, entry.kind, entry.payload, entry.at) != entry.hash:
            return count, entry.position, "hash does not match the entry"
        try:
            verifier.verify(entry.hash, entry.signature)
        except BadSignatureError:
            return count, entry.position, "box signature does not verify"
        prev, expected = entry.hash, expected + 1
    return count, None, ""
