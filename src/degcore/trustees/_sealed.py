"""Secrets at rest under a passphrase: scrypt + AES-256-GCM (docs/trustees.md, docs/protocol.md §6.5).

A sealed secret is the canonical JSON object

    {"format": "degcore/4", "type": "sealed-secret", "kind": K, "kdf": "scrypt",
     "scrypt_n": N, "scrypt_r": 8, "scrypt_p": 1, "salt": hex(16), "nonce": hex(12),
     "ciphertext": hex(AES-256-GCM(key, nonce, payload, aad))}

with key = scrypt(passphrase, salt, N, r, p, 32 bytes), payload the canonical JSON of the secret
object and aad the canonical JSON of every field except ``ciphertext``. The tag authenticates the
header too, so a file whose kind or parameters were edited does not open. A wrong passphrase fails
the tag check and raises :class:`WrongPassphrase`; it never yields garbage.
"""

from __future__ import annotations

import json
import secrets
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from degcore.encoding import JsonValue, canonical_json, from_hex, read_record, record_header
from degcore.errors import InvalidInput, WrongPassphrase

__all__ = ["DEFAULT_SCRYPT_N", "MIN_SCRYPT_N", "seal", "unseal"]

#: scrypt cost for a trustee's file: 2^17 (128 MiB, about 0.4 s here), as OWASP recommends.
DEFAULT_SCRYPT_N = 2**17
#: The weakest cost a sealed file may declare (tests use it); anything lower is refused on reading.
MIN_SCRYPT_N = 2**14
_MAX_SCRYPT_N = 2**20
_R, _P = 8, 1


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    if isinstance(passphrase, str):
        # The same passphrase typed on two keyboards must open the file: normalise first.
        passphrase = unicodedata.normalize("NFC", passphrase).encode()
    if not isinstance(passphrase, bytes) or not passphrase:
        raise InvalidInput("a secret must be sealed under a non-empty passphrase")
    return passphrase


def _key(passphrase: bytes, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=_R, p=_P).derive(passphrase)


def seal(
    payload: JsonValue, kind: str, passphrase: str | bytes, *, scrypt_n: int = DEFAULT_SCRYPT_N
) -> bytes:
    """Encrypt the JSON ``payload`` under ``passphrase``; returns the sealed file's bytes."""
    if not MIN_SCRYPT_N <= scrypt_n <= _MAX_SCRYPT_N or scrypt_n & (scrypt_n - 1):
        raise InvalidInput(f"scrypt_n must be a power of two in [2^14, 2^20], got {scrypt_n}")
    secret = _passphrase_bytes(passphrase)
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    header: dict[str, JsonValue] = {
        **record_header("sealed-secret"),
        "kind": kind,
        "kdf": "scrypt",
        "scrypt_n": scrypt_n,
        "scrypt_r": _R,
        "scrypt_p": _P,
        "salt": salt.hex(),
        "nonce": nonce.hex(),
    }
    body = AESGCM(_key(secret, salt, scrypt_n)).encrypt(
        nonce, canonical_json(payload), canonical_json(header)
    )
    return canonical_json({**header, "ciphertext": body.hex()})


def unseal(data: bytes, kind: str, passphrase: str | bytes) -> object:
    """Open a sealed file of ``kind``; WrongPassphrase if the passphrase is wrong or the file altered."""
    try:
        obj = json.loads(data)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"not a sealed degcore secret: {exc}") from None
    fields = read_record(
        obj,
        "sealed-secret",
        {"kind", "kdf", "scrypt_n", "scrypt_r", "scrypt_p", "salt", "nonce", "ciphertext"},
    )
    if fields["kind"] != kind:
        raise InvalidInput(f"this sealed file holds a {fields['kind']!r}, not a {kind!r}")
    n = fields["scrypt_n"]
    if fields["kdf"] != "scrypt" or (fields["scrypt_r"], fields["scrypt_p"]) != (_R, _P):
        raise InvalidInput("sealed file: unsupported key derivation parameters")
    if not isinstance(n, int) or not MIN_SCRYPT_N <= n <= _MAX_SCRYPT_N or n & (n - 1):
        raise InvalidInput(f"sealed file: scrypt_n {n!r} outside [2^14, 2^20] or not a power of two")
    salt = from_hex(fields["salt"], 16, "salt")
    nonce = from_hex(fields["nonce"], 12, "nonce")
    body = fields.pop("ciphertext")
    if not isinstance(body, str) or len(body) < 32:
        raise InvalidInput("sealed file: ciphertext missing or too short")
    ciphertext = from_hex(body, len(body) // 2, "ciphertext")
    try:
        plain = AESGCM(_key(_passphrase_bytes(passphrase), salt, n)).decrypt(
            nonce,
            ciphertext,
            canonical_json(fields),  # type: ignore[arg-type]
        )
    except InvalidTag:
        raise WrongPassphrase(
            f"cannot open the sealed {kind}: wrong passphrase, or the file was altered"
        ) from None
    return json.loads(plain)
