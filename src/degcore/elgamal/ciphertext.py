"""Exponential ElGamal ciphertexts (docs/architecture.md §2 steps 5–7, docs/protocol.md §3).

Enc(m; r) = (a, b) = (g^r, g^m · h^r). Multiplying ciphertexts adds plaintexts; multiplying by
Enc(0; s) re-randomises. Decryption yields g^m; :mod:`degcore.elgamal.dlog` recovers a bounded m.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from degcore.elgamal.keys import PublicKey, SecretKey
from degcore.errors import InvalidInput, VerificationFailed
from degcore.groups import Element, Group

__all__ = [
    "Ciphertext",
    "add",
    "decrypt_to_element",
    "encrypt",
    "encrypt_revealable",
    "reencrypt",
    "verify_opening",
]


@dataclass(frozen=True, slots=True)
class Ciphertext:
    """An ElGamal pair (a, b) = (g^r, g^m · h^r)."""

    a: Element
    b: Element

    def __mul__(self, other: Ciphertext) -> Ciphertext:
        return Ciphertext(self.a * other.a, self.b * other.b)

    def __bytes__(self) -> bytes:
        return bytes(self.a) + bytes(self.b)

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled as its two elements (each by its own reduce), without a slotted dataclass's
        # generic state: mix rows and ciphertext lists cross to workers by the thousand.
        return (Ciphertext, (self.a, self.b))

    @classmethod
    def decode(cls, group: Group, data: bytes) -> Ciphertext:
        """Decode ``a ‖ b`` received from outside; both halves are checked for membership."""
        n = group.element_bytes
        if len(data) != 2 * n:
            raise InvalidInput(f"{group.name}: a ciphertext is {2 * n} bytes, got {len(data)}")
        a, b = group.decode_many(bytes(data))
        return cls(a, b)


def _encrypt_with_nonce(pk: PublicKey, m: int, r: int) -> Ciphertext:
    group = pk.group
    # h^r · g^m in one constant-time pass where the backend has one (m is the vote, r the nonce).
    return Ciphertext(group.exp_g(r), pk.fixed_base.exp_mul(r, group.generator(), m))


def encrypt(pk: PublicKey, m: int) -> Ciphertext:
    """Encrypt the small integer ``m`` with fresh randomness."""
    return _encrypt_with_nonce(pk, m, pk.group.random_scalar())


def encrypt_revealable(pk: PublicKey, m: int) -> tuple[Ciphertext, int]:
    """Encrypt ``m`` and also return the nonce r (needed for proofs and Benaloh challenges)."""
    r = pk.group.random_scalar()
    return _encrypt_with_nonce(pk, m, r), r


def verify_opening(pk: PublicKey, ct: Ciphertext, m: int, r: int) -> None:
    """Check that ``ct`` is Enc(m; r); raise VerificationFailed otherwise (Benaloh challenge)."""
    if _encrypt_with_nonce(pk, m, r) != ct:
        raise VerificationFailed(
            "elgamal-opening", detail=f"ciphertext does not encrypt {m} with the given nonce"
        )


def reencrypt(pk: PublicKey, ct: Ciphertext) -> Ciphertext:
    """A fresh-looking ciphertext of the same plaintext."""
    return _reencrypt_with_nonce(pk, ct, pk.group.random_scalar())


def _reencrypt_with_nonce(pk: PublicKey, ct: Ciphertext, s: int) -> Ciphertext:
    return Ciphertext(ct.a * pk.group.exp_g(s), ct.b * pk.exp(s))


def add(group: Group, cts: Iterable[Ciphertext]) -> Ciphertext:
    """The homomorphic sum of ``cts`` (batched products; Enc(0; 0) for none)."""
    items = list(cts)
    return Ciphertext(group.product(c.a for c in items), group.product(c.b for c in items))


def decrypt_to_element(sk: SecretKey, ct: Ciphertext) -> Element:
    """g^m = b / a^x."""
    return ct.b / (ct.a**sk.x)
