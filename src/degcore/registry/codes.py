"""One-time confirmation codes (REQUIREMENTS.md R22, §3.1): 6 digits, 5 minutes, single use, 5 tries.

A code is an RFC 4226 HOTP value (``cryptography``) under a fresh random key that is thrown away
at once, so the code is uniform and unpredictable. The store keeps only
``HMAC-SHA256(registry key, "degcore/4/otp" ‖ number ‖ code)``: a copy of the database alone does
not reveal a code, and cannot be brute-forced without the registry key, which lives outside it.
Wrong tries count per application across re-sent codes, so re-sending does not buy more guesses.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.hotp import HOTP

from degcore.errors import InvalidInput
from degcore.hashing import sha256

__all__ = ["CODE_DIGITS", "CODE_LIFETIME", "MAX_FAILURES", "code_mac", "new_code"]

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=5)
MAX_FAILURES = 5
MIN_KEY_BYTES = 32


def new_code() -> str:
    """A fresh 6-digit code."""
    # SHA-1 is what RFC 4226 specifies; the key is random and single-use, so its weaknesses do not apply.
    return HOTP(secrets.token_bytes(20), CODE_DIGITS, SHA1()).generate(0).decode()  # noqa: S303


def code_mac(key: bytes, number: str, code: str) -> bytes:
    """The value stored for ``code`` of application ``number``."""
    if len(key) < MIN_KEY_BYTES:
        raise InvalidInput(f"the registry's code key must be at least {MIN_KEY_BYTES} random bytes")
    return hmac.new(key, sha256(b"degcore/4/otp", number.encode(), code.encode()), "sha256").digest()
