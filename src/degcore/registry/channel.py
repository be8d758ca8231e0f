"""One voter, one channel: credential claims and the frozen remote list (docs/registry.md, issue 14).

The remote list is the voters with a *confirmed* application (channel ``remote``). A credential
claim is one column of the voter's row, written in the same transaction as every check that
allows it; the schema's CHECK (:mod:`degcore.registry.store`) refuses a claim beside the paper
channel or a paper vote, so the rules hold whatever order concurrent requests commit in.

The list is frozen at the close of registration: from then on no application changes a channel
(the deadlines in :mod:`degcore.registry.registry`, and the stored freeze for a caller whose
``now`` goes backwards). :func:`freeze` exports it once, signed, for the issuer, and signs the
public enrollment list (reference, key, style per remote voter) with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from nacl.signing import SigningKey

from degcore.errors import Ineligible, IneligibleReason, Rule, RuleViolation
from degcore.issuance.eligibility import RemoteList
from degcore.issuance.enrollment import Enrollment, EnrollmentList, parse_enrollment_line
from degcore.registry import audit, voters
from degcore.registry.status import Status
from degcore.storage import Transaction

__all__ = [
    "ENROLLMENT",
    "ENROLLMENT_LIST",
    "LIST",
    "claim",
    "claimed",
    "enrollment_of",
    "freeze",
    "frozen",
    "refuse_if_claimed",
    "stored_enrollment",
    "stored_list",
    "unconfirmed_reason",
]

#: ``publications`` kinds: the private list, the public list's signed head and its lines.
LIST, ENROLLMENT_LIST, ENROLLMENT = "remote-list", "enrollment-list", "enrollment"


def claimed(conn: Transaction, voter_id: str) -> str | None:
    """The ballot style of the voter's credential claim, if any."""
    row = conn.execute("SELECT claimed_style FROM voters WHERE voter_id = ?", (voter_id,)).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def frozen(conn: Transaction) -> bool:
    """Whether the remote list has been frozen (and its enrollment list published)."""
    return (
        conn.execute("SELECT 1 FROM publications WHERE kind = ?", (ENROLLMENT_LIST,)).fetchone() is not None
    )


def enrollment_of(conn: Transaction, voter_id: str) -> Enrollment | None:
    """The voter's enrolled reference, key and ballot style, if she is enrolled."""
    row = conn.execute(
        "SELECT voter_ref, voter_key, ballot_style FROM enrollments WHERE voter_id = ?", (voter_id,)
    ).fetchone()
    return None if row is None else Enrollment(bytes(row[0]), bytes(row[1]), str(row[2]))


def refuse_if_claimed(conn: Transaction, voter_id: str, what: str) -> None:
    """RuleViolation(ALREADY_ISSUED) if the voter claimed a credential: ``what`` is then impossible."""
    style = claimed(conn, voter_id)
    if style is not None:
        raise RuleViolation(
            Rule.ALREADY_ISSUED,
            f"voter {voter_id!r} received a credential for remote voting ({style}): {what}",
        )


def claim(
    conn: Transaction,
    *,
    voter_id: str,
    ballot_style: str,
    styles: Mapping[str, str],
    record: voters.VoterRecord | None,
    failed: list[IneligibleReason],
    now: datetime,
) -> str:
    """Record the voter's claim of a credential for ``ballot_style``; the audit result (idempotent).

    ``failed`` holds the eligibility rules the voter fails (``voters.assess``); ``styles`` maps
    district → ballot style. The caller has checked the election and the issuance window.
    """
    if record is None:
        raise Ineligible(IneligibleReason.NOT_ON_LIST, f"voter {voter_id!r} is not on the list")
    if record.credential_style is not None:
        if record.credential_style != ballot_style:
            raise RuleViolation(
                Rule.ALREADY_ISSUED, f"voter {voter_id!r} already claimed a credential of another style"
            )
        return "ok: already claimed"  # an issuer's retry after a lost answer
    if record.channel != "remote":
        failed.append(IneligibleReason.NOT_REMOTE_CHANNEL)
    if styles.get(record.district) != ballot_style:
        failed.append(IneligibleReason.WRONG_DISTRICT)
    if failed:
        why = ", ".join(failed)
        if IneligibleReason.NOT_REMOTE_CHANNEL in failed:
            why += f" ({unconfirmed_reason(conn, voter_id)})"
        raise Ineligible(failed[0], f"voter {voter_id!r}: {why}")
    if not _confirmed(conn, voter_id):  # pragma: no cover - channel remote means confirmed
        raise Ineligible(IneligibleReason.NOT_REMOTE_CHANNEL, f"voter {voter_id!r}: no confirmed application")
    conn.execute(
        "UPDATE voters SET claimed_style = ?, claimed_at = ? WHERE voter_id = ?",
        (ballot_style, now.isoformat(), voter_id),
    )
    return "ok"


def unconfirmed_reason(conn: Transaction, voter_id: str) -> str:
    """Why a paper-channel voter is not on the remote list: for the refusal's message."""
    row = conn.execute(
        "SELECT number FROM applications WHERE voter_id = ? AND status = ?", (voter_id, str(Status.APPROVED))
    ).fetchone()
    if row is None:
        return "not on the remote list"
    return f"application {row[0]} was approved but never confirmed with the one-time code"


def _confirmed(conn: Transaction, voter_id: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM applications WHERE voter_id = ? AND status = ?", (voter_id, str(Status.CONFIRMED))
    ).fetchone()
    return row is not None


def freeze(
    conn: Transaction,
    *,
    key: SigningKey,
    election_id: str,
    styles: Mapping[str, str],
    now: datetime,
    actor: str,
) -> RemoteList:
    """Export the remote list once: audited, then signed with the head that anchors its audit entry."""
    rows = conn.execute(
        "SELECT v.voter_id, e.voter_ref, e.voter_key, e.ballot_style FROM voters v"
        " JOIN applications a ON a.voter_id = v.voter_id JOIN enrollments e ON e.number = a.number"
        " WHERE v.channel = 'remote' AND a.status = ? ORDER BY v.voter_id",
        (str(Status.CONFIRMED),),
    ).fetchall()
    listed = {str(v): Enrollment(bytes(ref), bytes(key), str(style)) for v, ref, key, style in rows}
    subject = f"{len(listed)} voters"
    audit.append(conn, now, actor=actor, action="freeze_remote_list", subject=subject, result="ok")
    head = audit.sign_head(conn, key, election_id, now)
    remote = RemoteList.sign(key, election_id, now, listed, head)
    public, lines = remote.enrollment_list(key)
    for kind, body in (
        (LIST, json.dumps(remote.to_json(), sort_keys=True)),
        (ENROLLMENT_LIST, json.dumps(public.to_json(), sort_keys=True)),
        (ENROLLMENT, lines.decode()),
    ):
        conn.execute("INSERT INTO publications VALUES (?, ?)", (kind, body))
    return remote


def stored_list(conn: Transaction) -> RemoteList | None:
    """The frozen list, if it was frozen and not yet purged."""
    row = conn.execute("SELECT body FROM publications WHERE kind = ?", (LIST,)).fetchone()
    return None if row is None else RemoteList.from_json(json.loads(row[0]))


def stored_enrollment(conn: Transaction) -> tuple[EnrollmentList, Sequence[Enrollment]] | None:
    """The published enrollment list (head and entries), if the list was frozen (it outlives the purge)."""
    rows = dict(
        conn.execute(
            "SELECT kind, body FROM publications WHERE kind IN (?, ?)", (ENROLLMENT_LIST, ENROLLMENT)
        ).fetchall()
    )
    if ENROLLMENT_LIST not in rows:
        return None
    entries = [parse_enrollment_line(line) for line in str(rows[ENROLLMENT]).splitlines()]
    return EnrollmentList.from_json(json.loads(rows[ENROLLMENT_LIST])), entries
