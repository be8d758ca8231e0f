"""ristretto255's native accelerator in units of one rbcl (libsodium) multiplication, same run.

Every ratio here is a measured median over ``n`` median rbcl multiplications, the multiplication
timed (50 calls) before every round, so both see the same machine load: below 1 per term means the
native path wins. ``multi_exp`` is timed on the native path and, for the small sizes, on the pure
path too (one rbcl multiplication per term, so its ratio is ~1 by construction); the 0/1 range
proof, the 5-option contest and the Schnorr proof are verified on both paths.
``DEGCORE_BENCH_MSM_MAX`` caps the sizes (default 16,384).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from benchmarks._contest import encrypt_contest, verify_contest
from benchmarks.conftest import record_ratio
from degcore.elgamal import disjunctive, encrypt_revealable, keygen, schnorr
from degcore.groups.ristretto255 import RISTRETTO255, native_module

G = RISTRETTO255
NATIVE = native_module()
CONTEXT = bytes(range(32))
_MAX = int(os.environ.get("DEGCORE_BENCH_MSM_MAX", "16384"))
_SIZES = [n for n in (2, 16, 256, 4096, 16384) if n <= _MAX]

pytestmark = pytest.mark.skipif(NATIVE is None, reason="native extension not built or DEGCORE_NATIVE=0")


@contextmanager
def _path(native: bool) -> Iterator[None]:
    saved = G._native
    G.use_native(NATIVE if native else None)
    try:
        yield
    finally:
        G.use_native(saved)


def _against_rbcl(benchmark: object, workload: Callable[[], object], rounds: int) -> float:
    """Benchmark ``workload``; return the median of one rbcl multiplication, timed before each round."""
    x, k = G.exp_g(G.random_scalar()), G.random_scalar()
    samples: list[float] = []

    def time_rbcl() -> None:
        started = time.perf_counter()
        for _ in range(50):
            G.exp(x, k)  # libsodium's crypto_scalarmult_ristretto255, whatever the path
        samples.append((time.perf_counter() - started) / 50)

    benchmark.pedantic(workload, setup=time_rbcl, rounds=rounds, iterations=1)  # type: ignore[attr-defined]
    return statistics.median(samples)


@pytest.mark.parametrize("path", ["native", "pure"])
@pytest.mark.parametrize("size", _SIZES)
def test_multi_exp_per_term(benchmark: object, size: int, path: str) -> None:
    if path == "pure" and size > 256:
        pytest.skip("the pure path is one rbcl multiplication per term by construction")
    bases = [G.exp_g(G.random_scalar()) for _ in range(size)]
    scalars = [G.random_scalar() for _ in range(size)]
    with _path(path == "native"):
        mul = _against_rbcl(benchmark, lambda: G.multi_exp(bases, scalars), 3 if size >= 4096 else 10)
    record_ratio(benchmark, f"multi_exp {path} N={size}", size * mul, f"{size} × rbcl multiplication")


@pytest.mark.parametrize("path", ["native", "pure"])
def test_verify_range_proof(benchmark: object, path: str) -> None:
    """One 0/1 option proof (4 commitments g^v·a^c, h^v·(b/g^j)^c), bound: one rbcl multiplication."""
    pk = keygen(G).public
    ct, r = encrypt_revealable(pk, 1)
    proof = disjunctive.prove(pk, ct, 1, r, hi=1, context=CONTEXT)
    with _path(path == "native"):
        mul = _against_rbcl(benchmark, lambda: disjunctive.verify(pk, ct, proof, hi=1, context=CONTEXT), 30)
    record_ratio(benchmark, f"verify 0/1 proof {path}", mul, "in rbcl multiplications")


@pytest.mark.parametrize("path", ["native", "pure"])
def test_verify_contest(benchmark: object, path: str) -> None:
    """A 5-option contest from bytes (decoding, five 0/1 proofs, the [1, 2] sum proof)."""
    pk = keygen(G).public
    contest = encrypt_contest(pk, CONTEXT)
    with _path(path == "native"):
        mul = _against_rbcl(benchmark, lambda: verify_contest(pk, contest, CONTEXT), 10)
    record_ratio(benchmark, f"verify 5-option contest {path}", mul, "in rbcl multiplications")


@pytest.mark.parametrize("path", ["native", "pure"])
def test_verify_schnorr(benchmark: object, path: str) -> None:
    pair = keygen(G)
    proof = schnorr.prove(G, pair.secret.x, CONTEXT)
    with _path(path == "native"):
        mul = _against_rbcl(benchmark, lambda: schnorr.verify(G, pair.public.h, proof, CONTEXT), 30)
    record_ratio(benchmark, f"verify Schnorr {path}", mul, "in rbcl multiplications")
