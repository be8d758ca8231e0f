"""The registry's append-only, hash-chained audit log (REQUIREMENTS.md R25, §4).

Entry n holds (seq, at, actor, action, subject, result) and
``hash_n = SHA-256(hash_{n−1} ‖ canonical JSON of the entry)`` with ``hash_0`` = 32 zero bytes
(length-prefixed, :func:`degcore.hashing.sha256`). Entries are written in the same transaction
as the action they describe, so no action is recorded without its entry or the reverse. Refused
actions are recorded too, after the refusal was rolled back. Retention blanks the contents of old
entries and keeps their hashes: the chain of hashes still verifies, and still proves that
nothing was inserted or removed. No ballot content ever reaches this module.

**The anchor.** A chain alone cannot show that entries were cut off its end. Whenever the registry
publishes something it signs the chain's head, ``(seq, hash_seq)``, as an
:class:`~degcore.issuance.eligibility.AuditHead`; :func:`verify_chain` given such a head reports a
chain that ends before it (truncation) or whose entry ``seq`` has another hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nacl.signing import SigningKey

from degcore.encoding import canonical_json
from degcore.hashing import sha256
from degcore.issuance.eligibility import AuditHead
from degcore.storage import Transaction

__all__ = ["GENESIS", "AuditReport", "append", "entry_hash", "head", "sign_head", "verify_chain"]

GENESIS = bytes(32)
_FIELDS = ("at", "actor", "action", "subject", "result")


def entry_hash(prev: bytes, seq: int, fields: dict[str, str]) -> bytes:
    """The chained hash of entry ``seq`` with ``fields`` (at, actor, action, subject, result)."""
    body: dict[str, str | int] = {"seq": seq, **fields}
    return sha256(prev, canonical_json(body))


def append(conn: Transaction, at: datetime, *, actor: str, action: str, subject: str, result: str) -> None:
    """Append one entry (call inside the transaction of the action it records)."""
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (1, GENESIS) if row is None else (row[0] + 1, bytes(row[1]))
    stamp = at.isoformat()
    entry = {"at": stamp, "actor": actor, "action": action, "subject": subject, "result": result}
    digest = entry_hash(prev, seq, entry)
    conn.execute(
        "INSERT INTO audit (seq, at, actor, action, subject, result, prev, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, stamp, actor, action, subject, result, prev, digest),
    )


def head(conn: Transaction) -> tuple[int, bytes]:
    """The last entry's (seq, hash); (0, GENESIS) for an empty chain."""
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return (0, GENESIS) if row is None else (int(row[0]), bytes(row[1]))


def sign_head(conn: Transaction, key: SigningKey, election_id: str, at: datetime) -> AuditHead:
    """The current head signed by the registry's key (call in the transaction of what it anchors)."""
    seq, digest = head(conn)
    return AuditHead.sign(key, election_id, seq, digest, at)


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The outcome of :func:`verify_chain`: entries checked, and the first broken link if any.

    ``anchored`` is the seq of the signed head the chain was checked against (None: no head given).
    """

    entries: int
    purged: int
    first_broken: int | None = None
    problem: str = ""
    anchored: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the whole chain holds."""
        return self.first_broken is None


def verify_chain(conn: Transaction, expected: AuditHead | None = None) -> AuditReport:
    """Recompute every link; report the first entry whose hash or link does not hold.

    With ``expected`` (a head whose signature the caller has checked) the chain must reach its
    ``seq`` with exactly its hash: a shorter chain is reported as truncated.
    """
    report = _walk(conn, expected)
    if report.first_broken is not None or expected is None:
        return report
    if report.entries < expected.seq:
        return AuditReport(
            report.entries, report.purged, report.entries + 1,
            f"truncated: the chain ends at entry {report.entries}, the signed head is at {expected.seq}",
            expected.seq,
        )  # fmt: skip
    if expected.seq == 0 and expected.head != GENESIS:
        return AuditReport(report.entries, report.purged, 0, "the signed head of an empty chain is not zero")
    return AuditReport(report.entries, report.purged, anchored=expected.seq)


def _walk(conn: Transaction, expected: AuditHead | None) -> AuditReport:
    prev, expected_seq, count, purged = GENESIS, 1, 0, 0
    anchor = None if expected is None else expected.seq
    for seq, at, actor, action, subject, result, row_prev, digest in conn.execute(
        "SELECT seq, at, actor, action, subject, result, prev, hash FROM audit ORDER BY seq"
    ):
        count += 1
        if seq != expected_seq:
            return AuditReport(count, purged, expected_seq, f"entry {expected_seq} is missing")
        if bytes(row_prev) != prev:
            return AuditReport(count, purged, seq, "does not link to the previous entry's hash")
        if at is None:  # contents removed by retention: only the link can be checked
            purged += 1
        elif entry_hash(
            prev, seq, dict(zip(_FIELDS, (at, actor, action, subject, result), strict=True))
        ) != bytes(digest):
            return AuditReport(count, purged, seq, "contents do not match the entry's hash")
        if seq == anchor and expected is not None and bytes(digest) != expected.head:
            return AuditReport(count, purged, seq, "does not match the signed head", anchor)
        prev, expected_seq = bytes(digest), seq + 1
    return AuditReport(count, purged)
