"""A service's Ed25519 signing key at rest, sealed under a passphrase (docs/deployment.md §1).

The box's key must survive restarts unchanged (one key per store), so it is kept in a file: the
sealed-secret format of :mod:`degcore.trustees._sealed` (scrypt + AES-256-GCM) with kind
``ed25519-signing-key`` and the payload ``{"seed": hex(32 bytes)}``. The same file suits any
service's Ed25519 key (the authority's, a mix server's, the registry's).
"""

from __future__ import annotations

from nacl.signing import SigningKey

from degcore.encoding import from_hex
from degcore.errors import InvalidInput
from degcore.trustees._sealed import DEFAULT_SCRYPT_N, seal, unseal

__all__ = ["load_signing_key", "save_signing_key"]

_KIND = "ed25519-signing-key"


def save_signing_key(key: SigningKey, passphrase: str | bytes, *, scrypt_n: int = DEFAULT_SCRYPT_N) -> bytes:
    """The sealed file's bytes for ``key`` under ``passphrase``."""
    return seal({"seed": bytes(key).hex()}, _KIND, passphrase, scrypt_n=scrypt_n)


def load_signing_key(data: bytes, passphrase: str | bytes) -> SigningKey:
    """Open :func:`save_signing_key` output; a wrong passphrase raises WrongPassphrase."""
    payload = unseal(data, _KIND, passphrase)
    if not isinstance(payload, dict) or set(payload) != {"seed"}:
        raise InvalidInput("sealed signing key: unexpected contents")
    return SigningKey(from_hex(payload["seed"], 32, "seed"))
