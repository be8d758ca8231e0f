"""Trustee message signatures: every message a trustee publishes is signed with its roster key.

docs/protocol.md §6.7. The ceremony configuration names each trustee's Ed25519 public signing key.
A trustee signs each message it publishes — its round-1 commitment, its complaints, its answers,
its partial decryptions — with the :func:`degcore.chain.sign_object` convention: the signature
is Ed25519 over the RFC 8785 canonical JSON of the message's object without its ``signature``
field. The object's ``type`` and ``ceremony`` digest separate the domains, so a signature on one
message never verifies as another's or in another ceremony. A message's signer is the trustee it
speaks for (the commitment's ``trustee``, the complaint's ``accuser``, the answer's ``accused``,
the partial's ``trustee``): the bulletin board need not authenticate anyone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeVar

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from degcore.encoding import JsonValue, canonical_json
from degcore.errors import InvalidInput, VerificationFailed

__all__ = [
    "Roster",
    "SignedMessage",
    "check_roster_keys",
    "message_name",
    "sign_message",
    "signature_failures",
    "verify_message",
]


class Roster(Protocol):
    """What signing needs of a ceremony configuration: each trustee's public signing key."""

    def signing_key(self, trustee_id: str) -> bytes:
        """The trustee's Ed25519 public signing key (InvalidInput if not on the roster)."""
        ...


class SignedMessage(Protocol):
    """A trustee's published message: it names its signer and carries its signature."""

    @property
    def signer(self) -> str:
        """The trustee that signs this message."""
        ...

    @property
    def signature(self) -> bytes:
        """The Ed25519 signature (64 bytes; empty before signing)."""
        ...

    # Any: each message type takes its own scope (a CeremonyConfig, or a context for a partial).
    def to_json(self, config: Any, /) -> dict[str, JsonValue]:
        """The message's JSON object, with its ``signature``."""
        ...


M = TypeVar("M", bound=SignedMessage)


def _unsigned_bytes(config: object, message: SignedMessage) -> bytes:
    body = message.to_json(config)
    body.pop("signature", None)
    return canonical_json(body)


def message_name(config: object, message: SignedMessage) -> str:
    """How failures name a message: its type and its signer, e.g. ``dkg-complaint of bob``."""
    kind = message.to_json(config).get("type")
    extra = ""
    accused = getattr(message, "accused", None)
    accuser = getattr(message, "accuser", None)
    if kind == "dkg-complaint":
        extra = f" against {accused}"
    elif kind == "dkg-answer":
        extra = f" to {accuser}"
    return f"{kind} of {message.signer}{extra}"


def sign_message(config: Roster, key: SigningKey, message: M) -> M:
    """``message`` signed with ``key``, which must be the roster key of the message's signer."""
    if bytes(key.verify_key) != config.signing_key(message.signer):
        raise InvalidInput(f"this signing key is not the roster key of {message.signer}")
    signature = key.sign(_unsigned_bytes(config, message)).signature
    return dataclasses.replace(message, signature=signature)  # type: ignore[type-var]


def verify_message(config: Roster, message: SignedMessage) -> None:
    """Check the signature under the signer's roster key; VerificationFailed naming trustee and message."""
    try:
        key = config.signing_key(message.signer)
    except InvalidInput:
        raise VerificationFailed(
            "trustee-signature", message_name(config, message), f"{message.signer} is not on the roster"
        ) from None
    try:
        VerifyKey(key).verify(_unsigned_bytes(config, message), message.signature)
    except (BadSignatureError, ValueError, TypeError):
        # Named only on failure: naming writes the message out again (a partial has 10^5 proofs).
        raise VerificationFailed(
            "trustee-signature",
            message_name(config, message),
            f"signature does not verify under {message.signer}'s roster key",
        ) from None


def signature_failures(config: Roster, messages: Iterable[SignedMessage]) -> list[VerificationFailed]:
    """What :func:`verify_message` raises for each message whose signature fails, in order."""
    out = []
    for message in messages:
        try:
            verify_message(config, message)
        except VerificationFailed as exc:
            out.append(exc)
    return out


def check_roster_keys(keys: Mapping[str, bytes]) -> None:
    """Every roster key is 32 bytes and no two trustees share one (one party cannot pose as two)."""
    for trustee, key in keys.items():
        if not isinstance(key, bytes) or len(key) != 32:
            raise InvalidInput(f"the signing key of trustee {trustee} must be 32 bytes (Ed25519)")
    if len(set(keys.values())) != len(keys):
        raise InvalidInput("two trustees of the roster have the same signing key")
