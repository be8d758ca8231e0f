"""The credential issuer (docs/architecture.md §2 step 4, docs/protocol.md §5.3–§5.4).

For an *authenticated* voter id (authentication is the calling service's job), :meth:`Issuer.issue`

1. refuses a request outside the issuance window (``RuleViolation(outside_window)``), then asks
   the eligibility oracle whether the voter may get a credential for this ballot style now; the
   answer is her enrollment (voter reference and enrolled key);
2. checks the voter's own signature on the request (election, style, reference, SHA-256 of the
   blinded message) under her enrolled key (``VerificationFailed(issuance-request)``), so that no
   credential is issued, or logged, that the voter did not ask for with her device;
3. blind-signs (in memory: nothing is released yet);
4. in one write transaction of its store (``degcore.storage``: SQLite or PostgreSQL) inserts the
   once-only row (voter → ballot style, SHA-256 of the blinded request, her signature, reference) —
   its primary key makes a second credential for the same voter impossible, also between
   processes — and appends the signed ``issued`` entry of the issuance log (with her signature),
   then commits;
5. returns the blind signature only after the commit.

A crash before the commit leaves no row and no entry and has released no signature, so the voter
may retry; a crash after it (the answer is lost) is recovered by retrying with the *same* blinded
message, which is answered again without a new entry (RSA signing is deterministic, so it is the
same signature: still one credential). A different blinded message for a recorded voter is
refused with ``RuleViolation(already_issued)``.

The store keeps per voter: ballot style, SHA-256 of the blinded request, her signature on it, the
reference of §5.4 (the registry's; the issuer never sees its salt), the log position; and the
log. Nothing derived from the credential's key or signature, which the issuer never sees, and no
exact issuance times (only the latest one, to refuse a clock that went backwards).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Generator, Mapping
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.signing import SigningKey

from degcore.chain import GENESIS, ChainEntry, link_hash
from degcore.encoding import from_rfc3339, to_rfc3339
from degcore.errors import DegcoreError, InvalidInput, Rule, RuleViolation, reason_code
from degcore.ids import check_id
from degcore.issuance import rsabssa
from degcore.issuance.eligibility import EligibilityOracle
from degcore.issuance.enrollment import check_request_signature
from degcore.issuance.log import ISSUANCE_TAG, IssuanceReceipt, close_payload, coarsen, issued_payload
from degcore.storage import Database, PostgresOptions, SqliteOptions, StoreService, Transaction, open_database

__all__ = [
    "DEFAULT_GRANULARITY",
    "Issuer",
    "load_issuer_key",
    "load_issuer_public_key",
    "public_key_pem",
    "save_issuer_key",
]

_log = logging.getLogger("degcore.issuance")

#: Published issuance times are rounded down to this (docs/protocol.md §5.4).
DEFAULT_GRANULARITY = timedelta(hours=1)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    position  INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN ('issued', 'close')),
    payload   BLOB NOT NULL,
    at        TEXT NOT NULL,
    prev      BLOB NOT NULL,
    hash      BLOB NOT NULL UNIQUE,
    signature BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS issued (
    voter_id       TEXT PRIMARY KEY,
    ballot_style   TEXT NOT NULL,
    request_sha256 BLOB NOT NULL,
    voter_signature BLOB NOT NULL,
    voter_ref      BLOB NOT NULL UNIQUE,
    position       INTEGER NOT NULL UNIQUE REFERENCES log (position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID
"""

_COUNTS = "SELECT ballot_style, COUNT(*) FROM issued GROUP BY ballot_style"
_SET_LAST_TIME = (
    "INSERT INTO state VALUES ('last_time', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
_ENTRY_COLUMNS = "log.position, log.kind, log.payload, log.at, log.prev, log.hash, log.signature"


class Issuer(StoreService):
    """Issues at most one blind-signed credential per voter, inside a window, and logs each one.

    ``postgres`` and ``sqlite`` are the store engine's options (time bounds; docs/deployment.md).
    """

    def __init__(
        self,
        location: str | Path,
        election_id: str,
        keys: Mapping[str, rsa.RSAPrivateKey],
        eligibility: EligibilityOracle,
        *,
        log_key: SigningKey,
        window: tuple[datetime, datetime],
        granularity: timedelta = DEFAULT_GRANULARITY,
        postgres: PostgresOptions | None = None,
        sqlite: SqliteOptions | None = None,
    ) -> None:
        self.election_id = check_id(election_id, "election_id")
        if not keys:
            raise InvalidInput("an issuer needs at least one ballot style key")
        for style, key in keys.items():
            check_id(style, "ballot_style")
            if key.key_size < rsabssa.MIN_MODULUS_BITS:
                raise InvalidInput(f"issuer key for {style!r} has {key.key_size} bits")
        if not isinstance(log_key, SigningKey):
            raise InvalidInput("log_key must be an Ed25519 nacl.signing.SigningKey")
        opens, closes = window
        for moment in (opens, closes):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise InvalidInput("the issuance window must be timezone-aware")
        if not opens < closes:
            raise InvalidInput("the issuance window must open before it closes")
        if granularity <= timedelta(0) or granularity % timedelta(seconds=1):
            raise InvalidInput("granularity must be a positive whole number of seconds")
        self.window = (opens, closes)
        self.granularity = granularity
        self._keys = dict(keys)
        self._eligibility = eligibility
        self._log_key = log_key
        self._store: Database = open_database(
            location, "issuance store", schema=_SCHEMA, lock_tables=("log",), postgres=postgres, sqlite=sqlite
        )
        with self._store.write() as tx:
            for name, value in (("election", self.election_id), ("log_key", self.log_public_key.hex())):
                tx.execute("INSERT INTO state VALUES (?, ?) ON CONFLICT DO NOTHING", (name, value))
                stored = tx.execute("SELECT value FROM state WHERE key = ?", (name,)).fetchone()[0]
                if stored != value:
                    raise InvalidInput(f"this issuance store holds {name} {stored!r}, not {value!r}")

    @property
    def log_public_key(self) -> bytes:
        """The Ed25519 key the issuance log verifies under (published in the election setup)."""
        return bytes(self._log_key.verify_key)

    def public_keys(self) -> dict[str, rsa.RSAPublicKey]:
        """The public key per ballot style, for publication in the election record."""
        return {style: key.public_key() for style, key in self._keys.items()}

    # --- writing ------------------------------------------------------------------------------
    def _published(self, now: datetime) -> datetime:
        # Never before the window opens, so a coarsened time still lies inside the window.
        return max(coarsen(now, self.granularity), self.window[0])

    def _append(self, tx: Transaction, kind: str, payload: bytes, now: datetime) -> int:
        """Append one signed entry; times never decrease (the exact one and the published one)."""
        if tx.execute("SELECT 1 FROM state WHERE key = 'closed'").fetchone():
            raise RuleViolation(Rule.ISSUANCE_CLOSED, "the issuance log is closed")
        published = self._published(now)
        last = tx.execute("SELECT value FROM state WHERE key = 'last_time'").fetchone()
        row = tx.execute("SELECT position, hash, at FROM log ORDER BY position DESC LIMIT 1").fetchone()
        if (last is not None and now < from_rfc3339(last[0])) or (
            row is not None and published < from_rfc3339(row[2])
        ):
            raise RuleViolation(Rule.TIME_ORDER, f"time {to_rfc3339(now)} is before the last issuance")
        position, prev = (1, GENESIS) if row is None else (row[0] + 1, bytes(row[1]))
        at = to_rfc3339(published)
        digest = link_hash(ISSUANCE_TAG, prev, position, kind=kind, payload=payload, at=at)
        signature = self._log_key.sign(digest).signature
        tx.execute(
            "INSERT INTO log VALUES (?, ?, ?, ?, ?, ?, ?)",
            (position, kind, payload, at, prev, digest, signature),
        )
        tx.execute(_SET_LAST_TIME, (to_rfc3339(now),))
        return position

    def issue(
        self, voter_id: str, ballot_style: str, blinded_msg: bytes, *, request_signature: bytes, now: datetime
    ) -> bytes:
        """Blind-sign ``blinded_msg`` for an authenticated, eligible voter who has no credential yet.

        ``request_signature`` is the voter's Ed25519 signature on her request
        (:func:`degcore.issuance.enrollment.sign_credential_request`) with her enrolled key.
        """
        try:
            return self._issue(voter_id, ballot_style, blinded_msg, request_signature, now)
        except DegcoreError as exc:  # the code only: the message names the voter
            _log.warning("issuance refused: %s", reason_code(exc))
            raise

    def _issue(
        self, voter_id: str, ballot_style: str, blinded_msg: bytes, request_signature: bytes, now: datetime
    ) -> bytes:
        check_id(voter_id, "voter_id")
        if not isinstance(blinded_msg, bytes):
            raise InvalidInput(f"blinded message must be bytes, got {type(blinded_msg).__name__}")
        if not isinstance(request_signature, bytes) or len(request_signature) != 64:
            raise InvalidInput("request_signature must be the voter's 64-byte Ed25519 signature")
        key = self._keys.get(ballot_style)
        if key is None:
            raise InvalidInput(f"no issuer key for ballot style {ballot_style!r}")
        if now.tzinfo is None or now.utcoffset() is None:
            raise InvalidInput("now must be timezone-aware")
        opens, closes = self.window
        if not opens <= now < closes:
            raise RuleViolation(
                Rule.OUTSIDE_WINDOW,
                f"credentials are issued from {to_rfc3339(opens)} until {to_rfc3339(closes)}",
            )
        enrollment = self._eligibility.check_credential_eligibility(
            voter_id, self.election_id, ballot_style, now
        )
        request_hash = hashlib.sha256(blinded_msg).digest()
        check_request_signature(enrollment, self.election_id, request_hash, request_signature)
        # Signed before the transaction (the write lock is not held through an RSA operation) and
        # released only after the commit; a blinded message >= n is refused here, with no row.
        blind_sig = rsabssa.blind_sign(key, blinded_msg)
        refused = RuleViolation(Rule.ALREADY_ISSUED, f"voter {voter_id!r} already received a credential")
        try:
            with self._store.write() as tx:
                row = tx.execute(
                    "SELECT ballot_style, request_sha256 FROM issued WHERE voter_id = ?", (voter_id,)
                ).fetchone()
                if row is not None:
                    if (row[0], bytes(row[1])) != (ballot_style, request_hash):
                        raise refused
                    if tx.execute("SELECT 1 FROM state WHERE key = 'closed'").fetchone():
                        raise RuleViolation(Rule.ISSUANCE_CLOSED, "the issuance log is closed")
                    return blind_sig  # the same request again: the same answer, no new entry
                ref = enrollment.voter_ref
                payload = issued_payload(ref, ballot_style, request_hash, request_signature)
                position = self._append(tx, "issued", payload, now)
                tx.execute(
                    "INSERT INTO issued VALUES (?, ?, ?, ?, ?, ?)",
                    (voter_id, ballot_style, request_hash, request_signature, ref, position),
                )
        except self._store.integrity_errors:
            raise refused from None
        _log.info("credential issued: ballot style %s, issuance log position %d", ballot_style, position)
        return blind_sig

    def close_log(self, now: datetime) -> ChainEntry:
        """Append the ``close`` entry with the count per ballot style; no issuance afterwards."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise InvalidInput("now must be timezone-aware")
        with self._store.write() as tx:
            counts = dict.fromkeys(sorted(self._keys), 0)
            for style, count in tx.execute(_COUNTS):
                counts[style] = count
            position = self._append(tx, "close", close_payload(counts), now)
            tx.execute("INSERT INTO state VALUES ('closed', ?)", (str(position),))
            row = tx.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM log WHERE position = ?",  # noqa: S608 - constant columns
                (position,),
            ).fetchone()
        return _entry(row)

    # --- reading ------------------------------------------------------------------------------
    def log(self) -> Generator[ChainEntry]:
        """Every entry of the issuance log in position order (streamed): ``issuance/log.jsonl``.

        Close the generator (``contextlib.closing``) when a walk may stop early: it holds a read
        transaction on PostgreSQL.
        """
        query = f"SELECT {_ENTRY_COLUMNS} FROM log ORDER BY position"  # noqa: S608 - constant columns
        with closing(self._store.stream(query)) as rows:
            for row in rows:
                yield _entry(row)

    def issued_count(self) -> dict[str, int]:
        """Credentials issued per ballot style, every style with a key included (the log's counts)."""
        counts = dict.fromkeys(sorted(self._keys), 0)
        for style, count in self._store.read(
            "SELECT ballot_style, COUNT(*) FROM issued GROUP BY ballot_style"
        ):
            counts[style] = count
        return counts

    def receipt(self, voter_id: str) -> IssuanceReceipt:
        """The voter's issuance receipt: her signed entry (InvalidInput if none)."""
        check_id(voter_id, "voter_id")
        rows = self._store.read(
            "SELECT issued.ballot_style, issued.voter_ref, log.position, log.at, log.prev,"
            " log.hash, log.signature FROM issued JOIN log ON log.position = issued.position"
            " WHERE issued.voter_id = ?",
            (voter_id,),
        )
        if not rows:
            raise InvalidInput(f"no credential was issued to voter {voter_id!r}")
        style, ref, position, at, prev, digest, signature = rows[0]
        return IssuanceReceipt(
            election_id=self.election_id,
            ballot_style=style,
            voter_ref=bytes(ref),
            position=position,
            at=at,
            prev=bytes(prev),
            hash=bytes(digest),
            signature=bytes(signature),
        )


def _entry(row: tuple[object, ...]) -> ChainEntry:
    position, kind, payload, at, prev, digest, signature = row
    return ChainEntry(
        position=int(position),  # type: ignore[call-overload]
        kind=str(kind),
        payload=bytes(payload),  # type: ignore[call-overload]
        at=str(at),
        prev=bytes(prev),  # type: ignore[call-overload]
        hash=bytes(digest),  # type: ignore[call-overload]
        signature=bytes(signature),  # type: ignore[call-overload]
    )


def public_key_pem(key: rsa.RSAPublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of an issuer's public key (``cryptography``)."""
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_issuer_public_key(pem: bytes | str) -> rsa.RSAPublicKey:
    """An issuer's public key from :func:`public_key_pem` output (bytes or the setup's text)."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"not a PEM public key: {exc}") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < rsabssa.MIN_MODULUS_BITS:
        raise InvalidInput(f"an issuer key is an RSA key of at least {rsabssa.MIN_MODULUS_BITS} bits")
    return key


def save_issuer_key(key: rsa.RSAPrivateKey, passphrase: bytes) -> bytes:
    """PKCS#8 PEM of an issuer key, encrypted under ``passphrase`` (``cryptography``'s best available)."""
    if not passphrase:
        raise InvalidInput("an issuer key must be stored under a non-empty passphrase")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )


def load_issuer_key(pem: bytes, passphrase: bytes) -> rsa.RSAPrivateKey:
    """Load :func:`save_issuer_key` output; a wrong passphrase or another key type is InvalidInput."""
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"cannot load the issuer key (wrong passphrase or damaged file): {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidInput("the issuer key is not an RSA key")
    return key
