"""Exponential ElGamal, its zero-knowledge proofs and the bounded discrete log (docs/protocol.md §3–§4).

Proof modules are imported as modules and read as ``schnorr.prove`` / ``dleq.verify`` /
``disjunctive.prove_sum``; keys and ciphertexts are re-exported here. The trustees' key ceremony
and threshold decryption are :mod:`degcore.trustees`.
"""

from __future__ import annotations

from degcore.elgamal import disjunctive, dleq, schnorr
from degcore.elgamal.ciphertext import (
    Ciphertext,
    add,
    decrypt_to_element,
    encrypt,
    encrypt_revealable,
    reencrypt,
    verify_opening,
)
from degcore.elgamal.dlog import dlog
from degcore.elgamal.keys import KeyPair, PublicKey, SecretKey, keygen

__all__ = [
    "Ciphertext",
    "KeyPair",
    "PublicKey",
    "SecretKey",
    "add",
    "decrypt_to_element",
    "disjunctive",
    "dleq",
    "dlog",
    "encrypt",
    "encrypt_revealable",
    "keygen",
    "reencrypt",
    "schnorr",
    "verify_opening",
]
