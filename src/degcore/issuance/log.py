"""The issuer's signed issuance log: entries, record lines, the voter reference (docs/protocol.md §5.4).

The log is a :mod:`degcore.chain` chain with tag ``degcore/4/issuance``, signed by the issuer's
own Ed25519 log key. Entry payloads are the canonical JSON of exactly

    {"type": "issued", "voter_ref": hex32, "ballot_style": S, "request_sha256": hex32,
     "voter_signature": hex64}
    {"type": "close", "issued": {S: n, …}}

one ``issued`` entry per credential, then one ``close`` entry, the last. ``voter_signature`` is
the voter's own Ed25519 signature on her credential request
(:func:`degcore.issuance.enrollment.credential_request`), under the key the published enrollment
list gives for ``voter_ref``: the issuer cannot log a credential that no enrolled voter asked for.
Entry times are coarsened (:func:`coarsen`) before they are hashed, so the published log never says to the
second when a voter got her credential (§5.4: issuance times would let the box, or anyone
watching both logs, link a credential's first ballot to the voter issued just before it).

The **voter reference** is ``sha256("degcore/4/voter-ref", E, voter_id, salt)`` (the
length-prefixed :func:`degcore.hashing.sha256`, ids as UTF-8) with 32 random bytes ``salt`` that
the *registry* draws once per voter when it enrolls her key and hands to her in her signed
enrollment receipt: it is stable across retries and key replacements, it is not computable from
the (guessable) voter id alone, and the voter can recompute it and find her own entries in the
enrollment list and the issuance log. The issuer receives the reference with the voter's key and
style, never the salt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from degcore.chain import ChainEntry, entry_line, link_hash, parse_entry_line
from degcore.encoding import (
    JsonValue,
    canonical_json,
    from_hex,
    from_rfc3339,
    parse_canonical,
    read_record,
    record_header,
)
from degcore.errors import InvalidInput, VerificationFailed
from degcore.hashing import sha256
from degcore.ids import check_id

__all__ = [
    "ISSUANCE_TAG",
    "SALT_BYTES",
    "Closed",
    "IssuanceReceipt",
    "Issued",
    "close_payload",
    "coarsen",
    "issuance_line",
    "issued_payload",
    "parse_issuance_line",
    "parse_payload",
    "voter_reference",
]

#: The chain tag of the issuance log (docs/protocol.md §9.2 for the chain itself).
ISSUANCE_TAG = b"degcore/4/issuance"
_VOTER_REF_TAG = b"degcore/4/voter-ref"
#: Bytes of the per-voter salt of the voter reference.
SALT_BYTES = 32
_MAX_SAFE_INT = 2**53 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def voter_reference(election_id: str, voter_id: str, salt: bytes) -> bytes:
    """The voter's pseudonymous reference: sha256("degcore/4/voter-ref", E, voter_id, salt)."""
    check_id(election_id, "election_id")
    check_id(voter_id, "voter_id")
    if not isinstance(salt, bytes) or len(salt) != SALT_BYTES:
        raise InvalidInput(f"the voter reference salt must be {SALT_BYTES} bytes")
    return sha256(_VOTER_REF_TAG, election_id.encode(), voter_id.encode(), salt)


def coarsen(moment: datetime, granularity: timedelta) -> datetime:
    """``moment`` rounded down to a multiple of ``granularity`` counted from 1970-01-01T00:00:00Z."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput("times must be timezone-aware")
    return _EPOCH + ((moment.astimezone(UTC) - _EPOCH) // granularity) * granularity


@dataclass(frozen=True, slots=True)
class Issued:
    """The payload of an ``issued`` entry."""

    voter_ref: bytes
    ballot_style: str
    #: SHA-256 of the blinded message the issuer signed (plain SHA-256, not length-prefixed).
    request_sha256: bytes
    #: The voter's Ed25519 signature on her credential request (64 bytes).
    voter_signature: bytes


@dataclass(frozen=True, slots=True)
class Closed:
    """The payload of the ``close`` entry: credentials issued per ballot style."""

    issued: Mapping[str, int]


def issued_payload(
    voter_ref: bytes, ballot_style: str, request_sha256: bytes, voter_signature: bytes
) -> bytes:
    """Canonical JSON of an ``issued`` payload."""
    if len(voter_ref) != 32 or len(request_sha256) != 32 or len(voter_signature) != 64:
        raise InvalidInput("issued payload: a 32-byte reference and request hash, a 64-byte signature")
    return canonical_json(
        {
            "type": "issued",
            "voter_ref": voter_ref.hex(),
            "ballot_style": check_id(ballot_style, "ballot_style"),
            "request_sha256": request_sha256.hex(),
            "voter_signature": voter_signature.hex(),
        }
    )


def close_payload(issued: Mapping[str, int]) -> bytes:
    """Canonical JSON of the ``close`` payload."""
    return canonical_json({"type": "close", "issued": dict(issued)})


def _exact(obj: object, keys: set[str], what: str) -> Mapping[str, object]:
    if not isinstance(obj, Mapping):
        raise InvalidInput(f"{what}: expected a JSON object, got {type(obj).__name__}")
    missing, unknown = keys - obj.keys(), obj.keys() - keys
    if missing or unknown:
        raise InvalidInput(f"{what}: missing fields {sorted(missing)}, unknown fields {sorted(unknown)}")
    return obj


def _count(value: object, what: str) -> int:
    # bool is an int in Python; a JSON true is not a count.
    if type(value) is not int or not 0 <= value <= _MAX_SAFE_INT:
        raise InvalidInput(f"{what}: expected a non-negative integer, got {value!r}")
    return value


def _payload_object(kind: str, obj: object) -> Issued | Closed:
    if kind == "issued":
        keys = {"type", "voter_ref", "ballot_style", "request_sha256", "voter_signature"}
        fields = _exact(obj, keys, "issued payload")
        if fields["type"] != "issued":
            raise InvalidInput(f"an issued entry carries a {fields['type']!r} payload")
        return Issued(
            voter_ref=from_hex(fields["voter_ref"], 32, "voter_ref"),
            ballot_style=check_id(fields["ballot_style"], "ballot_style"),
            request_sha256=from_hex(fields["request_sha256"], 32, "request_sha256"),
            voter_signature=from_hex(fields["voter_signature"], 64, "voter_signature"),
        )
    if kind == "close":
        fields = _exact(obj, {"type", "issued"}, "close payload")
        if fields["type"] != "close":
            raise InvalidInput(f"a close entry carries a {fields['type']!r} payload")
        counts = fields["issued"]
        if not isinstance(counts, Mapping):
            raise InvalidInput("close payload: issued must map ballot styles to counts")
        return Closed({check_id(s, "ballot_style"): _count(n, f"issued[{s}]") for s, n in counts.items()})
    raise InvalidInput(f"unknown issuance entry kind {kind!r}")


def parse_payload(kind: str, payload: bytes) -> Issued | Closed:
    """Parse an entry's payload bytes strictly (exact keys, canonical bytes)."""
    return _payload_object(kind, parse_canonical(payload, "issuance payload"))


def issuance_line(entry: ChainEntry) -> dict[str, JsonValue]:
    """The record line (``issuance/log.jsonl``) of one entry; its canonical JSON is the line."""
    return entry_line("issuance-entry", entry)


def parse_issuance_line(line: str | bytes) -> tuple[ChainEntry, Issued | Closed]:
    """One line of ``issuance/log.jsonl`` (optionally ending in ``\\n``) → its entry and parsed payload.

    Strict: canonical bytes, exact keys, integers that are not booleans, canonical hex and time,
    and a hash that matches the line's own fields (the signature is :func:`degcore.chain.verify_chain`'s).
    """
    raw = line.encode() if isinstance(line, str) else line
    entry, obj = parse_entry_line("issuance-entry", raw, "issuance log line")
    parsed = _payload_object(entry.kind, obj["payload"])
    expected = link_hash(
        ISSUANCE_TAG, entry.prev, entry.position, kind=entry.kind, payload=entry.payload, at=entry.at
    )
    if expected != entry.hash:
        raise VerificationFailed(
            "issuance-log", f"position {entry.position}", "hash does not match the entry"
        )
    return entry, parsed


@dataclass(frozen=True, slots=True)
class IssuanceReceipt:
    """What the voter gets with her credential: her signed log entry, to check and find later.

    She rebuilds the entry from her voter reference (her enrollment receipt), the SHA-256 of the
    blinded message her device sent and her own signature on the request. Keep it private: with
    her voter id it links her to her entry (which says only that she got a credential for a ballot
    style in a coarse hour), never to her credential.
    """

    election_id: str
    ballot_style: str
    voter_ref: bytes
    position: int
    at: str
    prev: bytes
    hash: bytes
    #: The issuer's Ed25519 log-key signature on ``hash``.
    signature: bytes

    def entry(self, request_sha256: bytes, voter_signature: bytes) -> ChainEntry:
        """The log entry this receipt stands for (the voter compares it with the published line)."""
        payload = issued_payload(self.voter_ref, self.ballot_style, request_sha256, voter_signature)
        return ChainEntry(
            position=self.position,
            kind="issued",
            payload=payload,
            at=self.at,
            prev=self.prev,
            hash=self.hash,
            signature=self.signature,
        )

    def verify(self, voter_ref: bytes, request_sha256: bytes, voter_signature: bytes, log_key: bytes) -> None:
        """Check the reference is the voter's, the entry hash, and the issuer's signature on it."""
        subject = f"position {self.position}"
        if voter_ref != self.voter_ref:
            raise VerificationFailed("issuance-receipt", subject, "the voter reference is not this voter's")
        entry = self.entry(request_sha256, voter_signature)
        computed = link_hash(
            ISSUANCE_TAG, self.prev, self.position, kind="issued", payload=entry.payload, at=self.at
        )
        if computed != self.hash:
            raise VerificationFailed("issuance-receipt", subject, "hash does not match the entry")
        try:
            VerifyKey(log_key).verify(self.hash, self.signature)
        except (BadSignatureError, ValueError, TypeError):
            raise VerificationFailed("issuance-receipt", subject, "signature does not verify") from None

    def to_json(self) -> dict[str, JsonValue]:
        """The receipt as a JSON object (type ``issuance-receipt``)."""
        return {
            **record_header("issuance-receipt"),
            "election_id": self.election_id,
            "ballot_style": self.ballot_style,
            "voter_ref": self.voter_ref.hex(),
            "position": self.position,
            "at": self.at,
            "prev": self.prev.hex(),
            "hash": self.hash.hex(),
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, obj: object) -> IssuanceReceipt:
        """Parse strictly: exact keys, canonical hex and time, a positive integer position."""
        keys = {"election_id", "ballot_style", "voter_ref", "position", "at", "prev", "hash"}
        fields = read_record(obj, "issuance-receipt", keys | {"signature"})
        position = fields["position"]
        if type(position) is not int or not 1 <= position <= _MAX_SAFE_INT:
            raise InvalidInput(f"receipt position must be a positive integer, got {position!r}")
        from_rfc3339(fields["at"], "at")
        return cls(
            election_id=check_id(fields["election_id"], "election_id"),
            ballot_style=check_id(fields["ballot_style"], "ballot_style"),
            voter_ref=from_hex(fields["voter_ref"], 32, "voter_ref"),
            position=position,
            at=str(fields["at"]),
            prev=from_hex(fields["prev"], 32, "prev"),
            hash=from_hex(fields["hash"], 32, "hash"),
            signature=from_hex(fields["signature"], 64, "signature"),
        )
