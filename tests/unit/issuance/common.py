"""What the issuance tests share: keys, voters and their device keys, the window, an issuer over any store."""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.signing import SigningKey

from degcore.hashing import sha256
from degcore.issuance import (
    Enrollment,
    Issuer,
    StaticEligibility,
    VoterCredential,
    finish_credential,
    request_credential,
    sign_credential_request,
)

NOW = datetime(2026, 9, 18, 9, 30, tzinfo=UTC)
OPENS = datetime(2026, 9, 18, 5, 0, tzinfo=UTC)
CLOSES = datetime(2026, 9, 20, 17, 0, tzinfo=UTC)
ELECTION = "duma-2026"
VOTERS = {
    "voter-1": "district-1",
    "voter-2": "district-1",
    "voter-3": "district-2",
    **{f"voter-{i}": "district-1" for i in range(10, 20)},
}


#: Two 2048-bit RSA keys made for these tests only (never use them anywhere else): fixed, so that the
#: racing processes, which start fresh rather than forked, all hold the issuer's same keys.
_KEYS = Path(__file__).with_name("issuer_keys.pem")


@functools.cache
def keys() -> dict[str, rsa.RSAPrivateKey]:
    """The test issuer's two keys, one per district's ballot style."""
    blocks = _KEYS.read_text().split("-----END PRIVATE KEY-----")[:2]
    loaded = [
        serialization.load_pem_private_key((b + "-----END PRIVATE KEY-----\n").encode(), None) for b in blocks
    ]
    return dict(zip(("district-1", "district-2"), loaded, strict=True))  # type: ignore[arg-type]


@functools.cache
def log_key() -> SigningKey:
    """The issuer's Ed25519 log key (fixed, like the RSA keys)."""
    return SigningKey(bytes(range(200, 232)))


def voter_key(voter: str) -> SigningKey:
    """The voter's device key (fixed per voter, so that racing processes share it)."""
    return SigningKey(sha256(b"test voter key", voter.encode()))


def voter_ref(voter: str) -> bytes:
    """The voter's reference (the registry's salt is fixed here)."""
    return sha256(b"test voter ref", ELECTION.encode(), voter.encode())


def enrollment(voter: str, style: str) -> Enrollment:
    """What the registry enrolled for ``voter``: her reference, her device's key, her style."""
    return Enrollment(voter_ref(voter), bytes(voter_key(voter).verify_key), style)


def eligible(styles: dict[str, str]) -> StaticEligibility:
    """An eligibility oracle for voter id → ballot style, each enrolled with her device key."""
    return StaticEligibility({voter: enrollment(voter, style) for voter, style in styles.items()})


def make_issuer(location: str | Path, **options: object) -> Issuer:
    """An issuer of ELECTION for VOTERS on ``location``, window OPENS..CLOSES, unless ``options`` differ."""
    settings: dict[str, object] = {"log_key": log_key(), "window": (OPENS, CLOSES), **options}
    eligibility = settings.pop("eligibility", eligible(VOTERS))
    return Issuer(location, ELECTION, keys(), eligibility, **settings)  # type: ignore[arg-type]


def signed(
    voter: str, style: str, blinded: bytes, *, ref: bytes | None = None, key: SigningKey | None = None
) -> bytes:
    """The device's signature on its request (her enrolled key and reference unless told otherwise)."""
    signer = key or voter_key(voter)
    return sign_credential_request(signer, ELECTION, style, voter_ref(voter) if ref is None else ref, blinded)


def issue(issuer: Issuer, voter: str, style: str, blinded: bytes, *, now: datetime = NOW) -> bytes:
    """The issuer's answer to the voter's device, which signs its request with her enrolled key."""
    return issuer.issue(voter, style, blinded, request_signature=signed(voter, style, blinded), now=now)


def obtain(issuer: Issuer, voter: str, style: str, now: datetime = NOW) -> VoterCredential:
    """The device's whole round trip: request, sign, issue, finish."""
    pk = issuer.public_keys()[style]
    request = request_credential(pk, ELECTION, style)
    return finish_credential(request, issue(issuer, voter, style, request.blinded_msg, now=now), pk)


def request_hash(blinded: bytes) -> bytes:
    """SHA-256 of a blinded message (what the log's request_sha256 holds)."""
    return hashlib.sha256(blinded).digest()


def later(minutes: int) -> datetime:
    """NOW plus some minutes."""
    return NOW + timedelta(minutes=minutes)
