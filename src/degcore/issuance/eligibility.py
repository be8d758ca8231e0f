"""What the issuer asks about eligibility, and what the registry hands it (docs/registry.md).

``issuance`` never imports ``registry``: the registry provides an object satisfying
:class:`EligibilityOracle` (``Registry`` itself, which records each claim in its own database),
or publishes a signed :class:`RemoteList` that :class:`FrozenListEligibility` answers from, so an
issuer never needs the portal's keys or personal data. Either way the answer is the voter's
:class:`~degcore.issuance.enrollment.Enrollment`: the reference the issuer logs and the key that
must have signed the request. :class:`StaticEligibility` is a small
in-memory implementation for tests and demonstrations.

The two signed objects below follow docs/protocol.md §2.3 (:func:`degcore.chain.sign_object`):
Ed25519, by the registry's key, on the RFC 8785 canonical JSON of the object without its
``signature``. This module is the one place their formats are read and written (docs/registry.md
gives them field by field).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from degcore.chain import sign_object, verify_object
from degcore.encoding import (
    JsonValue,
    canonical_json,
    from_hex,
    from_rfc3339,
    read_record,
    record_header,
    to_hex,
    to_rfc3339,
)
from degcore.errors import (
    Ineligible,
    IneligibleReason,
    InvalidInput,
    Rule,
    RuleViolation,
)
from degcore.ids import check_id
from degcore.issuance.enrollment import Enrollment, EnrollmentList
from degcore.issuance.enrollment import integer_at_least as _int

if TYPE_CHECKING:
    from nacl.signing import SigningKey

__all__ = [
    "AuditHead",
    "EligibilityOracle",
    "FrozenListEligibility",
    "RemoteList",
    "StaticEligibility",
]


class EligibilityOracle(Protocol):
    """Decides whether an authenticated voter may receive a credential for a ballot style."""

    def check_credential_eligibility(
        self, voter_id: str, election_id: str, ballot_style: str, now: datetime
    ) -> Enrollment:
        """Her enrollment if the voter may get a credential for ``ballot_style`` now; else Ineligible."""
        ...


class StaticEligibility:
    """A fixed map voter id → enrollment (everyone listed is eligible for exactly her style)."""

    def __init__(self, enrolled: Mapping[str, Enrollment]) -> None:
        self._enrolled = dict(enrolled)

    def check_credential_eligibility(
        self, voter_id: str, election_id: str, ballot_style: str, now: datetime
    ) -> Enrollment:
        """Raise Ineligible(NOT_ON_LIST) for unknown voters, (WRONG_DISTRICT) for another style."""
        return _check_listed(self._enrolled, voter_id, ballot_style)


def _check_listed(enrolled: Mapping[str, Enrollment], voter_id: str, ballot_style: str) -> Enrollment:
    enrollment = enrolled.get(voter_id)
    if enrollment is None:
        raise Ineligible(IneligibleReason.NOT_ON_LIST, f"voter {voter_id!r} is not on the list")
    if enrollment.ballot_style != ballot_style:
        raise Ineligible(
            IneligibleReason.WRONG_DISTRICT, f"voter {voter_id!r} votes with another ballot style"
        )
    return enrollment


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The registry's signed audit-chain head: entry ``seq`` has hash ``head`` (the anchor of its log)."""

    election_id: str
    seq: int
    head: bytes
    at: datetime
    signature: bytes

    @classmethod
    def sign(cls, key: SigningKey, election_id: str, seq: int, head: bytes, at: datetime) -> AuditHead:
        """Sign the head ``(seq, head)`` of the registry's audit chain at time ``at``."""
        body: dict[str, JsonValue] = {
            **record_header("audit-head"),
            "election_id": check_id(election_id, "election_id"),
            "seq": _int(seq, "audit-head seq", 0),
            "head": to_hex(head),
            "at": to_rfc3339(at),
        }
        return cls.from_json(sign_object(key, body))

    def to_json(self) -> dict[str, JsonValue]:
        """The signed ``audit-head`` object."""
        return {
            **record_header("audit-head"),
            "election_id": self.election_id,
            "seq": self.seq,
            "head": to_hex(self.head),
            "at": to_rfc3339(self.at),
            "signature": to_hex(self.signature),
        }

    @classmethod
    def from_json(cls, obj: object) -> AuditHead:
        """Parse strictly (exactly the documented keys, canonical spellings); the signature is not checked."""
        f = read_record(obj, "audit-head", {"election_id", "seq", "head", "at", "signature"})
        return cls(
            check_id(f["election_id"], "audit-head election_id"),
            _int(f["seq"], "audit-head seq", 0),
            from_hex(f["head"], 32, "audit-head head"),
            from_rfc3339(f["at"], "audit-head at"),
            from_hex(f["signature"], 64, "audit-head signature"),
        )

    def verify(self, registry_key: bytes) -> None:
        """VerificationFailed('audit-head') unless the registry's key signed this head."""
        verify_object(self.to_json(), registry_key, "audit-head")


@dataclass(frozen=True, slots=True)
class RemoteList:
    """The frozen remote list (private, registry → issuer): voter id → her enrollment, nothing else.

    The issuer learns what it needs to check a request and nothing more than before voter keys:
    for each voter id (which it authenticates anyway) the ballot style, the pseudonymous reference
    it logs and the public key that must sign the request. The reference's salt stays with the
    registry and the voter.
    """

    election_id: str
    frozen_at: datetime
    voters: Mapping[str, Enrollment]
    audit_head: AuditHead
    signature: bytes

    @classmethod
    def sign(
        cls,
        key: SigningKey,
        election_id: str,
        frozen_at: datetime,
        voters: Mapping[str, Enrollment],
        audit_head: AuditHead,
    ) -> RemoteList:
        """The list signed by the registry's key; ``audit_head`` anchors the audit entry of the freeze."""
        body: dict[str, JsonValue] = {
            **record_header("remote-list"),
            "election_id": election_id,
            "frozen_at": to_rfc3339(frozen_at),
            "voters": _voters_json(voters),
            "audit_head": audit_head.to_json(),
        }
        return cls.from_json(sign_object(key, body))

    def to_json(self) -> dict[str, JsonValue]:
        """The signed ``remote-list`` object."""
        return {
            **record_header("remote-list"),
            "election_id": self.election_id,
            "frozen_at": to_rfc3339(self.frozen_at),
            "voters": _voters_json(self.voters),
            "audit_head": self.audit_head.to_json(),
            "signature": to_hex(self.signature),
        }

    @classmethod
    def from_json(cls, obj: object) -> RemoteList:
        """Parse strictly; a head of another election is refused. The signatures are not checked here."""
        f = read_record(obj, "remote-list", {"election_id", "frozen_at", "voters", "audit_head", "signature"})
        election_id = check_id(f["election_id"], "remote-list election_id")
        voters = f["voters"]
        if not isinstance(voters, Mapping):
            raise InvalidInput("remote-list voters: expected an object voter id → enrollment")
        listed = {check_id(v, "remote-list voter id"): Enrollment.from_json(e) for v, e in voters.items()}
        if len({e.voter_ref for e in listed.values()}) != len(listed):
            raise InvalidInput("remote-list: a voter reference appears twice")
        if len({e.voter_key for e in listed.values()}) != len(listed):
            raise InvalidInput("remote-list: a voter key appears twice")
        head = AuditHead.from_json(f["audit_head"])
        if head.election_id != election_id:
            raise InvalidInput(f"remote-list: its audit head is of election {head.election_id!r}")
        return cls(
            election_id,
            from_rfc3339(f["frozen_at"], "remote-list frozen_at"),
            listed,
            head,
            from_hex(f["signature"], 64, "remote-list signature"),
        )

    def verify(self, registry_key: bytes) -> None:
        """VerificationFailed unless the registry's key signed both the list and its audit head."""
        verify_object(self.to_json(), registry_key, "remote-list")
        self.audit_head.verify(registry_key)

    def sha256(self) -> bytes:
        """SHA-256 of the list's canonical JSON bytes (the signature included): what the public list binds."""
        return hashlib.sha256(canonical_json(self.to_json())).digest()

    def enrollment_list(self, key: SigningKey) -> tuple[EnrollmentList, bytes]:
        """The public, signed enrollment list of this list (its head and its lines), without voter ids."""
        return EnrollmentList.sign(key, self.election_id, self.frozen_at, self.voters.values(), self.sha256())


def _voters_json(voters: Mapping[str, Enrollment]) -> dict[str, JsonValue]:
    return {voter_id: e.to_json() for voter_id, e in sorted(voters.items())}


class FrozenListEligibility:
    """An :class:`EligibilityOracle` over a verified :class:`RemoteList`, inside ``[opens, closes)``.

    It holds no secret and no personal data beyond the voter ids on the list; the once-only rule is
    the issuer's own store. Take ``opens``/``closes`` from the election's issuance window.
    """

    def __init__(
        self, remote_list: RemoteList, registry_key: bytes, *, opens: datetime, closes: datetime
    ) -> None:
        remote_list.verify(registry_key)
        for name, moment in (("opens", opens), ("closes", closes)):
            if not isinstance(moment, datetime) or moment.utcoffset() is None:
                raise InvalidInput(f"{name} must be a timezone-aware datetime")
        if not opens < closes:
            raise InvalidInput("the issuance window needs opens < closes")
        self.remote_list = remote_list
        self.opens, self.closes = opens, closes

    def check_credential_eligibility(
        self, voter_id: str, election_id: str, ballot_style: str, now: datetime
    ) -> Enrollment:
        """Her enrollment from the list; Ineligible if absent or of another style; RuleViolation outside."""
        if not isinstance(now, datetime) or now.utcoffset() is None:
            raise InvalidInput("now must be a timezone-aware datetime")
        if election_id != self.remote_list.election_id:
            raise Ineligible(IneligibleReason.NOT_ON_LIST, f"this list is of {self.remote_list.election_id}")
        if not self.opens <= now < self.closes:
            raise RuleViolation(
                Rule.OUTSIDE_WINDOW,
                f"credentials are issued from {to_rfc3339(self.opens)} until {to_rfc3339(self.closes)}",
            )
        return _check_listed(self.remote_list.voters, voter_id, ballot_style)
