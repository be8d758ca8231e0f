"""Signed hash chains and signed objects: what the box, the issuer, the registry and the authority sign.

**Signed objects** (docs/protocol.md §2.3). A signed record object carries ``"signature"``: the
Ed25519 signature, by the key named for that type, on the RFC 8785 canonical JSON of the object
without its ``signature`` key. The object's own ``format`` and ``type`` fields separate the
domains, so a signature on one type of object never verifies as another.

**Signed chains**: the one shape shared by the ballot box's log and the issuer's issuance log.

docs/protocol.md §9.2. Entry n (positions start at 1) is ``(n, kind, payload, at)`` with

    hash_n = sha256(tag, hash_{n−1}, u64(n), kind, sha256(payload), at),   hash_0 = 32 zero bytes

(the length-prefixed SHA-256 of :func:`degcore.hashing.sha256`, the inner ``sha256(payload)``
being the same function over the single part ``payload``), and the chain owner's Ed25519
signature on hash_n. ``tag`` separates the chains (``degcore/4/board``, ``degcore/4/issuance``),
so an entry of one can never pass as an entry of another. Times are RFC 3339 UTC strings and
never decrease along a chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from degcore.encoding import (
    JsonValue,
    canonical_json,
    from_hex,
    from_rfc3339,
    member_bytes,
    parse_canonical,
    read_record,
    record_header,
)
from degcore.errors import InvalidInput, VerificationFailed
from degcore.hashing import sha256

__all__ = [
    "GENESIS",
    "ChainEntry",
    "entry_from_line",
    "entry_line",
    "link_hash",
    "parse_entry_line",
    "sign_object",
    "verify_chain",
    "verify_object",
]

_LINE_KEYS = {"position", "kind", "at", "payload", "prev", "hash", "signature"}

GENESIS = bytes(32)


def link_hash(tag: bytes, prev: bytes, position: int, *, kind: str, payload: bytes, at: str) -> bytes:
    """hash_n of the entry at ``position`` of the chain ``tag``."""
    return sha256(tag, prev, position.to_bytes(8, "big"), kind.encode(), sha256(payload), at.encode())


@dataclass(frozen=True, slots=True)
class ChainEntry:
    """One entry of a signed chain as stored and published."""

    position: int
    kind: str
    payload: bytes
    at: str
    prev: bytes
    hash: bytes
    signature: bytes


def entry_line(record_type: str, entry: ChainEntry) -> dict[str, JsonValue]:
    """The record line of an entry: its payload embedded as the object whose canonical bytes it is."""
    return {
        **record_header(record_type),
        "position": entry.position,
        "kind": entry.kind,
        "at": entry.at,
        "payload": json.loads(entry.payload),
        "prev": entry.prev.hex(),
        "hash": entry.hash.hex(),
        "signature": entry.signature.hex(),
    }


def entry_from_line(record_type: str, obj: object) -> ChainEntry:
    """Parse a record line strictly back into its entry (the payload's bytes are its canonical JSON)."""
    return _entry(record_type, obj, None)


def parse_entry_line(record_type: str, line: bytes, what: str) -> tuple[ChainEntry, dict[str, object]]:
    """A record line's bytes (a final newline allowed), strictly: its entry and its parsed object.

    The line must be the canonical JSON of its object, so the payload's canonical bytes are cut
    out of the line rather than written again.
    """
    data = line[:-1] if line.endswith(b"\n") else line
    obj = parse_canonical(data, what)
    return _entry(record_type, obj, data), obj  # type: ignore[return-value] # _entry checked it is an object


def _entry(record_type: str, obj: object, canonical: bytes | None) -> ChainEntry:
    """:func:`entry_from_line`; ``canonical``: the object's own canonical bytes, if at hand."""
    f = read_record(obj, record_type, _LINE_KEYS)
    position, kind, at, payload = f["position"], f["kind"], f["at"], f["payload"]
    if type(position) is not int or position < 1:
        raise InvalidInput(f"{record_type}: position must be a positive integer")
    if not isinstance(kind, str) or not isinstance(payload, Mapping):
        raise InvalidInput(f"{record_type}: kind must be text and payload an object")
    from_rfc3339(at, f"{record_type} at")
    prev, hash_, signature = (
        from_hex(f["prev"], 32, "prev"),
        from_hex(f["hash"], 32, "hash"),
        from_hex(f["signature"], 64, "signature"),
    )
    # Sorted, the members are at, format, hash, kind, payload, position, prev, signature, type: all
    # but the payload are checked strings and an integer by now, as member_bytes requires.
    if canonical is None:
        payload_bytes = canonical_json(payload)
    else:
        payload_bytes = member_bytes(canonical, "payload", "position")
    return ChainEntry(position, kind, payload_bytes, str(at), prev, hash_, signature)


def verify_chain(
    tag: bytes, entries: Iterable[ChainEntry], key: bytes, *, check: str = "chain", item: str = "entry"
) -> int:
    """Check positions, links, hashes, signatures and time order; the entry count.

    The first bad entry raises VerificationFailed(``check``, "``item`` N", what is wrong there).
    """
    verifier = VerifyKey(key)
    prev, expected, count = GENESIS, 1, 0
    last_at: datetime | None = None

    def broken(position: int, why: str) -> VerificationFailed:
        return VerificationFailed(check, f"{item} {position}", why)

    for entry in entries:
        count += 1
        if entry.position != expected:
            raise broken(expected, f"{item} {expected} is missing")
        if entry.prev != prev:
            raise broken(entry.position, "does not link to the previous entry")
        recomputed = link_hash(tag, prev, entry.position, kind=entry.kind, payload=entry.payload, at=entry.at)
        if recomputed != entry.hash:
            raise broken(entry.position, "hash does not match the entry")
        try:
            verifier.verify(entry.hash, entry.signature)
        except (BadSignatureError, ValueError, TypeError):
            raise broken(entry.position, "signature does not verify") from None
        try:
            at = from_rfc3339(entry.at, "at")
        except InvalidInput as exc:
            raise broken(entry.position, str(exc)) from None
        if last_at is not None and at < last_at:
            raise broken(entry.position, f"time {entry.at} is before the previous entry's")
        prev, expected, last_at = entry.hash, expected + 1, at
    return count


def _unsigned(obj: Mapping[str, object]) -> bytes:
    return canonical_json({k: v for k, v in obj.items() if k != "signature"})  # type: ignore[misc]


def sign_object(key: SigningKey, obj: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    """``obj`` with its ``signature``: Ed25519 on the canonical JSON of ``obj`` minus the signature."""
    if "signature" in obj:
        raise InvalidInput("the object is already signed")
    return {**obj, "signature": key.sign(_unsigned(obj)).signature.hex()}


def verify_object(obj: Mapping[str, object], key: bytes, what: str) -> None:
    """Check a signed object's ``signature`` under ``key``; VerificationFailed(what) if it fails."""
    signature = from_hex(obj.get("signature"), 64, f"{what} signature")
    try:
        VerifyKey(key).verify(_unsigned(obj), signature)
    except (BadSignatureError, ValueError, TypeError):
        raise VerificationFailed(what, str(obj.get("type", "")), "signature does not verify") from None
