"""Group.multi_exp per backend: cost per term against one variable-time exponentiation, same run.

The bound of a multi-exponentiation of N terms is the plain product of N ``exp_vartime`` on the
same bases and scalars, timed before every round of the MSM (pytest-benchmark's untimed setup), so
both see the same machine load; the ratio column is the MSM's median over the plain product's
median: the cost of one term relative to one exponentiation (below 1: the MSM wins).
``DEGCORE_BENCH_MSM_MAX`` caps the sizes (default 16,384 terms for the curves, 1,024 for
modp4096 and p256).
"""

from __future__ import annotations

import os
import statistics
import time

import pytest

from benchmarks.conftest import record_ratio
from degcore.groups import Element, Group, get_group

_MAX = int(os.environ.get("DEGCORE_BENCH_MSM_MAX", "16384"))
_SIZES = {
    "ristretto255": (2, 16, 256, 1024),
    "secp256k1": (2, 16, 64, 256, 1024, 4096, 16384),
    "modp4096": (2, 16, 64, 256, 1024),
    "p256": (2, 16, 64, 256, 1024),
}


def _interleaved(
    benchmark: object, group: Group, bases: list[Element], scalars: list[int], rounds: int
) -> float:
    """Benchmark the MSM; return the median time of the plain product, timed before each round."""
    plain: list[float] = []

    def time_plain() -> None:
        started = time.perf_counter()
        group.product(group.exp_vartime(b, k) for b, k in zip(bases, scalars, strict=True))
        plain.append(time.perf_counter() - started)

    benchmark.pedantic(  # type: ignore[attr-defined]
        lambda: group.multi_exp(bases, scalars), setup=time_plain, rounds=rounds, iterations=1
    )
    return statistics.median(plain)


_CASES = [(name, n) for name, sizes in _SIZES.items() for n in sizes if n <= _MAX]


@pytest.mark.parametrize(("name", "size"), _CASES, ids=[f"{name}-{n}" for name, n in _CASES])
def test_multi_exp(benchmark: object, name: str, size: int) -> None:
    group = get_group(name)
    bases = [group.exp_g(group.random_scalar()) for _ in range(size)]
    scalars = [group.random_scalar() for _ in range(size)]
    rounds = 3 if size * group.element_bytes > 20_000 else 10
    bound = _interleaved(benchmark, group, bases, scalars, rounds)
    record_ratio(benchmark, f"multi_exp {name} N={size}", bound, f"{size} × exp_vartime, same round")


@pytest.mark.parametrize("name", ["secp256k1", "modp4096"])
def test_multi_exp_short_scalars(benchmark: object, name: str) -> None:
    """Batch-verification weights are 128-bit: half the windows of a full scalar (the plain powers too)."""
    group = get_group(name)
    size = 256
    bases = [group.exp_g(group.random_scalar()) for _ in range(size)]
    scalars = [group.random_scalar() >> 128 for _ in range(size)]
    bound = _interleaved(benchmark, group, bases, scalars, 5)
    record_ratio(benchmark, f"multi_exp {name} N={size} 128-bit", bound, f"{size} × exp_vartime, same round")
