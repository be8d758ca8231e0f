"""RFC 9474 blind signing per core at 3072 and 4096 bits, against OpenSSL's RSA-PSS signing.

The bound is ``cryptography``'s own RSASSA-PSS signature (one CRT private operation in OpenSSL)
measured in the same run; the ratio says how far gmpy2's constant-time CRT is from it.
"""

from __future__ import annotations

import functools

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from benchmarks._opcount import _time
from benchmarks.conftest import record_ratio
from degcore.issuance import rsabssa

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)


@functools.cache
def _key(bits: int) -> rsa.RSAPrivateKey:
    return rsabssa.generate_key(bits)


@pytest.mark.parametrize("bits", [3072, 4096])
def test_blind_sign(benchmark: object, bits: int) -> None:
    sk = _key(bits)
    blinded = rsabssa.blind(sk.public_key(), b"credential" * 10, rsabssa.Variant.PSS_RANDOMIZED).blinded_msg
    openssl = _time(lambda: sk.sign(b"credential" * 10, _PSS, hashes.SHA384()), 10)
    benchmark(lambda: rsabssa.blind_sign(sk, blinded))  # type: ignore[operator]
    record_ratio(benchmark, f"blind_sign RSA-{bits}", openssl, "bound: OpenSSL RSA-PSS sign, same key")
