"""The key ceremony (n = 5, t = 3) and threshold decryption of 10,000 ciphertexts by 3 trustees."""

from __future__ import annotations

import pytest
from tests.trustee_keys import local_ceremony, test_config

from benchmarks.conftest import Reporter
from degcore.elgamal import Ciphertext, encrypt
from degcore.groups import GROUP_NAMES, get_group
from degcore.parallel import SERIAL, worker_count
from degcore.trustees import threshold
from degcore.trustees.dkg import CeremonyResult

ROSTER = ("t1", "t2", "t3", "t4", "t5")
CONTEXT = bytes(range(32))
CIPHERTEXTS = 10_000


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_ceremony(report: Reporter, name: str) -> None:
    """All five trustees' work in one process: commitments, shares, checks, finalize (each trustee)."""
    config = test_config("bench", get_group(name), 3, ROSTER)
    report(f"ceremony n=5 t=3 {name}", config.group, lambda: local_ceremony(config))


def _decrypt_all(
    result: CeremonyResult, shares: dict[str, threshold.TrusteeShare], cts: list[Ciphertext], serial: bool
) -> None:
    executor = SERIAL if serial else None
    partials = [
        threshold.partial_decrypt(CONTEXT, shares[t], cts, executor=executor) for t in ("t1", "t3", "t5")
    ]
    threshold.threshold_decrypt(CONTEXT, result, cts, partials, executor=executor)


def test_threshold_decryption(report: Reporter) -> None:
    """Three partial decryptions with proofs, every proof checked, then combined: on all cores."""
    group = get_group("ristretto255")
    result, shares = local_ceremony(test_config("bench", group, 3, ROSTER))
    cts = [encrypt(result.joint_key, i % 5) for i in range(CIPHERTEXTS)]
    workers = worker_count()
    report(
        f"threshold decrypt 10k, 3 of 5, {workers} cores",
        group,
        lambda: _decrypt_all(result, shares, cts, serial=False),
        serial=lambda: _decrypt_all(result, shares, cts, serial=True),
        workers=workers,
        rounds=3,
    )
