"""Group operations of each backend (the units every operation bound is made of)."""

from __future__ import annotations

import pytest

from benchmarks.conftest import Reporter
from degcore.groups import GROUP_NAMES, get_group


@pytest.mark.parametrize("name", GROUP_NAMES)
@pytest.mark.parametrize(
    "op", ["exp", "exp_vartime", "exp_g", "exp_g_vartime", "fixed_exp", "fixed_exp_vartime", "mul", "decode"]
)
def test_group_operation(report: Reporter, name: str, op: str) -> None:
    group = get_group(name)
    x = group.exp_g(group.random_scalar())
    k = group.random_scalar()
    fixed = group.fixed(x)
    encoded = bytes(x)
    workloads = {
        "exp": lambda: group.exp(x, k),
        "exp_vartime": lambda: group.exp_vartime(x, k),
        "exp_g": lambda: group.exp_g(k),
        "exp_g_vartime": lambda: group.exp_g_vartime(k),
        "fixed_exp": lambda: fixed.exp(k),
        "fixed_exp_vartime": lambda: fixed.exp_vartime(k),
        "mul": lambda: x * x,
        "decode": lambda: group.decode(encoded),
    }
    report(f"{op} {name}", group, workloads[op])
