"""The voter's check of her own enrollment: is my key on the published list, and who asked in my name?

docs/verifier.md §"The voter's enrollment", docs/protocol.md §5.2–§5.3. :func:`find_voter` takes the
registry's signed :class:`~degcore.issuance.enrollment.EnrollmentReceipt` the voter got when she
confirmed her application, and looks her reference up in the record: her line of the enrollment
list (with her key and ballot style?) and the issuance log's ``issued`` entries under her reference
(signed by her key?). An entry missing or carrying another key, or a credential issued under her
reference without her signature, is evidence against the registry or the issuer: the receipt is
signed by the registry's key, which the authority-signed setup names, and the list is signed by
the same key, so the two signed statements contradict each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from degcore.ballot.setup import file_sha256
from degcore.encoding import JsonValue
from degcore.errors import DegcoreError, InvalidInput, VerificationFailed
from degcore.issuance.enrollment import (
    Enrollment,
    EnrollmentReceipt,
    check_request_signature,
    parse_enrollment_line,
)
from degcore.issuance.log import Issued, parse_issuance_line
from degcore.record import RecordReader, layout
from degcore.verify.receipts import record_setup

__all__ = ["VoterLookup", "VoterStatus", "find_voter"]


class VoterStatus(StrEnum):
    """What the record says about one enrolled voter."""

    ISSUED = "issued under your signature"
    NOT_ISSUED = "enrolled, no credential issued"
    MISSING = "not on the published enrollment list"
    OTHER_KEY = "on the published list with another key or ballot style"
    NOT_YOURS = "a credential was issued under your reference without your signature"


#: The statuses that are evidence against the registry or the issuer.
EVIDENCE = frozenset({VoterStatus.MISSING, VoterStatus.OTHER_KEY, VoterStatus.NOT_YOURS})


@dataclass(frozen=True, slots=True)
class VoterLookup:
    """The answer for one enrollment receipt."""

    voter_ref: bytes
    status: VoterStatus
    #: Issuance-log positions of the ``issued`` entries under her reference.
    positions: tuple[int, ...] = ()
    detail: str = ""

    @property
    def evidence(self) -> bool:
        """The record contradicts the registry's signed receipt (or her signature): keep the receipt."""
        return self.status in EVIDENCE

    def to_json(self) -> dict[str, JsonValue]:
        """The machine-readable answer."""
        return {
            "voter_ref": self.voter_ref.hex(),
            "status": str(self.status),
            "positions": list(self.positions),
            "evidence": self.evidence,
            "detail": self.detail,
        }


def find_voter(record: str | Path, receipt: object) -> VoterLookup:
    """Look the voter's enrollment and issuance up in ``record``; a DegcoreError if either is unreadable.

    The receipt must be signed by the registry key of the record's (authority-signed) setup, and the
    published list head by the same key and be the one the setup names; otherwise the record or the
    receipt is not usable as evidence and the error says which.
    """
    parsed = EnrollmentReceipt.from_json(receipt)
    reader = RecordReader(record)
    setup = record_setup(reader)
    if parsed.election_id != setup.election_id:
        raise InvalidInput(
            f"the receipt is of election {parsed.election_id!r}, the record {setup.election_id!r}"
        )
    try:
        parsed.verify(setup.registry_key)
    except VerificationFailed:
        raise VerificationFailed(
            "enrollment-receipt", parsed.voter_ref.hex()[:16], "not signed by this election's registry key"
        ) from None
    listed = _listed_entry(reader, setup.registry_key, setup.remote_list_sha256, parsed.voter_ref)
    ref = parsed.voter_ref
    if listed is None:
        return VoterLookup(
            ref, VoterStatus.MISSING, detail="the registry signed your enrollment but did not list it"
        )
    if listed.voter_key != parsed.voter_key or listed.ballot_style != parsed.ballot_style:
        why = f"the list gives key {listed.voter_key.hex()[:16]}… style {listed.ballot_style}"
        return VoterLookup(ref, VoterStatus.OTHER_KEY, detail=f"{why} (a newer receipt, after a key change?)")
    mine: list[int] = []
    theirs: list[int] = []
    log_key = VerifyKey(setup.issuance_key)
    for position, issued, hash_, signature in _issued_under(reader, ref):
        try:
            log_key.verify(hash_, signature)
        except BadSignatureError:
            continue  # not an entry the issuer signed: V15's concern, not evidence of issuance
        try:
            check_request_signature(listed, setup.election_id, issued.request_sha256, issued.voter_signature)
        except VerificationFailed:
            theirs.append(position)
            continue
        (mine if issued.ballot_style == listed.ballot_style else theirs).append(position)
    if theirs:
        return VoterLookup(
            ref, VoterStatus.NOT_YOURS, tuple(theirs), "the issuer logged a request you did not sign"
        )
    if mine:
        return VoterLookup(ref, VoterStatus.ISSUED, tuple(mine))
    return VoterLookup(ref, VoterStatus.NOT_ISSUED)


def _listed_entry(
    reader: RecordReader, registry_key: bytes, head_sha256: bytes, ref: bytes
) -> Enrollment | None:
    """Her line of the enrollment list (None if absent), after checking the list is the signed one."""
    head = reader.remote_list()
    head.verify(registry_key)
    if file_sha256(head.to_json()) != head_sha256:
        raise VerificationFailed("enrollment-list", layout.REMOTE_LIST, "is not the list the setup names")
    digest, found = hashlib.sha256(), None
    for line in reader.lines(layout.ENROLLMENT):
        digest.update(line)
        if found is None and f'"voter_ref":"{ref.hex()}"'.encode() in line:
            found = parse_enrollment_line(line)
    if digest.digest() != head.entries_sha256:
        raise VerificationFailed("enrollment-list", layout.ENROLLMENT, "is not the list the registry signed")
    return found


def _issued_under(reader: RecordReader, ref: bytes) -> Iterator[tuple[int, Issued, bytes, bytes]]:
    """(position, payload, entry hash, log signature) of every parsable ``issued`` entry under ``ref``."""
    needle = ref.hex().encode()
    for line in reader.lines(layout.ISSUANCE_LOG):
        if needle not in line:
            continue
        try:
            entry, payload = parse_issuance_line(line)
        except DegcoreError:
            continue
        if isinstance(payload, Issued) and payload.voter_ref == ref:
            yield entry.position, payload, entry.hash, entry.signature
