"""Operation counting and per-operation costs for the benchmarks' operation bounds.

``count_ops(group)`` wraps the backend's operations for one untimed run of a workload and counts
the outermost calls only (``div`` is one op even where it is ``mul`` + ``inv`` inside; a
``multi_exp`` of N terms counts as N ``exp_vartime``, the plain product it replaces, and a one-pass
commitment ``exp_g_multi_vartime`` / ``FixedBase.exp_multi_vartime`` as the powers and products
it replaces);
``unit_costs(group)`` times each operation on random inputs in the same process. The operation
bound of a workload is Σ count(op) × cost(op); its ratio is measured time / bound.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from degcore.groups import Group
from degcore.groups.base import FixedBase
from degcore.groups.modp import _WindowTable
from degcore.groups.ristretto255 import _Fixed as _RistrettoFixed

OPS = (
    "exp", "exp_vartime", "exp_small", "exp_g", "exp_g_vartime", "fixed_exp", "fixed_exp_vartime",
    "mul", "div", "inv", "decode",
)  # fmt: skip

#: Public exponents this short (share indices in the ceremony) are counted as ``exp_small``.
SMALL_EXPONENT_BITS = 16


@contextlib.contextmanager
def count_ops(group: Group) -> Iterator[Counter[str]]:
    """Count the group operations performed inside the block (outermost calls only)."""
    counts: Counter[str] = Counter()
    depth = [0]

    def wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any) -> Any:
            if depth[0] == 0 and name in _COMMITMENTS:  # g^v · ∏ bᵢ^kᵢ: the powers it replaces
                counts[_COMMITMENTS[name]] += 1
                counts["exp_vartime"] += len(args[-2])
            elif depth[0] == 0:
                small = name == "exp_vartime" and int(args[1]).bit_length() <= SMALL_EXPONENT_BITS
                counts["exp_small" if small else name] += 1
            depth[0] += 1
            try:
                return fn(*args)
            finally:
                depth[0] -= 1

        return counted

    originals = {}
    for name in _GROUP_METHODS:
        originals[name] = getattr(group, name)
        setattr(group, name, wrap(name, originals[name]))

    def nested(count: Callable[[], object], call: Callable[[], Any]) -> Any:
        """Count an outermost call, then run it with the inner calls uncounted."""
        if depth[0] == 0:
            count()
        depth[0] += 1
        try:
            return call()
        finally:
            depth[0] -= 1

    def product(elements: Any) -> Any:
        items = list(elements)
        return nested(
            lambda: counts.update(mul=max(len(items) - 1, 0)), lambda: type(group).product(group, items)
        )

    def multi_exp(bases: Any, scalars: Any) -> Any:
        # Bound by the plain product it replaces, so a ratio below 1 is the MSM's gain (a term with
        # exponent 1, as in a sum of ciphertexts, replaces a multiplication).
        ones = sum(1 for k in scalars if k % group.order == 1)
        return nested(
            lambda: counts.update(exp_vartime=len(bases) - ones, mul=ones),
            lambda: type(group).multi_exp(group, bases, scalars),
        )

    def multi_exp_secret(bases: Any, scalars: Any) -> Any:
        # Bound by the constant-time powers and products it replaces.
        return nested(
            lambda: counts.update(exp=len(bases), mul=max(len(bases) - 1, 0)),
            lambda: type(group).multi_exp_secret(group, bases, scalars),
        )

    group.product = product  # type: ignore[method-assign]
    group.multi_exp = multi_exp  # type: ignore[method-assign]
    group.multi_exp_secret = multi_exp_secret  # type: ignore[method-assign]
    restore = _patch_fixed_bases(wrap)
    try:
        yield counts
    finally:
        restore()
        for name in (*originals, "product", "multi_exp", "multi_exp_secret"):
            with contextlib.suppress(AttributeError):
                delattr(group, name)


_GROUP_METHODS = (
    "exp", "exp_vartime", "exp_g", "exp_g_vartime", "exp_g_multi_vartime", "exp_g_mul", "mul", "div", "inv",
    "decode",
)  # fmt: skip

#: The one-pass commitments, counted as their first power plus one exp_vartime per other term.
_COMMITMENTS = {"exp_g_multi_vartime": "exp_g_vartime", "fixed_exp_multi_vartime": "fixed_exp_vartime"}

#: The fixed-base classes whose own methods are counted (others count through the group's).
_FIXED_METHODS = {
    _WindowTable: ("exp", "exp_vartime"),
    _RistrettoFixed: ("exp", "exp_mul", "exp_vartime", "exp_multi_vartime"),
    FixedBase: ("exp_mul", "exp_multi_vartime"),
}

Wrapper = Callable[[str, Callable[..., Any]], Callable[..., Any]]


def _patch_fixed_bases(wrap: Wrapper) -> Callable[[], None]:
    """Count the fixed-base methods as ``fixed_*``; return the function that undoes it."""
    saved = [(cls, name, cls.__dict__[name]) for cls, names in _FIXED_METHODS.items() for name in names]
    for cls, name, fn in saved:
        setattr(cls, name, wrap(f"fixed_{name}", fn))

    def restore() -> None:
        for cls, name, fn in saved:
            setattr(cls, name, fn)

    return restore


def _time(fn: Callable[[], object], reps: int) -> float:
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        samples.append((time.perf_counter() - start) / reps)
    return statistics.median(samples)


def unit_costs(group: Group) -> dict[str, float]:
    """Seconds per operation of ``group``, measured now on random inputs."""
    reps = 20 if group.element_bytes > 64 else 300
    x = group.exp_g(group.random_scalar())
    y = group.exp_g(group.random_scalar())
    k = group.random_scalar()
    fixed: FixedBase = group.fixed(y)
    fixed.exp_vartime(1)  # builds the window table where there is one
    group.exp_g_vartime(1)
    encoded = bytes(x)
    return {
        "exp": _time(lambda: group.exp(x, k), reps),
        "exp_vartime": _time(lambda: group.exp_vartime(x, k), reps),
        "exp_small": _time(lambda: group.exp_vartime(x, 5), reps),
        "exp_g": _time(lambda: group.exp_g(k), reps),
        "exp_g_vartime": _time(lambda: group.exp_g_vartime(k), reps),
        "fixed_exp": _time(lambda: fixed.exp(k), reps),
        "fixed_exp_vartime": _time(lambda: fixed.exp_vartime(k), reps),
        "exp_g_mul": _time(lambda: group.exp_g_mul(k, x, k), reps),
        "fixed_exp_mul": _time(lambda: fixed.exp_mul(k, x, k), reps),
        "mul": _time(lambda: group.mul(x, y), reps * 10),
        "div": _time(lambda: group.div(x, y), reps * 10),
        "inv": _time(lambda: group.inv(x), reps * 10),
        "decode": _time(lambda: group.decode(encoded), reps),
    }


def bound(counts: Counter[str], costs: dict[str, float]) -> float:
    """Σ count × cost over the counted operations, in seconds."""
    return sum(n * costs[op] for op, n in counts.items())
