"""Anonymous voting credentials (docs/architecture.md §2 step 4, docs/protocol.md §5).

The voter's device makes a fresh Ed25519 key pair and asks the issuer for an RSABSSA-SHA384-PSS-
Randomized blind signature on the *credential message*, the canonical JSON

    {"ballot_style": S, "election_id": E, "format": "degcore/4", "public_key": hex(pk), "type": "credential"}

A :class:`Credential` is (election id, ballot style, Ed25519 public key, the RFC 9474 random prefix,
the issuer's signature on prefix ‖ message). Anyone with the issuer's public key for that election
and ballot style can check it; it carries nothing about the voter. A :class:`VoterCredential` adds
the Ed25519 signing key and is the voter's secret.

Text form for QR codes: ``DEGCORE2-CRED:`` or ``DEGCORE2-SECRET:`` followed by the unpadded
RFC 4648 base32 of the canonical JSON; every character is in the QR alphanumeric set.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from degcore.encoding import canonical_json, from_hex, plain_canonical_json, read_record, record_header
from degcore.errors import InvalidInput, NonCanonical, VerificationFailed
from degcore.ids import check_id
from degcore.issuance import rsabssa
from degcore.issuance.enrollment import sign_credential_request
from degcore.issuance.log import IssuanceReceipt

__all__ = [
    "VARIANT",
    "Credential",
    "CredentialRequest",
    "VoterCredential",
    "authorise_request",
    "check_issuance_receipt",
    "credential_message",
    "finish_credential",
    "request_credential",
]

#: The variant degcore uses for credentials (docs/architecture.md §2 step 4).
VARIANT = rsabssa.Variant.PSS_RANDOMIZED
_PUBLIC_PREFIX = "DEGCORE2-CRED:"
_SECRET_PREFIX = "DEGCORE2-SECRET:"  # noqa: S105 - a payload tag, not a password


def credential_message(election_id: str, ballot_style: str, public_key: bytes) -> bytes:
    """The canonical bytes the issuer blindly signs (before RFC 9474's random prefix)."""
    check_id(election_id, "election_id")
    check_id(ballot_style, "ballot_style")
    if len(public_key) != 32:
        raise InvalidInput("credential public key must be a 32-byte Ed25519 key")
    return plain_canonical_json(  # ids checked above, the rest fixed keys and hex
        {
            **record_header("credential"),
            "election_id": election_id,
            "ballot_style": ballot_style,
            "public_key": public_key.hex(),
        }
    )


@dataclass(frozen=True, slots=True)
class Credential:
    """A finalised anonymous credential: public, checkable with the issuer's key, voter-free."""

    election_id: str
    ballot_style: str
    #: The Ed25519 public key that signs this credential's ballot; also its unique id.
    public_key: bytes
    #: RFC 9474 msg_prefix: 32 random bytes prepended to the message before signing.
    prefix: bytes
    #: The issuer's RSASSA-PSS (SHA-384, salt 48) signature on ``prefix ‖ message``.
    signature: bytes

    @property
    def id(self) -> str:
        """The credential id: the hex of its public key (what the ballot box keeps unique)."""
        return self.public_key.hex()

    def message(self) -> bytes:
        """The prepared message the issuer signed: prefix ‖ credential_message(...)."""
        return self.prefix + credential_message(self.election_id, self.ballot_style, self.public_key)

    def verify(self, issuer_key: rsa.RSAPublicKey) -> None:
        """Check the issuer's signature; raise VerificationFailed("credential") if it does not hold."""
        try:
            rsabssa.verify(issuer_key, self.message(), self.signature, VARIANT)
        except VerificationFailed as exc:
            raise VerificationFailed("credential", self.id, exc.detail) from None

    def verify_ballot_signature(self, payload: bytes, signature: bytes) -> None:
        """Check an Ed25519 signature by this credential's key on ``payload``."""
        try:
            VerifyKey(self.public_key).verify(payload, signature)
        except (BadSignatureError, ValueError, TypeError):
            raise VerificationFailed(
                "ballot-signature", self.id, "Ed25519 signature does not verify"
            ) from None

    def to_json(self) -> dict[str, str]:
        """The JSON object of this credential (canonical field names, lowercase hex)."""
        return {
            **record_header("credential"),
            "election_id": self.election_id,
            "ballot_style": self.ballot_style,
            "public_key": self.public_key.hex(),
            "prefix": self.prefix.hex(),
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, obj: object) -> Credential:
        """Parse strictly: exactly the expected keys, canonical hex, valid ids."""
        keys = {"election_id", "ballot_style", "public_key", "prefix", "signature"}
        fields = read_record(obj, "credential", keys)
        signature = fields["signature"]
        if not isinstance(signature, str) or len(signature) % 2 or not 512 <= len(signature) <= 2048:
            raise InvalidInput("credential signature must be the hex of 256–1024 bytes")
        return cls(
            election_id=check_id(fields["election_id"], "election_id"),
            ballot_style=check_id(fields["ballot_style"], "ballot_style"),
            public_key=from_hex(fields["public_key"], 32, "public_key"),
            prefix=from_hex(fields["prefix"], 32, "prefix"),
            signature=from_hex(signature, len(signature) // 2, "signature"),
        )

    def to_qr_text(self) -> str:
        """QR payload (alphanumeric mode) of the public credential."""
        return _to_text(_PUBLIC_PREFIX, self.to_json())

    @classmethod
    def from_qr_text(cls, text: str) -> Credential:
        """Parse :meth:`to_qr_text` output."""
        return cls.from_json(_from_text(_PUBLIC_PREFIX, text))


@dataclass(frozen=True, slots=True, repr=False)
class VoterCredential:
    """A credential together with its Ed25519 signing key: the voter's secret."""

    credential: Credential
    signing_key: SigningKey

    def sign(self, payload: bytes) -> bytes:
        """Ed25519 signature on ``payload`` (a ballot's canonical bytes)."""
        return bytes(self.signing_key.sign(payload).signature)

    def __repr__(self) -> str:
        return f"VoterCredential({self.credential.id[:16]}…, <secret key hidden>)"

    def to_qr_text(self) -> str:
        """QR payload for moving the credential *and its secret key* to another device. Treat as secret."""
        obj = dict(self.credential.to_json())
        obj["secret_seed"] = bytes(self.signing_key).hex()
        return _to_text(_SECRET_PREFIX, obj)

    @classmethod
    def from_qr_text(cls, text: str) -> VoterCredential:
        """Parse :meth:`to_qr_text` output; the seed must match the credential's public key."""
        obj = _from_text(_SECRET_PREFIX, text)
        if not isinstance(obj, dict) or "secret_seed" not in obj:
            raise InvalidInput("secret credential payload lacks its secret_seed")
        seed = from_hex(obj.pop("secret_seed"), 32, "secret_seed")
        credential = Credential.from_json(obj)
        key = SigningKey(seed)
        if bytes(key.verify_key) != credential.public_key:
            raise InvalidInput("secret_seed does not belong to the credential's public key")
        return cls(credential, key)


@dataclass(frozen=True, slots=True, repr=False)
class CredentialRequest:
    """The device's state between :func:`request_credential` and :func:`finish_credential` (secret)."""

    election_id: str
    ballot_style: str
    signing_key: SigningKey
    prepared: bytes
    inv: int
    #: What the device sends to the issuer: nothing else about the credential leaves the device.
    blinded_msg: bytes

    def __repr__(self) -> str:
        return f"CredentialRequest({self.election_id}, {self.ballot_style}, <secret key hidden>)"

    def to_json(self) -> dict[str, str]:
        """The device's pending state as JSON, to keep until the blind signature comes. Secret."""
        size = len(self.blinded_msg)
        return {
            **record_header("credential-request"),
            "election_id": self.election_id,
            "ballot_style": self.ballot_style,
            "secret_seed": bytes(self.signing_key).hex(),
            "prepared": self.prepared.hex(),
            "inv": self.inv.to_bytes(size, "big").hex(),
            "blinded_msg": self.blinded_msg.hex(),
        }

    @classmethod
    def from_json(cls, obj: object) -> CredentialRequest:
        """Parse :meth:`to_json` output strictly; the prepared message must be this key's."""
        keys = {"election_id", "ballot_style", "secret_seed", "prepared", "inv", "blinded_msg"}
        fields = read_record(obj, "credential-request", keys)
        blinded = fields["blinded_msg"]
        if not isinstance(blinded, str) or len(blinded) % 2 or not 512 <= len(blinded) <= 2048:
            raise InvalidInput("blinded_msg must be the hex of 256–1024 bytes")
        size = len(blinded) // 2
        election_id = check_id(fields["election_id"], "election_id")
        ballot_style = check_id(fields["ballot_style"], "ballot_style")
        key = SigningKey(from_hex(fields["secret_seed"], 32, "secret_seed"))
        message = _message(election_id, ballot_style, key)
        prepared = from_hex(fields["prepared"], 32 + len(message), "prepared")
        if prepared[32:] != message:
            raise InvalidInput("the prepared message is not this key's credential message")
        inv = int.from_bytes(from_hex(fields["inv"], size, "inv"), "big")
        return cls(election_id, ballot_style, key, prepared, inv, from_hex(blinded, size, "blinded_msg"))


def _message(election_id: str, ballot_style: str, key: SigningKey) -> bytes:
    return credential_message(election_id, ballot_style, bytes(key.verify_key))


def request_credential(
    issuer_key: rsa.RSAPublicKey, election_id: str, ballot_style: str
) -> CredentialRequest:
    """Device side: a fresh Ed25519 key, the credential message, RFC 9474 prepare and blind."""
    signing_key = SigningKey.generate()
    message = credential_message(election_id, ballot_style, bytes(signing_key.verify_key))
    prepared = rsabssa.prepare(message, VARIANT)
    blinded = rsabssa.blind(issuer_key, prepared, VARIANT)
    return CredentialRequest(
        election_id, ballot_style, signing_key, prepared, blinded.inv, blinded.blinded_msg
    )


def finish_credential(
    request: CredentialRequest, blind_sig: bytes, issuer_key: rsa.RSAPublicKey
) -> VoterCredential:
    """Device side: RFC 9474 finalize (unblind and verify) into a usable credential."""
    signature = rsabssa.finalize(issuer_key, request.prepared, blind_sig, request.inv, VARIANT)
    credential = Credential(
        election_id=request.election_id,
        ballot_style=request.ballot_style,
        public_key=bytes(request.signing_key.verify_key),
        prefix=request.prepared[:32],
        signature=signature,
    )
    return VoterCredential(credential, request.signing_key)


def authorise_request(request: CredentialRequest, voter_key: SigningKey, voter_ref: bytes) -> bytes:
    """Device side: the voter's signature on this request with her enrolled key (docs/protocol.md §5.3)."""
    return sign_credential_request(
        voter_key, request.election_id, request.ballot_style, voter_ref, request.blinded_msg
    )


def check_issuance_receipt(
    request: CredentialRequest,
    receipt: IssuanceReceipt,
    voter_ref: bytes,
    voter_signature: bytes,
    log_key: bytes,
) -> None:
    """Device side (docs/protocol.md §5.4): the issuer logged *this* request for *this* voter, signed.

    Rebuilds the entry from the voter's reference (her enrollment receipt), the ballot style,
    SHA-256 of the blinded message the device sent and her signature on the request; the voter
    later finds the same entry at ``receipt.position`` of the published issuance log.
    """
    if (receipt.election_id, receipt.ballot_style) != (request.election_id, request.ballot_style):
        raise VerificationFailed(
            "issuance-receipt", f"position {receipt.position}", "the receipt is for another election or style"
        )
    receipt.verify(voter_ref, hashlib.sha256(request.blinded_msg).digest(), voter_signature, log_key)


def _to_text(prefix: str, obj: dict[str, str]) -> str:
    return prefix + base64.b32encode(canonical_json(obj)).decode().rstrip("=")


def _from_text(prefix: str, text: str) -> object:
    if not isinstance(text, str) or not text.startswith(prefix):
        raise InvalidInput(f"payload must start with {prefix!r}")
    body = text[len(prefix) :]
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
        obj = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"payload is not base32 of JSON: {exc}") from None
    if not isinstance(obj, dict) or canonical_json(obj) != raw:
        raise NonCanonical("payload JSON is not canonical")
    return obj
