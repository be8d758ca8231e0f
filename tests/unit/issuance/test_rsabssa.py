"""RFC 9474 Appendix A vectors byte for byte, round trips, and every rejection."""

from __future__ import annotations

import functools
from typing import Any

import gmpy2
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from degcore.errors import InvalidInput, VerificationFailed
from degcore.issuance import rsabssa
from degcore.issuance.rsabssa import Variant
from tests.conftest import load_vector


def _vectors() -> list[dict[str, Any]]:
    return list(load_vector("rsabssa/rfc9474_rsabssa_test_vectors.json"))


def _int(v: str) -> int:
    return int(v, 16)


def _key(vec: dict[str, Any]) -> rsa.RSAPrivateKey:
    p, q, e, d = (_int(vec[x]) for x in ("p", "q", "e", "d"))
    public = rsa.RSAPublicNumbers(e, p * q)
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), public
    )
    return numbers.private_key()


@pytest.mark.parametrize("index", range(4))
def test_rfc9474_appendix_a(index: int) -> None:
    vec = _vectors()[index]
    variant = Variant.from_rfc_name(vec["name"])
    assert variant.salt_length == _int(vec["sLen"])
    assert variant.randomized == bool(_int(vec["is_randomized"]))
    sk = _key(vec)
    pk = sk.public_key()
    assert pk.public_numbers().n == _int(vec["n"])
    msg = bytes.fromhex(vec["msg"])
    prepared = bytes.fromhex(vec.get("msg_prefix", "")) + msg
    assert prepared.hex() == vec["input_msg"]
    salt = bytes.fromhex(vec["salt"])
    inv = _int(vec["inv"])
    r = pow(inv, -1, pk.public_numbers().n)
    if "encoded_msg" in vec:
        encoded = rsabssa._emsa_pss_encode(prepared, pk.key_size - 1, salt)
        assert encoded.hex() == vec["encoded_msg"]
    blinded = rsabssa._blind_with_nonces(pk, prepared, variant, salt, r)
    assert blinded.blinded_msg.hex() == vec["blinded_msg"]
    assert blinded.inv == inv
    blind_sig = rsabssa.blind_sign(sk, blinded.blinded_msg)
    assert blind_sig.hex() == vec["blind_sig"]
    sig = rsabssa.finalize(pk, prepared, blind_sig, inv, variant)
    assert sig.hex() == vec["sig"]
    rsabssa.verify(pk, prepared, sig, variant)


@functools.cache
def _generated(bits: int) -> rsa.RSAPrivateKey:
    return rsabssa.generate_key(bits)


@pytest.mark.parametrize("bits", [2048, 3072, 4096])
@pytest.mark.parametrize("variant", list(Variant))
def test_round_trip(bits: int, variant: Variant) -> None:
    sk = _generated(bits)
    pk = sk.public_key()
    msg = rsabssa.prepare(b"credential message", variant)
    assert len(msg) == len(b"credential message") + (32 if variant.randomized else 0)
    blinded = rsabssa.blind(pk, msg, variant)
    sig = rsabssa.finalize(pk, msg, rsabssa.blind_sign(sk, blinded.blinded_msg), blinded.inv, variant)
    rsabssa.verify(pk, msg, sig, variant)
    with pytest.raises(VerificationFailed):
        rsabssa.verify(pk, msg + b"!", sig, variant)
    bad = bytearray(sig)
    bad[-1] ^= 1
    with pytest.raises(VerificationFailed):
        rsabssa.verify(pk, msg, bytes(bad), variant)
    with pytest.raises(VerificationFailed):
        rsabssa.verify(_generated(2048 if bits != 2048 else 3072).public_key(), msg, sig, variant)


def test_rejections() -> None:
    sk = _generated(2048)
    pk = sk.public_key()
    n = pk.public_numbers().n
    variant = Variant.PSS_RANDOMIZED
    with pytest.raises(InvalidInput, match="out of range"):
        rsabssa.blind_sign(sk, n.to_bytes(256, "big"))
    with pytest.raises(InvalidInput):
        rsabssa.blind_sign(sk, bytes(255))
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - must be refused
    with pytest.raises(InvalidInput, match="1024 bits"):
        rsabssa.blind(small.public_key(), b"m", variant)
    with pytest.raises(InvalidInput):
        rsabssa.generate_key(1024)
    msg = rsabssa.prepare(b"m", variant)
    blinded = rsabssa.blind(pk, msg, variant)
    blind_sig = rsabssa.blind_sign(sk, blinded.blinded_msg)
    with pytest.raises(InvalidInput):
        rsabssa.finalize(pk, msg, blind_sig[1:], blinded.inv, variant)
    with pytest.raises(VerificationFailed):  # a blind signature on another message does not finalize
        rsabssa.finalize(pk, msg + b"x", blind_sig, blinded.inv, variant)
    with pytest.raises(VerificationFailed):  # wrong unblinding factor
        rsabssa.finalize(pk, msg, blind_sig, blinded.inv + 1, variant)
    with pytest.raises(VerificationFailed):
        rsabssa.verify(pk, msg, bytes(10), variant)
    with pytest.raises(InvalidInput):
        Variant.from_rfc_name("RSABSSA-SHA256-PSS")


def test_fault_in_crt_half_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """A faulty CRT exponentiation must not release a signature (it would reveal a factor of n)."""
    sk = _generated(2048)
    blinded = rsabssa.blind(sk.public_key(), b"m", Variant.PSS_DETERMINISTIC)
    real = gmpy2.powmod_sec
    calls = []

    def faulty(base: Any, exp: Any, mod: Any) -> Any:
        calls.append(1)
        out = real(base, exp, mod)
        return out + 1 if len(calls) == 1 else out

    monkeypatch.setattr(gmpy2, "powmod_sec", faulty)
    with pytest.raises(VerificationFailed, match="fault"):
        rsabssa.blind_sign(sk, blinded.blinded_msg)
