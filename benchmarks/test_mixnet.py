"""Shuffle + prove and verify ``DEGCORE_BENCH_MIX`` ciphertexts (default 100,000) on ristretto255, all cores.

The operation bound is the counted operations of the same work on ``SAMPLE`` ciphertexts (serial),
scaled linearly to the full size and divided by the cores. Verificatum's verifier checks 100,000
P-256 ciphertexts in 42 s on one core (about 2,400 ciphertexts/s); the per-core rates printed here
are directly comparable.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

import pytest

from benchmarks._opcount import bound, count_ops
from benchmarks.conftest import costs_for, record_ratio, record_throughput
from degcore import mixnet
from degcore.elgamal import PublicKey, encrypt, keygen
from degcore.groups import get_group
from degcore.parallel import SERIAL, map_chunks, worker_count

SIZE = int(os.environ.get("DEGCORE_BENCH_MIX", "100000"))
SAMPLE = 200
CONTEXT = bytes(range(32))


def _encrypt_chunk(pk: PublicKey, values: Sequence[int]) -> list[mixnet.Row]:
    return [(encrypt(pk, v % 7),) for v in values]


@pytest.fixture(scope="module")
def setup() -> tuple[PublicKey, list[mixnet.Row]]:
    pk = keygen(get_group("ristretto255")).public
    return pk, map_chunks(functools.partial(_encrypt_chunk, pk), range(SIZE))


def _sample_bound(pk: PublicKey, verify: bool) -> float:
    rows = _encrypt_chunk(pk, range(SAMPLE))
    out, witness = mixnet.shuffle(pk, rows)
    proof = mixnet.prove(pk, rows, out, witness, CONTEXT, executor=SERIAL)
    with count_ops(pk.group) as counts:
        if verify:
            mixnet.verify(pk, rows, out, proof, CONTEXT, executor=SERIAL)
        else:
            again, secret = mixnet.shuffle(pk, rows)
            mixnet.prove(pk, rows, again, secret, CONTEXT, executor=SERIAL)
    return bound(counts, costs_for(pk.group)) * SIZE / SAMPLE / worker_count()


def test_shuffle_and_prove(benchmark: object, setup: tuple) -> None:  # type: ignore[type-arg]
    pk, rows = setup

    def run() -> None:
        out, witness = mixnet.shuffle(pk, rows, executor=None)
        mixnet.prove(pk, rows, out, witness, CONTEXT)

    benchmark.pedantic(run, rounds=1)  # type: ignore[attr-defined]
    label = f"shuffle + prove {SIZE:,} ciphertexts, {worker_count()} cores"
    record_ratio(benchmark, label, _sample_bound(pk, verify=False), f"bound scaled from {SAMPLE}")
    record_throughput(benchmark, f"{label} (per core: divide by {worker_count()})", SIZE, "ciphertexts")


def test_verify(benchmark: object, setup: tuple) -> None:  # type: ignore[type-arg]
    pk, rows = setup
    out, witness = mixnet.shuffle(pk, rows)
    proof = mixnet.prove(pk, rows, out, witness, CONTEXT)
    benchmark.pedantic(lambda: mixnet.verify(pk, rows, out, proof, CONTEXT), rounds=1)  # type: ignore[attr-defined]
    label = f"verify shuffle of {SIZE:,} ciphertexts, {worker_count()} cores"
    record_ratio(benchmark, label, _sample_bound(pk, verify=True), f"bound scaled from {SAMPLE}")
    record_throughput(benchmark, f"{label} (per core: divide by {worker_count()})", SIZE, "ciphertexts")
