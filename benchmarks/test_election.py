"""An election's hot paths on ristretto255: ballot encryption, box checks and ingest, the tally.

- encrypt / check one 1-contest 5-option ballot (one core), against the operation bound;
- the box ingesting ballots one by one (one core: credential, signature, proofs, SQLite commit),
  and in batches of 100 (one commit per batch);
- tallying ``DEGCORE_BENCH_TALLY_BALLOTS`` ballots (default 1,000,000): aggregation on all cores
  plus threshold decryption by 3 trustees. The ballots reuse a pool of real ciphertexts (encrypting
  a million ballots with proofs would take the benchmark an hour); aggregation does the same work.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from benchmarks._election import STARTS, bench_election
from benchmarks.conftest import Reporter, record_throughput
from degcore.ballot import (
    ElectionContext,
    EncryptedBallot,
    EncryptedContest,
    PlaintextBallot,
    encrypt_ballot,
)
from degcore.board import BallotBox, CastBallot, check_cast, sign_ballot
from degcore.elgamal import encrypt
from degcore.issuance import VoterCredential, finish_credential, request_credential, rsabssa
from degcore.parallel import SERIAL, worker_count
from degcore.tally import aggregate, decrypt_tally
from degcore.trustees import threshold
from degcore.trustees.threshold import TrusteeShare

DURING = STARTS + timedelta(hours=1)
TALLY_BALLOTS = int(os.environ.get("DEGCORE_BENCH_TALLY_BALLOTS", "1000000"))
INGEST = int(os.environ.get("DEGCORE_BENCH_INGEST", "300"))
CHOICE = PlaintextBallot("s", {"c": {"o1": 1}})


@pytest.fixture(scope="module")
def setup() -> tuple[ElectionContext, dict[str, TrusteeShare], object]:
    context, shares = bench_election()
    return context, shares, rsabssa.generate_key()


def _wallet(key: object) -> VoterCredential:
    public = key.public_key()  # type: ignore[attr-defined]
    request = request_credential(public, "bench", "s")
    return finish_credential(request, rsabssa.blind_sign(key, request.blinded_msg), public)  # type: ignore[arg-type]


def _cast(context: ElectionContext, key: object) -> CastBallot:
    wallet = _wallet(key)
    ballot, _ = encrypt_ballot(context, CHOICE, wallet.credential.public_key)
    return sign_ballot(context, ballot, wallet)


def test_encrypt_ballot(report: Reporter, setup: tuple) -> None:  # type: ignore[type-arg]
    context, _, _ = setup
    report(
        "encrypt ballot 1x5 ristretto255", context.group, lambda: encrypt_ballot(context, CHOICE, bytes(32))
    )


def test_check_ballot_in_the_box(report: Reporter, setup: tuple) -> None:  # type: ignore[type-arg]
    """Everything the box checks before storing: credential (RSA-4096), signature, proofs."""
    context, _, key = setup
    cast = _cast(context, key)
    keys = {"s": key.public_key()}
    report("box checks 1 ballot ristretto255", context.group, lambda: check_cast(context, keys, cast, DURING))


def _fresh_box(context: ElectionContext, key: object, folder: Path) -> BallotBox:
    """A new box on a new SQLite file (a round must not find the previous round's ballots)."""
    public = {"s": key.public_key()}  # type: ignore[attr-defined]
    return BallotBox(folder / f"{secrets.token_hex(4)}.sqlite", context, public, SigningKey.generate())


def test_box_ingest(benchmark: object, setup: tuple, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """One core: check, store (one SQLite transaction with fsync) and sign, ballot after ballot."""
    context, _, key = setup
    casts = [_cast(context, key) for _ in range(INGEST)]

    def ingest() -> None:
        box = _fresh_box(context, key, tmp_path)
        for cast in casts:
            box.cast(cast, now=DURING)

    benchmark.pedantic(ingest, rounds=3)  # type: ignore[attr-defined]
    record_throughput(benchmark, f"box ingest, 1 core ({INGEST} ballots)", INGEST, "ballots")


def test_box_ingest_batched(benchmark: object, setup: tuple, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """One core: ``cast_many`` in batches of 100, one transaction (one fsync) per batch."""
    context, _, key = setup
    casts = [_cast(context, key) for _ in range(INGEST)]

    def ingest() -> None:
        box = _fresh_box(context, key, tmp_path)
        for start in range(0, len(casts), 100):
            box.cast_many(casts[start : start + 100], now=DURING, executor=SERIAL)

    benchmark.pedantic(ingest, rounds=3)  # type: ignore[attr-defined]
    record_throughput(benchmark, f"box ingest, batches of 100, 1 core ({INGEST} ballots)", INGEST, "ballots")


def test_tally(benchmark: object, setup: tuple) -> None:  # type: ignore[type-arg]
    """Aggregate on all cores, then 3 trustees decrypt the 5 totals with proofs, checked and combined."""
    context, shares, _ = setup
    pool = [encrypt(context.public_key, i % 2) for i in range(1000)]
    ballots = [
        EncryptedBallot(
            context.base_hash,
            "s",
            bytes(32),
            (EncryptedContest("c", tuple(pool[(i + k) % 1000] for k in range(5)), (), None),),
        )  # type: ignore[arg-type]
        for i in range(TALLY_BALLOTS)
    ]

    def tally() -> object:
        encrypted = aggregate(context, ballots)
        cts = encrypted.ciphertexts()
        partials = [
            threshold.partial_decrypt(context, shares[t], cts, executor=SERIAL) for t in ("t1", "t3", "t5")
        ]
        return decrypt_tally(context, encrypted, partials, executor=SERIAL)

    result = benchmark.pedantic(tally, rounds=1)  # type: ignore[attr-defined]
    assert sum(result.ballots.values()) == TALLY_BALLOTS
    record_throughput(
        benchmark, f"tally {TALLY_BALLOTS:,} ballots, {worker_count()} cores", TALLY_BALLOTS, "ballots"
    )
