"""RFC 9474 RSA blind signatures, all four RSABSSA-SHA384 variants (docs/architecture.md §2 step 4).

Operations carry the RFC's names: :func:`prepare`, :func:`blind`, :func:`blind_sign`,
:func:`finalize`, :func:`verify`. The message encoding is EMSA-PSS (RFC 8017 §9.1.1) with SHA-384
and MGF1-SHA-384; the final signature is an ordinary RSASSA-PSS signature, so :func:`verify` and
:func:`finalize`'s last step use ``cryptography`` (OpenSSL), not our own verification.

:func:`blind_sign` uses the CRT with ``gmpy2.powmod_sec`` (constant-time exponentiation) and checks
s^e ≡ m (mod n) before releasing s (RFC 9474 §4.3 step 3: a faulty CRT half would otherwise leak
a factor of n). Keys are ``cryptography`` RSA keys: generation and serialisation are theirs.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import Enum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from degcore.errors import InvalidInput, VerificationFailed

__all__ = [
    "MIN_MODULUS_BITS",
    "BlindingResult",
    "Variant",
    "blind",
    "blind_sign",
    "finalize",
    "generate_key",
    "prepare",
    "verify",
]

MIN_MODULUS_BITS = 2048
MAX_MODULUS_BITS = 8192
_HASH_LEN = 48  # SHA-384
_PREFIX_LEN = 32  # RFC 9474 §4.1: randomized variants prepend 32 random bytes


class Variant(Enum):
    """The four RFC 9474 §5 variants: (salt length, randomized message preparation)."""

    PSS_RANDOMIZED = ("RSABSSA-SHA384-PSS-Randomized", _HASH_LEN, True)
    PSSZERO_RANDOMIZED = ("RSABSSA-SHA384-PSSZERO-Randomized", 0, True)
    PSS_DETERMINISTIC = ("RSABSSA-SHA384-PSS-Deterministic", _HASH_LEN, False)
    PSSZERO_DETERMINISTIC = ("RSABSSA-SHA384-PSSZERO-Deterministic", 0, False)

    @property
    def rfc_name(self) -> str:
        """The variant's name in RFC 9474."""
        return self.value[0]

    @property
    def salt_length(self) -> int:
        """sLen of EMSA-PSS."""
        return self.value[1]

    @property
    def randomized(self) -> bool:
        """Whether :func:`prepare` prepends a random prefix."""
        return self.value[2]

    @classmethod
    def from_rfc_name(cls, name: str) -> Variant:
        """The variant called ``name`` in RFC 9474."""
        for v in cls:
            if v.rfc_name == name:
                return v
        raise InvalidInput(f"unknown RSABSSA variant {name!r}")


@dataclass(frozen=True, slots=True)
class BlindingResult:
    """What :func:`blind` returns: the blinded message to send, and ``inv`` to keep for finalize."""

    blinded_msg: bytes
    inv: int


def _modulus_len(pk: rsa.RSAPublicKey) -> int:
    bits = pk.key_size
    if not MIN_MODULUS_BITS <= bits <= MAX_MODULUS_BITS:
        raise InvalidInput(f"RSA modulus of {bits} bits; RSABSSA needs {MIN_MODULUS_BITS}–{MAX_MODULUS_BITS}")
    return (bits + 7) // 8


def generate_key(bits: int = 4096) -> rsa.RSAPrivateKey:
    """A fresh issuer key (``cryptography``; e = 65537)."""
    if not MIN_MODULUS_BITS <= bits <= MAX_MODULUS_BITS:
        raise InvalidInput(f"RSA key size {bits} outside {MIN_MODULUS_BITS}–{MAX_MODULUS_BITS}")
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def prepare(msg: bytes, variant: Variant) -> bytes:
    """RFC 9474 §4.1: prepend 32 random bytes (randomized variants) or return ``msg`` unchanged."""
    return secrets.token_bytes(_PREFIX_LEN) + msg if variant.randomized else msg


def _mgf1_sha384(seed: bytes, length: int) -> bytes:
    out = b"".join(
        hashlib.sha384(seed + i.to_bytes(4, "big")).digest() for i in range(-(-length // _HASH_LEN))
    )
    return out[:length]


def _emsa_pss_encode(msg: bytes, em_bits: int, salt: bytes) -> bytes:
    """RFC 8017 §9.1.1 with SHA-384 and MGF1-SHA-384."""
    em_len = (em_bits + 7) // 8
    if em_len < _HASH_LEN + len(salt) + 2:
        raise InvalidInput("encoding error: modulus too short for this salt length")
    m_hash = hashlib.sha384(msg).digest()
    h = hashlib.sha384(bytes(8) + m_hash + salt).digest()
    db = bytes(em_len - len(salt) - _HASH_LEN - 2) + b"\x01" + salt
    masked = bytearray(x ^ y for x, y in zip(db, _mgf1_sha384(h, em_len - _HASH_LEN - 1), strict=True))
    masked[0] &= 0xFF >> (8 * em_len - em_bits)
    return bytes(masked) + h + b"\xbc"


def _blind_with_nonces(
    pk: rsa.RSAPublicKey, msg: bytes, variant: Variant, salt: bytes, r: int
) -> BlindingResult:
    """Deterministic :func:`blind` for the RFC's known-answer tests."""
    import gmpy2  # noqa: PLC0415 - the signer's and the device's arithmetic: a verifier needs none

    k = _modulus_len(pk)
    numbers = pk.public_numbers()
    n = gmpy2.mpz(numbers.n)
    m = gmpy2.mpz(int.from_bytes(_emsa_pss_encode(msg, numbers.n.bit_length() - 1, salt), "big"))
    if gmpy2.gcd(m, n) != 1:
        raise InvalidInput("invalid input: message representative not coprime to n")
    try:
        inv = gmpy2.invert(r, n)
    except ZeroDivisionError:
        raise InvalidInput("blinding error: r not invertible mod n") from None
    z = m * gmpy2.powmod(r, numbers.e, n) % n
    return BlindingResult(int(z).to_bytes(k, "big"), int(inv))


def blind(pk: rsa.RSAPublicKey, msg: bytes, variant: Variant) -> BlindingResult:
    """RFC 9474 §4.2: encode ``msg`` (the prepared message) and blind it with a random r."""
    import gmpy2  # noqa: PLC0415 - the signer's and the device's arithmetic: a verifier needs none

    n = pk.public_numbers().n
    salt = secrets.token_bytes(variant.salt_length)
    while True:
        r = 1 + secrets.randbelow(n - 1)
        if gmpy2.gcd(r, n) == 1:
            return _blind_with_nonces(pk, msg, variant, salt, r)


def blind_sign(sk: rsa.RSAPrivateKey, blinded_msg: bytes) -> bytes:
    """RFC 9474 §4.3: s = m^d mod n by CRT with constant-time powmod, checked before release."""
    import gmpy2  # noqa: PLC0415 - the signer's and the device's arithmetic: a verifier needs none

    pk = sk.public_key()
    k = _modulus_len(pk)
    if len(blinded_msg) != k:
        raise InvalidInput(f"blinded message must be {k} bytes, got {len(blinded_msg)}")
    priv = sk.private_numbers()
    pub = priv.public_numbers
    n = gmpy2.mpz(pub.n)
    m = gmpy2.mpz(int.from_bytes(blinded_msg, "big"))
    if m >= n:
        raise InvalidInput("message representative out of range (blinded message >= n)")
    p, q = gmpy2.mpz(priv.p), gmpy2.mpz(priv.q)
    s_p = gmpy2.powmod_sec(m % p, priv.dmp1, p) if m % p else gmpy2.mpz(0)
    s_q = gmpy2.powmod_sec(m % q, priv.dmq1, q) if m % q else gmpy2.mpz(0)
    s = s_q + (priv.iqmp * (s_p - s_q) % p) * q
    if gmpy2.powmod(s, pub.e, n) != m:
        raise VerificationFailed("rsabssa-blind-sign", detail="signing failure: s^e != m (fault detected)")
    return int(s).to_bytes(k, "big")


def _pss(variant: Variant) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=variant.salt_length)


def verify(pk: rsa.RSAPublicKey, msg: bytes, sig: bytes, variant: Variant) -> None:
    """RFC 9474 §4.5: RSASSA-PSS-VERIFY through ``cryptography``; raise VerificationFailed if invalid."""
    k = _modulus_len(pk)
    if len(sig) != k:
        raise VerificationFailed("rsabssa-verify", detail=f"signature must be {k} bytes, got {len(sig)}")
    try:
        pk.verify(sig, msg, _pss(variant), hashes.SHA384())
    except InvalidSignature:
        raise VerificationFailed("rsabssa-verify", detail="invalid signature") from None


def finalize(pk: rsa.RSAPublicKey, msg: bytes, blind_sig: bytes, inv: int, variant: Variant) -> bytes:
    """RFC 9474 §4.4: unblind with ``inv`` and verify; returns the RSASSA-PSS signature on ``msg``."""
    k = _modulus_len(pk)
    if len(blind_sig) != k:
        raise InvalidInput(f"unexpected input size: blind signature must be {k} bytes")
    n = pk.public_numbers().n
    z = int.from_bytes(blind_sig, "big")
    if z >= n:
        raise InvalidInput("blind signature representative out of range")
    sig = (z * inv % n).to_bytes(k, "big")
    verify(pk, msg, sig, variant)
    return sig
