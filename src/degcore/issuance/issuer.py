"""The credential issuer (DESIGN.md §1 step 4, docs/protocol.md §5.3).

For an *authenticated* voter id (authentication is the calling service's job), :meth:`Issuer.issue`

1. asks the eligibility oracle whether the voter may get a credential for this ballot style now;
2. in one SQLite transaction (``BEGIN IMMEDIATE``): inserts the row (election, voter) — the
   primary key makes a second credential for the same voter impossible, also between
   concurrent processes — then blind-signs, then commits;
3. returns the blind signature only after the commit.

A crash before the commit leaves no row and releases no signature, so the voter may retry; a
crash after it (the answer is lost) is recovered by retrying with the *same* blinded message,
which is answered again (RSA signing is deterministic, so it is the same signature: still one
credential). A different blinded message for a recorded voter is refused with
``RuleViolation(ALREADY_ISSUED)``.

The store keeps (election, voter, ballot style, SHA-256 of the blinded request, time): nothing
derived from the credential's key or signature, which the issuer never sees.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from degcore.errors import InvalidInput, Rule, RuleViolation, StorageError
from degcore.ids import check_id
from degcore.issuance import rsabssa
from degcore.issuance.eligibility import EligibilityOracle

__all__ = ["Issuer", "load_issuer_key", "public_key_pem", "save_issuer_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS issued (
    election_id    TEXT NOT NULL,
    voter_id       TEXT NOT NULL,
    ballot_style   TEXT NOT NULL,
    request_sha256 BLOB NOT NULL,
    issued_at      TEXT NOT NULL,
    PRIMARY KEY (election_id, voter_id)
) WITHOUT ROWID;
"""


class Issuer:
    """Issues at most one blind-signed credential per voter and election."""

    def __init__(
        self,
        db_path: str | Path,
        election_id: str,
        keys: Mapping[str, rsa.RSAPrivateKey],
        eligibility: EligibilityOracle,
    ) -> None:
        self.election_id = check_id(election_id, "election_id")
        if not keys:
            raise InvalidInput("an issuer needs at least one ballot style key")
        for style, key in keys.items():
            check_id(style, "ballot_style")
            if key.key_size < rsabssa.MIN_MODULUS_BITS:
                raise InvalidInput(f"issuer key for {style!r} has {key.key_size} bits")
        self._keys = dict(keys)
        self._eligibility = eligibility
        self._db_path = str(db_path)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self._db_path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA synchronous=FULL")
            return conn
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the issuance store {self._db_path}: {exc}") from exc

    def public_keys(self) -> dict[str, rsa.RSAPublicKey]:
        """The public key per ballot style, for publication in the election record."""
        return {style: key.public_key() for style, key in self._keys.items()}

    def issue(self, voter_id: str, ballot_style: str, blinded_msg: bytes, *, now: datetime) -> bytes:
        """Blind-sign ``blinded_msg`` for an authenticated, eligible voter who has no credential yet."""
        check_id(voter_id, "voter_id")
        if not isinstance(blinded_msg, bytes):
            raise InvalidInput(f"blinded message must be bytes, got {type(blinded_msg).__name__}")
        key = self._keys.get(ballot_style)
        if key is None:
            raise InvalidInput(f"no issuer key for ballot style {ballot_style!r}")
        if now.tzinfo is None:
            raise InvalidInput("now must be timezone-aware")
        self._eligibility.check_credential_eligibility(voter_id, self.election_id, ballot_style, now)
        request_hash = hashlib.sha256(blinded_msg).digest()
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "SELECT ballot_style, request_sha256 FROM issued WHERE election_id = ? AND voter_id = ?",
                (self.election_id, voter_id),
            ).fetchone()
            if row is not None:
                if (row[0], bytes(row[1])) != (ballot_style, request_hash):
                    raise RuleViolation(
                        Rule.ALREADY_ISSUED, f"voter {voter_id!r} already received a credential"
                    )
            else:
                conn.execute(
                    "INSERT INTO issued VALUES (?, ?, ?, ?, ?)",
                    (self.election_id, voter_id, ballot_style, request_hash, now.isoformat()),
                )
            blind_sig = rsabssa.blind_sign(key, blinded_msg)
            conn.execute("COMMIT")
            return blind_sig
        except sqlite3.IntegrityError as exc:
            raise RuleViolation(
                Rule.ALREADY_ISSUED, f"voter {voter_id!r} already received a credential"
            ) from exc
        except sqlite3.Error as exc:
            raise StorageError(f"issuance store failed: {exc}") from exc
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()

    def issued_count(self) -> dict[str, int]:
        """How many credentials were issued per ballot style (the record's issuance summary)."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT ballot_style, COUNT(*) FROM issued WHERE election_id = ? GROUP BY ballot_style",
                (self.election_id,),
            ).fetchall()
        return {style: count for style, count in rows}


def public_key_pem(key: rsa.RSAPublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of an issuer's public key (``cryptography``)."""
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


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
