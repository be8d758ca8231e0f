"""Voter keys: enrollment, the published enrollment list, voter-signed credential requests.

docs/protocol.md §5.2–§5.3, docs/registry.md ("Voter keys"). When a voter applies for remote
voting, her device makes an Ed25519 key pair; the registry enrolls the public key with her
confirmed application under a pseudonymous **voter reference** and gives her a signed
:class:`EnrollmentReceipt`. At the freeze the registry publishes the :class:`EnrollmentList`: one
line per remote voter (reference, key, ballot style; nothing personal), signed through its hash.
The device signs each credential request with her key (:func:`sign_credential_request`); the issuer
checks it against the enrolled key before it signs blindly and logs the signature, so every
``issued`` entry of the issuance log carries its voter's own authorisation and the verifier
checks it against the published list. The credential itself is unchanged: the ballot stays
unlinkable to the voter.

This module is the one place these objects are written and read (every signed object follows
:func:`degcore.chain.sign_object`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from nacl.bindings import crypto_core_ed25519_is_valid_point
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from degcore.chain import sign_object, verify_object
from degcore.encoding import (
    JsonValue,
    canonical_json,
    from_hex,
    from_rfc3339,
    parse_canonical,
    read_record,
    record_header,
    to_hex,
    to_rfc3339,
)
from degcore.errors import InvalidInput, NonCanonical, VerificationFailed
from degcore.ids import check_id

__all__ = [
    "VOTER_KEY_BYTES",
    "Enrollment",
    "EnrollmentList",
    "EnrollmentReceipt",
    "check_request_signature",
    "check_voter_key",
    "credential_request",
    "enrollment_lines",
    "parse_enrollment_line",
    "sign_credential_request",
]

#: An enrolled voter key is a 32-byte Ed25519 public key.
VOTER_KEY_BYTES = 32


def check_voter_key(value: object, what: str = "voter_key") -> bytes:
    """A voter's Ed25519 public key from hex text or bytes: a valid curve point of the prime-order subgroup.

    The all-zero key, small-order points and non-canonical encodings are refused: a key that
    verifies "any" signature would let anyone sign for the voter.
    """
    key = from_hex(value, VOTER_KEY_BYTES, what) if isinstance(value, str) else value
    if not isinstance(key, bytes) or len(key) != VOTER_KEY_BYTES:
        raise InvalidInput(f"{what}: expected a {VOTER_KEY_BYTES}-byte Ed25519 public key")
    if not crypto_core_ed25519_is_valid_point(key):
        raise InvalidInput(f"{what}: not a valid Ed25519 public key (off the curve or of small order)")
    return key


@dataclass(frozen=True, slots=True)
class Enrollment:
    """One remote voter as the issuer and the public see her: reference, key, ballot style."""

    voter_ref: bytes
    voter_key: bytes
    ballot_style: str

    def to_json(self) -> dict[str, JsonValue]:
        """The line object of ``eligibility/enrollment.jsonl`` (type ``enrollment``)."""
        return {
            **record_header("enrollment"),
            "voter_ref": to_hex(self.voter_ref),
            "voter_key": to_hex(self.voter_key),
            "ballot_style": self.ballot_style,
        }

    @classmethod
    def from_json(cls, obj: object) -> Enrollment:
        """Parse strictly: exact keys, a 32-byte reference, a valid key, a ballot style id."""
        f = read_record(obj, "enrollment", {"voter_ref", "voter_key", "ballot_style"})
        return cls(
            from_hex(f["voter_ref"], 32, "enrollment voter_ref"),
            check_voter_key(f["voter_key"], "enrollment voter_key"),
            check_id(f["ballot_style"], "enrollment ballot_style"),
        )


def parse_enrollment_line(line: bytes | str) -> Enrollment:
    """One line of ``eligibility/enrollment.jsonl`` (canonical bytes, optionally ending in ``\\n``)."""
    raw = line.encode() if isinstance(line, str) else line
    return Enrollment.from_json(parse_canonical(raw.removesuffix(b"\n"), "enrollment line"))


def enrollment_lines(entries: Iterable[Enrollment]) -> bytes:
    """The bytes of ``eligibility/enrollment.jsonl``: one canonical line per entry, by voter reference."""
    ordered = sorted(entries, key=lambda e: e.voter_ref)
    return b"".join(canonical_json(e.to_json()) + b"\n" for e in ordered)


# --- the credential request ---------------------------------------------------------------------
def credential_request(election_id: str, ballot_style: str, voter_ref: bytes, request_sha256: bytes) -> bytes:
    """The exact bytes a voter's key signs to ask for a credential (docs/protocol.md §5.3).

    The canonical JSON of ``{"format", "type": "issuance-request", "election_id",
    "ballot_style", "voter_ref", "request_sha256"}``, where ``request_sha256`` is the plain SHA-256
    of the blinded message. The type field keeps the signature from verifying as anything else.
    """
    if len(voter_ref) != 32 or len(request_sha256) != 32:
        raise InvalidInput("credential request: voter_ref and request_sha256 are 32 bytes each")
    return canonical_json(
        {
            **record_header("issuance-request"),
            "election_id": check_id(election_id, "election_id"),
            "ballot_style": check_id(ballot_style, "ballot_style"),
            "voter_ref": to_hex(voter_ref),
            "request_sha256": to_hex(request_sha256),
        }
    )


def sign_credential_request(
    voter_key: SigningKey, election_id: str, ballot_style: str, voter_ref: bytes, blinded_msg: bytes
) -> bytes:
    """Device side: the voter's Ed25519 signature (64 bytes) on her request for this blinded message."""
    if not isinstance(voter_key, SigningKey):
        raise InvalidInput("voter_key must be the voter's nacl.signing.SigningKey")
    digest = hashlib.sha256(blinded_msg).digest()
    return voter_key.sign(credential_request(election_id, ballot_style, voter_ref, digest)).signature


def check_request_signature(
    enrollment: Enrollment, election_id: str, request_sha256: bytes, signature: bytes
) -> None:
    """VerificationFailed('issuance-request') unless the enrolled key signed exactly this request."""
    message = credential_request(election_id, enrollment.ballot_style, enrollment.voter_ref, request_sha256)
    try:
        VerifyKey(enrollment.voter_key).verify(message, signature)
    except (BadSignatureError, ValueError, TypeError):
        raise VerificationFailed(
            "issuance-request",
            f"voter reference {enrollment.voter_ref.hex()[:16]}",
            "the request is not signed by the voter's enrolled key",
        ) from None


# --- the enrollment receipt ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EnrollmentReceipt:
    """The registry's signed statement to one voter: this key is enrolled for you, under this reference.

    ``salt`` lets her (and only someone who also knows her voter id) recompute the reference with
    :func:`degcore.issuance.log.voter_reference`. Keep it private, like the voter id.
    """

    election_id: str
    voter_ref: bytes
    salt: bytes
    voter_key: bytes
    ballot_style: str
    enrolled_at: datetime
    signature: bytes

    @classmethod
    def sign(
        cls,
        key: SigningKey,
        election_id: str,
        enrollment: Enrollment,
        salt: bytes,
        enrolled_at: datetime,
    ) -> EnrollmentReceipt:
        """The receipt for ``enrollment``, signed by the registry's key."""
        body: dict[str, JsonValue] = {
            **record_header("enrollment-receipt"),
            "election_id": check_id(election_id, "election_id"),
            "voter_ref": to_hex(enrollment.voter_ref),
            "salt": to_hex(salt),
            "voter_key": to_hex(enrollment.voter_key),
            "ballot_style": enrollment.ballot_style,
            "enrolled_at": to_rfc3339(enrolled_at),
        }
        return cls.from_json(sign_object(key, body))

    @property
    def enrollment(self) -> Enrollment:
        """The entry of the published list this receipt promises."""
        return Enrollment(self.voter_ref, self.voter_key, self.ballot_style)

    def to_json(self) -> dict[str, JsonValue]:
        """The signed ``enrollment-receipt`` object."""
        return {
            **record_header("enrollment-receipt"),
            "election_id": self.election_id,
            "voter_ref": to_hex(self.voter_ref),
            "salt": to_hex(self.salt),
            "voter_key": to_hex(self.voter_key),
            "ballot_style": self.ballot_style,
            "enrolled_at": to_rfc3339(self.enrolled_at),
            "signature": to_hex(self.signature),
        }

    @classmethod
    def from_json(cls, obj: object) -> EnrollmentReceipt:
        """Parse strictly; the signature is checked by :meth:`verify`."""
        keys = {"election_id", "voter_ref", "salt", "voter_key", "ballot_style", "enrolled_at", "signature"}
        f = read_record(obj, "enrollment-receipt", keys)
        return cls(
            check_id(f["election_id"], "enrollment-receipt election_id"),
            from_hex(f["voter_ref"], 32, "enrollment-receipt voter_ref"),
            from_hex(f["salt"], 32, "enrollment-receipt salt"),
            check_voter_key(f["voter_key"], "enrollment-receipt voter_key"),
            check_id(f["ballot_style"], "enrollment-receipt ballot_style"),
            from_rfc3339(f["enrolled_at"], "enrollment-receipt enrolled_at"),
            from_hex(f["signature"], 64, "enrollment-receipt signature"),
        )

    def verify(self, registry_key: bytes) -> None:
        """VerificationFailed('enrollment-receipt') unless the registry's key signed this receipt."""
        verify_object(self.to_json(), registry_key, "enrollment-receipt")


# --- the published list -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EnrollmentList:
    """The signed head of the published enrollment list (the record's ``eligibility/remote-list.json``).

    It names the list's lines by their SHA-256 (``entries_sha256`` of ``eligibility/enrollment.jsonl``)
    and count, and carries the counts per ballot style that the setup repeats: one source of truth
    for the remote list's size. ``list_sha256`` binds the private list the issuer holds.
    """

    election_id: str
    frozen_at: datetime
    counts: Mapping[str, int]
    entries: int
    entries_sha256: bytes
    list_sha256: bytes
    signature: bytes

    @classmethod
    def sign(
        cls,
        key: SigningKey,
        election_id: str,
        frozen_at: datetime,
        entries: Iterable[Enrollment],
        list_sha256: bytes,
    ) -> tuple[EnrollmentList, bytes]:
        """The signed head and the lines it names, for ``entries``."""
        listed = list(entries)
        lines = enrollment_lines(listed)
        body: dict[str, JsonValue] = {
            **record_header("enrollment-list"),
            "election_id": check_id(election_id, "election_id"),
            "frozen_at": to_rfc3339(frozen_at),
            "counts": dict(sorted(Counter(e.ballot_style for e in listed).items())),
            "entries": len(listed),
            "entries_sha256": hashlib.sha256(lines).hexdigest(),
            "list_sha256": to_hex(list_sha256),
        }
        return cls.from_json(sign_object(key, body)), lines

    def to_json(self) -> dict[str, JsonValue]:
        """The signed ``enrollment-list`` object."""
        return {
            **record_header("enrollment-list"),
            "election_id": self.election_id,
            "frozen_at": to_rfc3339(self.frozen_at),
            "counts": dict(self.counts),
            "entries": self.entries,
            "entries_sha256": to_hex(self.entries_sha256),
            "list_sha256": to_hex(self.list_sha256),
            "signature": to_hex(self.signature),
        }

    @classmethod
    def from_json(cls, obj: object) -> EnrollmentList:
        """Parse strictly: each count at least 1 (a style with no remote voter is absent), sum = entries."""
        keys = {"election_id", "frozen_at", "counts", "entries", "entries_sha256", "list_sha256", "signature"}
        f = read_record(obj, "enrollment-list", keys)
        counts = f["counts"]
        if not isinstance(counts, Mapping):
            raise InvalidInput("enrollment-list counts: expected an object ballot style → number")
        parsed = {
            check_id(s, "enrollment-list style"): integer_at_least(n, f"count of {s}", 1)
            for s, n in counts.items()
        }
        entries = integer_at_least(f["entries"], "enrollment-list entries", 0)
        if sum(parsed.values()) != entries:
            raise InvalidInput(f"enrollment-list: counts sum to {sum(parsed.values())}, entries is {entries}")
        return cls(
            check_id(f["election_id"], "enrollment-list election_id"),
            from_rfc3339(f["frozen_at"], "enrollment-list frozen_at"),
            parsed,
            entries,
            from_hex(f["entries_sha256"], 32, "enrollment-list entries_sha256"),
            from_hex(f["list_sha256"], 32, "enrollment-list list_sha256"),
            from_hex(f["signature"], 64, "enrollment-list signature"),
        )

    def verify(self, registry_key: bytes) -> None:
        """VerificationFailed('enrollment-list') unless the registry's key signed this head."""
        verify_object(self.to_json(), registry_key, "enrollment-list")


def integer_at_least(value: object, what: str, minimum: int) -> int:
    """``value`` if it is a JSON integer (not a boolean) of at least ``minimum``; else a DegcoreError."""
    if type(value) is not int:
        raise InvalidInput(f"{what}: expected an integer, got {type(value).__name__}")
    if value < minimum:
        raise NonCanonical(f"{what}: must be at least {minimum}, got {value}")
    return value
