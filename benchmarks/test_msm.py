"""Group.multi_exp per backend: cost per term against one variable-time exponentiation, same run.

The bound of a multi-exponentiation of N terms is N × ``exp_vartime`` measured in this run, so the
ratio column is the cost of one term relative to one plain exponentiation (below 1: the MSM wins).
``DEGCORE_BENCH_MSM_MAX`` caps the sizes (default 16,384 terms for the curves, 1,024 for
modp4096 and p256).
"""

from __future__ import annotations

import os

import pytest

from benchmarks.conftest import costs_for, record_ratio
from degcore.groups import get_group

_MAX = int(os.environ.get("DEGCORE_BENCH_MSM_MAX", "16384"))
_SIZES = {
    "ristretto255": (2, 16, 256, 1024),
    "secp256k1": (2, 16, 64, 256, 1024, 4096, 16384),
    "modp4096": (2, 16, 64, 256, 1024),
    "p256": (2, 16, 64, 256, 1024),
}
_CASES = [(name, n) for name, sizes in _SIZES.items() for n in sizes if n <= _MAX]


@pytest.mark.parametrize(("name", "size"), _CASES, ids=[f"{name}-{n}" for name, n in _CASES])
def test_multi_exp(benchmark: object, name: str, size: int) -> None:
    group = get_group(name)
    bases = [group.exp_g(group.random_scalar()) for _ in range(size)]
    scalars = [group.random_scalar() for _ in range(size)]
    rounds = 3 if size * group.element_bytes > 20_000 else 10
    benchmark.pedantic(lambda: group.multi_exp(bases, scalars), rounds=rounds, iterations=1)  # type: ignore[attr-defined]
    bound = size * costs_for(group)["exp_vartime"]
    record_ratio(benchmark, f"multi_exp {name} N={size}", bound, f"{size} × exp_vartime")


@pytest.mark.parametrize("name", ["secp256k1", "modp4096"])
def test_multi_exp_short_scalars(benchmark: object, name: str) -> None:
    """Batch-verification weights are 128-bit: half the windows of a full scalar."""
    group = get_group(name)
    size = 256
    bases = [group.exp_g(group.random_scalar()) for _ in range(size)]
    scalars = [group.random_scalar() >> 128 for _ in range(size)]
    benchmark.pedantic(lambda: group.multi_exp(bases, scalars), rounds=5, iterations=1)  # type: ignore[attr-defined]
    bound = size * costs_for(group)["exp_vartime"]
    record_ratio(benchmark, f"multi_exp {name} N={size} 128-bit", bound, f"{size} × exp_vartime (256-bit)")
