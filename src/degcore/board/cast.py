"""What a voter's device sends to the ballot box, and what it gets back.

docs/protocol.md §9.1. A :class:`CastBallot` is the encrypted ballot, the anonymous credential
(issuer's RFC 9474 signature on the credential key) and the credential key's Ed25519 signature on
``"degcore/2/cast" ‖ ballot digest``. A :class:`Receipt` is the box's Ed25519 signature on the
log entry that holds the ballot: tracking code, position and chain head.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from degcore.ballot import ElectionContext, EncryptedBallot, verify_ballot
from degcore.encoding import JsonValue, from_hex, read_record, record_header, to_rfc3339
from degcore.errors import InvalidInput, Rule, RuleViolation, VerificationFailed
from degcore.issuance import Credential, VoterCredential

__all__ = ["CastBallot", "Policy", "Receipt", "check_cast", "sign_ballot"]

_SIGNED_PREFIX = b"degcore/2/cast"


@dataclass(frozen=True, slots=True)
class CastBallot:
    """An encrypted ballot, the credential it is cast with, and the credential key's signature."""

    ballot: EncryptedBallot
    credential: Credential
    signature: bytes

    def signed_bytes(self, context: ElectionContext, digest: bytes | None = None) -> bytes:
        """What the credential key signs (``digest``: the ballot's, if already computed)."""
        return _SIGNED_PREFIX + (digest or self.ballot.digest(context))

    def to_json(self, context: ElectionContext) -> dict[str, JsonValue]:
        """The canonical JSON object (the payload of a ``ballot`` entry of the box's log)."""
        return {
            **record_header("cast-ballot"),
            "ballot": self.ballot.to_json(context),
            "credential": self.credential.to_json(),
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, context: ElectionContext, obj: object) -> CastBallot:
        """Parse strictly (every element decoded with its membership check)."""
        f = read_record(obj, "cast-ballot", {"ballot", "credential", "signature"})
        return cls(
            EncryptedBallot.from_json(context, f["ballot"]),
            Credential.from_json(f["credential"]),
            from_hex(f["signature"], 64, "signature"),
        )


def sign_ballot(context: ElectionContext, ballot: EncryptedBallot, voter: VoterCredential) -> CastBallot:
    """On the device: sign the encrypted ballot with the credential key it was encrypted for."""
    if voter.credential.public_key != ballot.credential_key:
        raise InvalidInput("the ballot was encrypted for another credential key")
    unsigned = CastBallot(ballot, voter.credential, b"")
    return CastBallot(ballot, voter.credential, voter.sign(unsigned.signed_bytes(context)))


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof that the box accepted a ballot: where it is in the log and the box's signature on it."""

    tracking_code: str
    position: int
    head: bytes
    box_signature: bytes

    def verify(self, box_key: bytes) -> None:
        """Check the box's signature on ``head``; VerificationFailed("receipt") if it does not hold."""
        try:
            VerifyKey(box_key).verify(self.head, self.box_signature)
        except (BadSignatureError, ValueError, TypeError):
            raise VerificationFailed("receipt", self.tracking_code, "box signature does not verify") from None

    def to_json(self) -> dict[str, JsonValue]:
        """The canonical JSON object handed to the voter."""
        return {
            **record_header("receipt"),
            "tracking_code": self.tracking_code,
            "position": self.position,
            "head": self.head.hex(),
            "box_signature": self.box_signature.hex(),
        }

    @classmethod
    def from_json(cls, obj: object) -> Receipt:
        """Parse strictly."""
        f = read_record(obj, "receipt", {"tracking_code", "position", "head", "box_signature"})
        position = f["position"]
        if type(position) is not int or position < 1:
            raise InvalidInput("receipt: position must be a positive integer")
        code = from_hex(f["tracking_code"], 32, "tracking_code").hex()
        head = from_hex(f["head"], 32, "head")
        return cls(code, position, head, from_hex(f["box_signature"], 64, "box_signature"))


class Policy(StrEnum):
    """What happens to a second ballot of a credential."""

    FIRST = "first"  # refused: RuleViolation(credential_used) (the default; REQUIREMENTS R23)
    LAST = "last"  # accepted; the earlier ballot stays in the log, marked superseded


def check_cast(
    context: ElectionContext,
    issuer_keys: Mapping[str, rsa.RSAPublicKey],
    cast: CastBallot,
    now: datetime,
    digest: bytes | None = None,
) -> str:
    """Every check that needs no store; returns the tracking code or raises naming the failed check.

    ``digest``: the ballot's digest if the caller already has it (from the JSON it parsed).
    """
    manifest = context.manifest
    if not manifest.voting_open(now):
        window = f"{to_rfc3339(manifest.voting_starts)} to {to_rfc3339(manifest.voting_ends)}"
        raise RuleViolation(Rule.OUTSIDE_WINDOW, f"voting is open from {window}")
    ballot, credential = cast.ballot, cast.credential
    if credential.election_id != manifest.election_id or credential.ballot_style != ballot.style_id:
        raise VerificationFailed("credential", credential.id, "issued for another election or ballot style")
    key = issuer_keys.get(ballot.style_id)
    if key is None:
        raise VerificationFailed("credential", credential.id, f"no issuer key for style {ballot.style_id!r}")
    credential.verify(key)
    if credential.public_key != ballot.credential_key:
        raise VerificationFailed("ballot-signature", credential.id, "ballot encrypted for another key")
    digest = digest or ballot.digest(context)
    credential.verify_ballot_signature(cast.signed_bytes(context, digest), cast.signature)
    verify_ballot(context, ballot)
    return digest.hex()
