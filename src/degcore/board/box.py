"""The ballot box: checks every cast ballot, keeps one counted ballot per credential, logs and signs.

DESIGN.md §1 step 5, docs/protocol.md §9.3. :meth:`BallotBox.cast`

1. checks, before touching the store: the voting window; the credential (the issuer's RFC 9474
   signature for the ballot's style and this election); that the ballot is encrypted for the
   credential's key; the credential key's signature on the ballot; every proof;
2. in one SQLite transaction (``BEGIN IMMEDIATE``): refuses a challenged or already cast
   tracking code, records the ballot under a partial UNIQUE index (one *counted* ballot per
   credential; with the ``last`` policy the previous one is marked superseded, never deleted),
   appends the signed log entry, commits;
3. returns the receipt only after the commit.

A rejected ballot raises and leaves nothing in the log. The write lock and the UNIQUE index hold
across processes, so two racing casts of one credential cannot both be counted.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.signing import SigningKey

from degcore.ballot import ElectionContext, OpenedBallot, verify_ballot, verify_opened
from degcore.board.cast import CastBallot, Policy, Receipt, check_cast
from degcore.board.log import GENESIS, LogEntry, entry_hash, verify_entries
from degcore.board.store import Transaction, open_box_store
from degcore.encoding import canonical_json, to_rfc3339
from degcore.errors import DegcoreError, InvalidInput, Rule, RuleViolation
from degcore.parallel import map_chunks

__all__ = ["BallotBox"]


def _check_chunk(
    context: ElectionContext, issuer_pems: Mapping[str, bytes], now: datetime, casts: Sequence[CastBallot]
) -> list[str | DegcoreError]:
    keys = {style: serialization.load_pem_public_key(pem) for style, pem in issuer_pems.items()}
    out: list[str | DegcoreError] = []
    for cast in casts:
        try:
            out.append(check_cast(context, keys, cast, now))  # type: ignore[arg-type]
        except DegcoreError as exc:
            out.append(exc)
    return out


class BallotBox:
    """One election's ballot box over a SQLite file or a PostgreSQL database (``location``)."""

    def __init__(
        self,
        location: str | Path,
        context: ElectionContext,
        issuer_keys: Mapping[str, rsa.RSAPublicKey],
        signing_key: SigningKey,
        *,
        policy: Policy = Policy.FIRST,
    ) -> None:
        self.context = context
        self.issuer_keys = dict(issuer_keys)
        self.policy = Policy(policy)
        self._signing_key = signing_key
        self._store = open_box_store(location)
        with self._store.write() as tx:
            for key, value in (("election", context.base_hash.hex()), ("policy", str(self.policy))):
                tx.execute("INSERT INTO state VALUES (?, ?) ON CONFLICT DO NOTHING", (key, value))
                stored = tx.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()[0]
                if stored != value:
                    raise InvalidInput(f"this ballot box holds {key} {stored!r}, not {value!r}")

    @property
    def public_key(self) -> bytes:
        """The box's Ed25519 key: receipts and log entries verify under it."""
        return bytes(self._signing_key.verify_key)

    def close_connection(self) -> None:
        """Close the database connections."""
        self._store.close()

    # --- writing --------------------------------------------------------------------------
    def _append(
        self, conn: Transaction, kind: str, payload: bytes, now: datetime
    ) -> tuple[int, bytes, bytes]:
        row = conn.execute("SELECT position, hash FROM log ORDER BY position DESC LIMIT 1").fetchone()
        position, prev = (1, GENESIS) if row is None else (row[0] + 1, bytes(row[1]))
        at = to_rfc3339(now)
        digest = entry_hash(prev, position, kind, payload, at)
        signature = self._signing_key.sign(digest).signature
        conn.execute(
            "INSERT INTO log VALUES (?, ?, ?, ?, ?, ?, ?)",
            (position, kind, payload, at, prev, digest, signature),
        )
        return position, digest, signature

    def _open_for_writing(self, conn: Transaction) -> None:
        if conn.execute("SELECT 1 FROM state WHERE key = 'closed'").fetchone():
            raise RuleViolation(Rule.BOX_CLOSED, "the ballot box is closed")

    def cast(self, cast: CastBallot, *, now: datetime) -> Receipt:
        """Check and record a ballot; the receipt comes only after the commit."""
        return self._record(cast, check_cast(self.context, self.issuer_keys, cast, now), now)

    def _record(self, cast: CastBallot, code: str, now: datetime) -> Receipt:
        """Store a checked ballot whose tracking code is ``code``."""
        payload = canonical_json(cast.to_json(self.context))
        credential = cast.credential.id
        try:
            with self._store.write() as conn:
                self._open_for_writing(conn)
                if conn.execute("SELECT 1 FROM challenged WHERE tracking_code = ?", (code,)).fetchone():
                    raise RuleViolation(Rule.BALLOT_CHALLENGED, "a challenged ballot can never be cast")
                if conn.execute("SELECT 1 FROM ballots WHERE tracking_code = ?", (code,)).fetchone():
                    raise RuleViolation(Rule.CREDENTIAL_USED, "this very ballot was already cast")
                if self.policy is Policy.LAST:
                    conn.execute(
                        "UPDATE ballots SET status = 'superseded'"
                        " WHERE credential_id = ? AND status = 'counted'",
                        (credential,),
                    )
                position, digest, signature = self._append(conn, "ballot", payload, now)
                conn.execute(
                    "INSERT INTO ballots VALUES (?, ?, ?, ?, 'counted')",
                    (code, credential, cast.ballot.style_id, position),
                )
        except self._store.integrity_errors:
            raise RuleViolation(Rule.CREDENTIAL_USED, "this credential has already cast a ballot") from None
        return Receipt(code, position, digest, signature)

    def cast_many(
        self, casts: Sequence[CastBallot], *, now: datetime, executor: Executor | None = None
    ) -> list[Receipt | DegcoreError]:
        """Check a batch on all cores (or ``executor``), then record the good ones in order."""
        pems = {
            style: key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            for style, key in self.issuer_keys.items()
        }
        checks = map_chunks(
            functools.partial(_check_chunk, self.context, pems, now), casts, executor=executor
        )
        results: list[Receipt | DegcoreError] = []
        for cast, outcome in zip(casts, checks, strict=True):
            if isinstance(outcome, DegcoreError):
                results.append(outcome)
                continue
            try:
                results.append(self._record(cast, outcome, now))
            except DegcoreError as exc:
                results.append(exc)
        return results

    def challenge(self, opened: OpenedBallot, *, now: datetime) -> Receipt:
        """Publish an opened (challenged) ballot; its tracking code can never be cast afterwards."""
        verify_ballot(self.context, opened.ballot)
        verify_opened(self.context, opened)
        code = opened.ballot.tracking_code(self.context)
        payload = canonical_json(opened.to_json(self.context))
        try:
            with self._store.write() as conn:
                self._open_for_writing(conn)
                if conn.execute("SELECT 1 FROM ballots WHERE tracking_code = ?", (code,)).fetchone():
                    raise RuleViolation(Rule.BALLOT_CHALLENGED, "a cast ballot cannot be challenged")
                position, digest, signature = self._append(conn, "challenge", payload, now)
                conn.execute("INSERT INTO challenged VALUES (?, ?)", (code, position))
        except self._store.integrity_errors:
            raise RuleViolation(Rule.BALLOT_CHALLENGED, "this ballot was already challenged") from None
        return Receipt(code, position, digest, signature)

    def close(self, *, now: datetime) -> Receipt:
        """Close the box: a final signed entry with the counts; no ballot is accepted afterwards."""
        with self._store.write() as conn:
            self._open_for_writing(conn)
            counted = conn.execute("SELECT COUNT(*) FROM ballots WHERE status = 'counted'").fetchone()[0]
            challenged = conn.execute("SELECT COUNT(*) FROM challenged").fetchone()[0]
            summary = {"type": "close", "counted": counted, "challenged": challenged}
            position, digest, signature = self._append(conn, "close", canonical_json(summary), now)
            conn.execute("INSERT INTO state VALUES ('closed', ?)", (to_rfc3339(now),))
        return Receipt("", position, digest, signature)

    # --- reading --------------------------------------------------------------------------
    def counted(self) -> Iterator[CastBallot]:
        """The counted ballots in log order (streamed, decoded with membership checks)."""
        query = (
            "SELECT log.payload FROM ballots JOIN log ON log.position = ballots.position"
            " WHERE ballots.status = 'counted' ORDER BY log.position"
        )
        for (payload,) in self._store.stream(query):
            yield CastBallot.from_json(self.context, json.loads(payload))

    def counts(self) -> dict[str, int]:
        """How many ballots are counted, superseded and challenged."""
        rows = dict(self._store.read("SELECT status, COUNT(*) FROM ballots GROUP BY status"))
        rows["challenged"] = self._store.read("SELECT COUNT(*) FROM challenged")[0][0]
        return {k: rows.get(k, 0) for k in ("counted", "superseded", "challenged")}

    def log(self) -> Iterator[LogEntry]:
        """Every log entry in position order (streamed): what the election record publishes."""
        query = "SELECT position, kind, payload, at, prev, hash, signature FROM log ORDER BY position"
        return (LogEntry(*row) for row in self._store.stream(query))

    def head(self) -> bytes:
        """The hash of the last log entry (GENESIS for an empty log)."""
        rows = self._store.read("SELECT hash FROM log ORDER BY position DESC LIMIT 1")
        return GENESIS if not rows else bytes(rows[0][0])

    def verify_log(self) -> tuple[int, int | None, str]:
        """Re-check the whole chain and every box signature: (entries, first bad position, why)."""
        return verify_entries(self.log(), self.public_key)

    def find(self, receipt: Receipt) -> bool:
        """Whether the receipt's entry is in the log exactly as the receipt says (the voter's check)."""
        rows = self._store.read("SELECT hash FROM log WHERE position = ?", (receipt.position,))
        return bool(rows) and bytes(rows[0][0]) == receipt.head
