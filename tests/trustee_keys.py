"""Fixed trustee signing keys for tests, so that a test can play any one trustee with exactly its key."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from nacl.signing import SigningKey

from degcore.groups import Group
from degcore.trustees.dkg import CeremonyConfig, CeremonyResult
from degcore.trustees.threshold import TrusteeShare
from degcore.trustees.trustee import run_local_ceremony


def trustee_key(trustee_id: str) -> SigningKey:
    """The test roster key of ``trustee_id`` (derived from its id: the same in every test)."""
    return SigningKey(hashlib.sha256(b"degcore test trustee " + trustee_id.encode()).digest())


def test_config(election_id: str, group: Group, threshold: int, trustees: Sequence[str]) -> CeremonyConfig:
    """A ceremony configuration whose roster keys are :func:`trustee_key`'s."""
    return CeremonyConfig.of(
        election_id, group, threshold, {t: bytes(trustee_key(t).verify_key) for t in trustees}
    )


def local_ceremony(config: CeremonyConfig) -> tuple[CeremonyResult, dict[str, TrusteeShare]]:
    """:func:`run_local_ceremony` with the test roster keys."""
    return run_local_ceremony(config, {t: trustee_key(t) for t in config.trustees})


test_config.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
