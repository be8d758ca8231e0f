"""What the issuance tests share: keys, voters, the window, an issuer over any store location."""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.signing import SigningKey

from degcore.issuance import (
    Issuer,
    StaticEligibility,
    VoterCredential,
    finish_credential,
    request_credential,
    rsabssa,
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


@functools.cache
def keys() -> dict[str, rsa.RSAPrivateKey]:
    """Two 2048-bit issuer keys (made once per process; forked children inherit them)."""
    return {"district-1": rsabssa.generate_key(2048), "district-2": rsabssa.generate_key(2048)}


@functools.cache
def log_key() -> SigningKey:
    """The issuer's Ed25519 log key."""
    return SigningKey.generate()


def make_issuer(location: str | Path, **options: object) -> Issuer:
    """An issuer of ELECTION for VOTERS on ``location``, window OPENS..CLOSES, unless ``options`` differ."""
    settings: dict[str, object] = {"log_key": log_key(), "window": (OPENS, CLOSES), **options}
    eligibility = settings.pop("eligibility", StaticEligibility(VOTERS))
    return Issuer(location, ELECTION, keys(), eligibility, **settings)  # type: ignore[arg-type]


def obtain(issuer: Issuer, voter: str, style: str, now: datetime = NOW) -> VoterCredential:
    """The device's whole round trip: request, issue, finish."""
    pk = issuer.public_keys()[style]
    request = request_credential(pk, ELECTION, style)
    return finish_credential(request, issuer.issue(voter, style, request.blinded_msg, now=now), pk)


def request_hash(blinded: bytes) -> bytes:
    """SHA-256 of a blinded message (what the log's request_sha256 holds)."""
    return hashlib.sha256(blinded).digest()


def later(minutes: int) -> datetime:
    """NOW plus some minutes."""
    return NOW + timedelta(minutes=minutes)
