"""What a voter's device sends to the ballot box, and what it gets back.

docs/protocol.md §9.1. A :class:`CastBallot` is the encrypted ballot, the anonymous credential
(issuer's RFC 9474 signature on the credential key) and the credential key's Ed25519 signature on
``"degcore/4/cast" ‖ ballot digest``. A :class:`Receipt` is the box's Ed25519 signature binding
the election, the ballot (tracking code and payload hash) and its log entry (position and hash).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from degcore.ballot import ElectionContext, EncryptedBallot, OpenedBallot, ballot_equations
from degcore.elgamal.batch import Batch
from degcore.encoding import JsonValue, canonical_json, from_hex, read_record, record_header, to_rfc3339
from degcore.errors import InvalidInput, Rule, RuleViolation, VerificationFailed
from degcore.hashing import sha256
from degcore.issuance import Credential, VoterCredential

__all__ = ["CastBallot", "Policy", "Receipt", "check_cast", "check_cast_deferred", "sign_ballot"]

_SIGNED_PREFIX = b"degcore/4/cast"
_RECEIPT_TAG = b"degcore/4/receipt"


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
    """The box's signed statement that entry ``position`` of its log holds exactly this ballot.

    docs/protocol.md §9.4. ``box_signature`` is the box's Ed25519 signature on :meth:`digest`:
    ``sha256("degcore/4/receipt", election, tracking code, u64(position), payload_hash,
    entry_hash)``, so a receipt names one election, one ballot and one log entry at once.
    """

    election: bytes  #: the election's base hash
    tracking_code: str  #: 64 hex digits; "" for the close entry
    position: int
    payload_hash: bytes  #: sha256(payload) of the logged entry
    entry_hash: bytes  #: hash_n of the entry: the log's head right after it
    box_signature: bytes

    def digest(self) -> bytes:
        """What the box signs."""
        return _receipt_digest(
            self.election, self.tracking_code, self.position, self.payload_hash, self.entry_hash
        )

    @classmethod
    def issue(
        cls,
        key: SigningKey,
        *,
        election: bytes,
        tracking_code: str,
        position: int,
        payload: bytes,
        entry: bytes,
    ) -> Receipt:
        """On the box: sign the receipt of the logged entry (``position``, ``payload``, hash ``entry``)."""
        payload_hash = sha256(payload)
        digest = _receipt_digest(election, tracking_code, position, payload_hash, entry)
        return cls(election, tracking_code, position, payload_hash, entry, key.sign(digest).signature)

    def verify(self, box_key: bytes, base_hash: bytes) -> None:
        """Check the election and the box's signature; VerificationFailed("receipt") if either fails."""
        if self.election != base_hash:
            raise VerificationFailed("receipt", self.tracking_code, "issued for another election")
        try:
            VerifyKey(box_key).verify(self.digest(), self.box_signature)
        except (BadSignatureError, ValueError, TypeError):
            raise VerificationFailed("receipt", self.tracking_code, "box signature does not verify") from None

    def check_ballot(self, context: ElectionContext, sent: CastBallot | OpenedBallot) -> None:
        """On the device: the receipt names the ballot it sent (cast or challenged), byte for byte."""
        code = sent.ballot.tracking_code(context)
        if self.tracking_code != code:
            raise VerificationFailed(
                "receipt", code, f"names another ballot ({self.tracking_code or 'none'})"
            )
        if self.payload_hash != sha256(canonical_json(sent.to_json(context))):
            raise VerificationFailed("receipt", code, "the logged entry is not the ballot that was sent")

    def to_json(self) -> dict[str, JsonValue]:
        """The canonical JSON object handed to the voter."""
        return {
            **record_header("receipt"),
            "election": self.election.hex(),
            "tracking_code": self.tracking_code,
            "position": self.position,
            "payload_hash": self.payload_hash.hex(),
            "entry_hash": self.entry_hash.hex(),
            "box_signature": self.box_signature.hex(),
        }

    @classmethod
    def from_json(cls, obj: object) -> Receipt:
        """Parse strictly."""
        keys = {"election", "tracking_code", "position", "payload_hash", "entry_hash", "box_signature"}
        f = read_record(obj, "receipt", keys)
        position = f["position"]
        if type(position) is not int or not 1 <= position < 1 << 64:
            raise InvalidInput("receipt: position must be a positive integer")
        code = f["tracking_code"]
        code = "" if code == "" else from_hex(code, 32, "tracking_code").hex()
        return cls(
            from_hex(f["election"], 32, "election"),
            code,
            position,
            from_hex(f["payload_hash"], 32, "payload_hash"),
            from_hex(f["entry_hash"], 32, "entry_hash"),
            from_hex(f["box_signature"], 64, "box_signature"),
        )


def _receipt_digest(election: bytes, code: str, position: int, payload_hash: bytes, entry: bytes) -> bytes:
    return sha256(
        _RECEIPT_TAG, election, bytes.fromhex(code), position.to_bytes(8, "big"), payload_hash, entry
    )


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
    code, proofs = check_cast_deferred(context, issuer_keys, cast, now, digest)
    proofs.verify()
    return code


def check_cast_deferred(
    context: ElectionContext,
    issuer_keys: Mapping[str, rsa.RSAPublicKey],
    cast: CastBallot,
    now: datetime,
    digest: bytes | None = None,
) -> tuple[str, Batch]:
    """:func:`check_cast` but for the proofs: the tracking code and the equations the caller must check."""
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
    return digest.hex(), ballot_equations(context, ballot)
