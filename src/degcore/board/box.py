"""The ballot box: checks every cast ballot, keeps one counted ballot per credential, logs and signs.

docs/architecture.md §2 step 5, docs/protocol.md §9.3. :meth:`BallotBox.cast`

1. checks, before touching the store: the voting window; the credential (the issuer's RFC 9474
   signature for the ballot's style and this election); that the ballot is encrypted for the
   credential's key; the credential key's signature on the ballot; every proof;
2. in one write transaction: returns the original receipt if these very bytes are already in the
   log (a retry), refuses a challenged or already cast tracking code, records the ballot under a
   partial UNIQUE index (one *counted* ballot per credential; with the ``last`` policy the
   previous one is marked superseded, never deleted), appends the signed log entry stamped by the
   box's clock (never earlier than the last entry), commits;
3. returns the receipt only after the commit.

A rejected ballot raises and leaves nothing in the log. The write lock and the UNIQUE index hold
across processes, so two racing casts of one credential cannot both be counted. The store is
bound to one box key, one election and one policy when it is created (§9.5).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.signing import SigningKey

from degcore.ballot import ElectionContext, ElectionSetup, OpenedBallot, verify_ballot, verify_opened
from degcore.board.cast import CastBallot, Policy, Receipt, check_cast, check_cast_deferred
from degcore.board.log import GENESIS, entry_hash, verify_entries
from degcore.board.reader import BoxReader
from degcore.board.store import Transaction, open_box_store
from degcore.elgamal.batch import Batch, verify_each
from degcore.encoding import canonical_json, from_rfc3339, to_rfc3339
from degcore.errors import (
    DegcoreError,
    InvalidInput,
    Rule,
    RuleViolation,
    StorageError,
    VerificationFailed,
    reason_code,
)
from degcore.hashing import sha256
from degcore.parallel import map_chunks
from degcore.storage import PostgresOptions, SqliteOptions

__all__ = ["BallotBox"]

_log = logging.getLogger("degcore.board")

# The logged entry of a tracking code, cast or challenged.
_BY_CODE = (
    "SELECT log.position, log.payload, log.hash, log.kind FROM log WHERE log.position IN"
    " (SELECT position FROM ballots WHERE tracking_code = ?"
    " UNION ALL SELECT position FROM challenged WHERE tracking_code = ?)"
)

_ALREADY_CAST = "this credential has already cast a ballot"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _check_chunk(
    context: ElectionContext, issuer_pems: Mapping[str, bytes], now: datetime, casts: Sequence[CastBallot]
) -> list[str | DegcoreError]:
    keys = {style: serialization.load_pem_public_key(pem) for style, pem in issuer_pems.items()}
    out: list[str | DegcoreError] = []
    deferred: dict[int, Batch] = {}  # the proofs of every cast that passed the other checks
    for index, cast in enumerate(casts):
        try:
            code, deferred[index] = check_cast_deferred(context, keys, cast, now)  # type: ignore[arg-type]
            out.append(code)
        except DegcoreError as exc:
            out.append(exc)
    # One batch for the chunk's proofs; if it fails, each ballot's alone names the bad ones.
    for index, failure in zip(deferred, verify_each(list(deferred.values())), strict=True):
        if failure is not None:
            out[index] = failure
    return out


def _check_setup(
    setup: ElectionSetup, box_key: bytes, policy: Policy, issuer_keys: Mapping[str, rsa.RSAPublicKey]
) -> None:
    """The box runs with exactly the key, policy and issuer keys of the signed election setup."""
    if setup.box_key != box_key:
        raise InvalidInput("the box's signing key is not the box key of the signed election setup")
    if setup.box_policy != str(policy):
        raise InvalidInput(f"the signed election setup fixes another box policy than {str(policy)!r}")
    expected = {
        style: serialization.load_pem_public_key(pem.encode()) for style, pem in setup.issuer_keys.items()
    }
    if set(expected) != set(issuer_keys) or any(
        expected[style].public_numbers() != key.public_numbers()  # type: ignore[union-attr]
        for style, key in issuer_keys.items()
    ):
        raise InvalidInput("the issuer keys are not those of the signed election setup")


class BallotBox(BoxReader):
    """One election's ballot box over a SQLite file or a PostgreSQL database (``location``).

    ``clock`` gives the time of every entry unless a call passes ``now`` (tests, replays);
    ``postgres`` sets how a PostgreSQL store connects, bounds each operation and recovers;
    ``sqlite`` how long a SQLite store's writer waits for the lock.
    """

    def __init__(
        self,
        location: str | Path,
        context: ElectionContext,
        issuer_keys: Mapping[str, rsa.RSAPublicKey],
        signing_key: SigningKey,
        *,
        policy: Policy | str | None = None,
        postgres: PostgresOptions | None = None,
        sqlite: SqliteOptions | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.context = context
        self.issuer_keys = dict(issuer_keys)
        setup = context.setup
        self.policy = Policy(policy if policy is not None else (setup.box_policy if setup else Policy.FIRST))
        self._signing_key = signing_key
        self._clock = clock
        if setup is not None:
            _check_setup(setup, self.public_key, self.policy, self.issuer_keys)
        self._store = open_box_store(location, postgres=postgres, sqlite=sqlite)
        try:
            self._bind_store()
        except BaseException:
            self._store.close()
            raise

    def _bind_store(self) -> None:
        """Record election, policy and box key in a new store; refuse a store made with others."""
        wanted = {
            "election": self.context.base_hash.hex(),
            "policy": str(self.policy),
            "box_key": self.public_key.hex(),
        }
        with self._store.write() as tx:
            for key, value in wanted.items():
                tx.execute("INSERT INTO state VALUES (?, ?) ON CONFLICT DO NOTHING", (key, value))
                stored = tx.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()[0]
                if stored != value:
                    _log.error("ballot box store holds %s %s, not %s: refused to open", key, stored, value)
                    raise InvalidInput(
                        f"this ballot box store was created with {key} {stored!r}, not {value!r}:"
                        " open it with the key, election and policy it was created with"
                    )

    @property
    def public_key(self) -> bytes:
        """The box's Ed25519 key: receipts and log entries verify under it."""
        return bytes(self._signing_key.verify_key)

    # --- writing --------------------------------------------------------------------------
    def _stamp(self, kind: str, moment: datetime, last: tuple[int, str] | None) -> str:
        """The entry's time, or RuleViolation: outside its window or before the last entry."""
        manifest, at = self.context.manifest, to_rfc3339(moment)
        if kind != "close" and not manifest.voting_open(moment):
            window = f"{to_rfc3339(manifest.voting_starts)} to {to_rfc3339(manifest.voting_ends)}"
            raise RuleViolation(Rule.OUTSIDE_WINDOW, f"voting is open from {window}, not at {at}")
        if kind == "close" and moment < manifest.voting_ends:
            ends = to_rfc3339(manifest.voting_ends)
            raise RuleViolation(Rule.OUTSIDE_WINDOW, f"the box closes at or after {ends}, not at {at}")
        if last is not None and moment < from_rfc3339(last[1], "at"):
            _log.warning(
                "clock went backwards: a %s entry stamped %s is before entry %d (%s); refused",
                kind, at, last[0], last[1],
            )  # fmt: skip
            raise RuleViolation(
                Rule.TIME_ORDER, f"{at} is before the last entry's time {last[1]}: the box's clock went back"
            )
        return at

    def _append(
        self, conn: Transaction, kind: str, payload: bytes, now: datetime | None
    ) -> tuple[int, bytes]:
        row = conn.execute("SELECT position, hash, at FROM log ORDER BY position DESC LIMIT 1").fetchone()
        position, prev = (1, GENESIS) if row is None else (row[0] + 1, bytes(row[1]))
        at = self._stamp(
            kind, now if now is not None else self._clock(), None if row is None else (row[0], row[2])
        )
        digest = entry_hash(prev, position, kind, payload, at)
        signature = self._signing_key.sign(digest).signature
        conn.execute(
            "INSERT INTO log VALUES (?, ?, ?, ?, ?, ?, ?)",
            (position, kind, payload, at, prev, digest, signature),
        )
        return position, digest

    def _open_for_writing(self, conn: Transaction) -> None:
        if conn.execute("SELECT 1 FROM state WHERE key = 'closed'").fetchone():
            raise RuleViolation(Rule.BOX_CLOSED, "the ballot box is closed")

    def _issue(self, code: str, position: int, payload: bytes, entry: bytes) -> Receipt:
        return Receipt.issue(
            self._signing_key,
            election=self.context.base_hash,
            tracking_code=code,
            position=position,
            payload=payload,
            entry=entry,
        )

    def _logged(self, rows: Sequence[Sequence[Any]], code: str, kind: str, payload: bytes) -> Receipt | None:
        """The original receipt if exactly ``payload`` is logged as ``kind`` under ``code``."""
        if not rows or rows[0][3] != kind or bytes(rows[0][1]) != payload:
            return None  # not logged, logged as the other kind, or other bytes: the rules decide
        position, _, entry, _ = rows[0]
        _log.info("%s %s sent again: its receipt (position %s) returned", kind, code, position)
        return self._issue(code, int(position), payload, bytes(entry))

    def _retried(self, code: str, kind: str, payload: bytes) -> Receipt | None:
        """Outside a transaction: the original receipt of an identical retry, if there is one."""
        return self._logged(self._store.read(_BY_CODE, (code, code)), code, kind, payload)

    def cast(self, cast: CastBallot, *, now: datetime | None = None) -> Receipt:
        """Check and record a ballot; the receipt comes only after the commit.

        Sending identical bytes again returns the original receipt: after a StorageError (the
        answer was lost, the commit may have happened) a client retries the identical ballot.
        """
        digest = cast.ballot.digest(self.context)
        code, payload = digest.hex(), canonical_json(cast.to_json(self.context))
        try:
            check_cast(
                self.context, self.issuer_keys, cast, now if now is not None else self._clock(), digest
            )
        except DegcoreError as exc:
            if (receipt := self._retried(code, "ballot", payload)) is not None:  # a late retry
                return receipt
            _log.warning("ballot %s refused: %s", code, reason_code(exc))
            raise
        try:
            return self._record(cast, code, now, payload)
        except RuleViolation as exc:
            _log.warning("ballot %s refused: %s", code, reason_code(exc))
            raise

    def _record(
        self, cast: CastBallot, code: str, now: datetime | None, payload: bytes | None = None
    ) -> Receipt:
        """Store a checked ballot whose tracking code is ``code``."""
        payload = payload or canonical_json(cast.to_json(self.context))
        try:
            with self._store.write() as conn:
                outcome = self._record_in(conn, cast, code, now, payload)
        except self._store.integrity_errors:
            raise RuleViolation(Rule.CREDENTIAL_USED, _ALREADY_CAST) from None
        except StorageError:
            _log.error("ballot %s: the store failed; the client should send the identical ballot again", code)
            raise
        return outcome if isinstance(outcome, Receipt) else self._issue(code, outcome[0], payload, outcome[1])

    def _record_in(
        self, conn: Transaction, cast: CastBallot, code: str, now: datetime | None, payload: bytes
    ) -> Receipt | tuple[int, bytes]:
        """Inside a write transaction: the retry's receipt, or the new entry's (position, hash)."""
        logged = conn.execute(_BY_CODE, (code, code)).fetchall()
        if receipt := self._logged(logged, code, "ballot", payload):
            return receipt
        if logged and logged[0][3] == "ballot":
            raise RuleViolation(Rule.CREDENTIAL_USED, "this very ballot was already cast, other bytes")
        self._open_for_writing(conn)
        if conn.execute("SELECT 1 FROM challenged WHERE tracking_code = ?", (code,)).fetchone():
            raise RuleViolation(Rule.BALLOT_CHALLENGED, "a challenged ballot can never be cast")
        credential = cast.credential.id
        if self.policy is Policy.LAST:
            conn.execute(
                "UPDATE ballots SET status = 'superseded' WHERE credential_id = ? AND status = 'counted'",
                (credential,),
            )
        position, digest = self._append(conn, "ballot", payload, now)
        conn.execute(
            "INSERT INTO ballots VALUES (?, ?, ?, ?, 'counted')",
            (code, credential, cast.ballot.style_id, position),
        )
        return position, digest

    def _record_batch(
        self, checked: Sequence[tuple[int, CastBallot, str]], now: datetime | None
    ) -> dict[int, Receipt | DegcoreError]:
        """Store checked ballots in one transaction, each under a savepoint; receipts after the commit.

        A ballot the rules refuse is rolled back to its savepoint alone; a store failure loses the
        whole batch (nothing committed, every client retries), never a part of it silently.
        """
        outcomes: dict[int, Receipt | DegcoreError | tuple[int, bytes]] = {}
        payloads = {index: canonical_json(cast.to_json(self.context)) for index, cast, _ in checked}
        refusals: tuple[type[BaseException], ...] = (RuleViolation, *self._store.integrity_errors)
        try:
            with self._store.write() as conn:
                for index, cast, code in checked:
                    conn.execute("SAVEPOINT degcore_cast")
                    try:
                        outcomes[index] = self._record_in(conn, cast, code, now, payloads[index])
                    except refusals as exc:
                        conn.execute("ROLLBACK TO SAVEPOINT degcore_cast")
                        refused = (
                            exc
                            if isinstance(exc, RuleViolation)
                            else RuleViolation(Rule.CREDENTIAL_USED, _ALREADY_CAST)
                        )
                        _log.warning("ballot %s refused: %s", code, reason_code(refused))
                        outcomes[index] = refused
                    conn.execute("RELEASE SAVEPOINT degcore_cast")
        except StorageError as exc:
            _log.error(
                "a batch of %d ballots: the store failed; clients should send them again", len(checked)
            )
            return {index: exc for index, _, _ in checked}
        results: dict[int, Receipt | DegcoreError] = {}
        for index, _, code in checked:
            outcome = outcomes[index]
            if isinstance(outcome, tuple):  # recorded: the receipt exists only now, after the commit
                outcome = self._issue(code, outcome[0], payloads[index], outcome[1])
            results[index] = outcome
        return results

    def cast_many(
        self, casts: Sequence[CastBallot], *, now: datetime | None = None, executor: Executor | None = None
    ) -> list[Receipt | DegcoreError]:
        """Check a batch on all cores (or ``executor``), then record the good ones in order."""
        pems = {
            style: key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            for style, key in self.issuer_keys.items()
        }
        checked_at = now if now is not None else self._clock()
        checks = map_chunks(
            functools.partial(_check_chunk, self.context, pems, checked_at), casts, executor=executor
        )
        results: list[Receipt | DegcoreError | None] = [None] * len(casts)
        checked: list[tuple[int, CastBallot, str]] = []
        for index, (cast, outcome) in enumerate(zip(casts, checks, strict=True)):
            if isinstance(outcome, DegcoreError):
                payload = canonical_json(cast.to_json(self.context))
                retried = self._retried(cast.ballot.tracking_code(self.context), "ballot", payload)
                results[index] = outcome if retried is None else retried
            else:
                checked.append((index, cast, outcome))
        for index, recorded in self._record_batch(checked, now).items():
            results[index] = recorded
        return [r for r in results if r is not None]

    def challenge(self, opened: OpenedBallot, *, now: datetime | None = None) -> Receipt:
        """Publish an opened (challenged) ballot; its tracking code can never be cast afterwards.

        Sending the identical opened ballot again returns the original receipt.
        """
        code = opened.ballot.tracking_code(self.context)
        payload = canonical_json(opened.to_json(self.context))
        if (receipt := self._retried(code, "challenge", payload)) is not None:
            return receipt
        verify_ballot(self.context, opened.ballot)
        verify_opened(self.context, opened)
        try:
            with self._store.write() as conn:
                logged = conn.execute(_BY_CODE, (code, code)).fetchall()
                if receipt := self._logged(logged, code, "challenge", payload):
                    return receipt
                self._open_for_writing(conn)
                if conn.execute("SELECT 1 FROM ballots WHERE tracking_code = ?", (code,)).fetchone():
                    raise RuleViolation(Rule.BALLOT_CHALLENGED, "a cast ballot cannot be challenged")
                position, digest = self._append(conn, "challenge", payload, now)
                conn.execute("INSERT INTO challenged VALUES (?, ?)", (code, position))
        except self._store.integrity_errors:
            raise RuleViolation(Rule.BALLOT_CHALLENGED, "this ballot was already challenged") from None
        return self._issue(code, position, payload, digest)

    def close_voting(self, *, now: datetime | None = None) -> Receipt:
        """Close the box (at or after the end of voting): a final signed entry with the counts."""
        with self._store.write() as conn:
            self._open_for_writing(conn)
            counted = conn.execute("SELECT COUNT(*) FROM ballots WHERE status = 'counted'").fetchone()[0]
            challenged = conn.execute("SELECT COUNT(*) FROM challenged").fetchone()[0]
            summary = canonical_json({"type": "close", "counted": counted, "challenged": challenged})
            position, digest = self._append(conn, "close", summary, now)
            at = conn.execute("SELECT at FROM log WHERE position = ?", (position,)).fetchone()[0]
            conn.execute("INSERT INTO state VALUES ('closed', ?)", (at,))
        return self._issue("", position, summary, digest)

    # --- reading (counted, counts, log, head: BoxReader's) -------------------------------------
    def verify_log(self) -> int:
        """Re-check the chain, every box signature and the time order; the entry count, or VerificationFailed.

        The error's ``check`` is ``box-log``, its ``subject`` the first bad position and its
        ``detail`` what is wrong there.
        """
        # Closed here, not by the garbage collector: a failure's traceback would keep the walk, and
        # with it a PostgreSQL read transaction, alive.
        with closing(self.log()) as entries:
            return verify_entries(entries, self.public_key)

    def receipt(self, tracking_code: str) -> Receipt | None:
        """The receipt of the logged ballot or challenge ``tracking_code`` ("" : the close entry), or None."""
        if tracking_code == "":
            rows = self._store.read("SELECT position, payload, hash, kind FROM log WHERE kind = 'close'")
        else:
            rows = self._store.read(_BY_CODE, (tracking_code, tracking_code))
        if not rows:
            return None
        position, payload, entry, _ = rows[0]
        return self._issue(tracking_code, position, bytes(payload), bytes(entry))

    def find(self, receipt: Receipt) -> bool:
        """Whether the log holds, at the receipt's position, exactly the entry the receipt names."""
        try:
            receipt.verify(self.public_key, self.context.base_hash)
        except VerificationFailed:
            return False
        rows = self._store.read(
            "SELECT log.kind, log.payload, log.hash, ballots.tracking_code, challenged.tracking_code FROM log"
            " LEFT JOIN ballots ON ballots.position = log.position"
            " LEFT JOIN challenged ON challenged.position = log.position WHERE log.position = ?",
            (receipt.position,),
        )
        if not rows:
            return False
        kind, payload, entry, cast_code, challenged_code = rows[0]
        code = "" if kind == "close" else (cast_code or challenged_code)
        return (
            code == receipt.tracking_code
            and bytes(entry) == receipt.entry_hash
            and sha256(bytes(payload)) == receipt.payload_hash
        )
