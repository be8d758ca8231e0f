"""Multi-exponentiation ∏ bᵢ^kᵢ for public exponents: Pippenger's bucket method (docs/performance.md).

Every routine here is variable-time in the exponents and must never see a secret. They work on a
backend's raw values (gmpy2 integers, pycryptodome points, …) through the backend's own
multiplication, with ``None`` standing for the identity so that no multiplication by it is spent.

Pippenger with window c over b-bit exponents costs about N·⌈b/c⌉ multiplications to sort the N
bases into buckets, ⌈b/c⌉·2^(c+1) to sum the buckets with running sums, and b squarings; against
N exponentiations of ``exp_cost`` multiplications each. :func:`choose_window` picks the window that
minimises that count and says when N plain exponentiations are cheaper; ``exp_cost`` is each
backend's measured ratio of one variable-time exponentiation to one multiplication.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["choose_window", "pippenger"]

T = TypeVar("T")

_MAX_WINDOW = 16


def choose_window(count: int, bits: int, exp_cost: float) -> int:
    """The bucket width minimising the multiplication count, or 0 if plain exponentiations are cheaper."""
    best_window, best_cost = 0, count * exp_cost
    for c in range(1, _MAX_WINDOW + 1):
        windows = -(-bits // c)
        cost = count * windows + windows * (2 << c) + bits
        if cost < best_cost:
            best_window, best_cost = c, cost
    return best_window


def _times(mul: Callable[[T, T], T], a: T | None, b: T | None) -> T | None:
    if a is None:
        return b
    if b is None:
        return a
    return mul(a, b)


def pippenger(
    mul: Callable[[T, T], T],
    square: Callable[[T], T],
    bases: Sequence[T],
    scalars: Sequence[int],
    window: int,
) -> T | None:
    """∏ bases[i]^scalars[i] (public scalars ≥ 0) in buckets of ``window`` bits; None for the identity."""
    bits = max((k.bit_length() for k in scalars), default=0)
    mask = (1 << window) - 1
    acc: T | None = None
    for shift in range((-(-bits // window) - 1) * window, -1, -window):
        if acc is not None:
            for _ in range(window):
                acc = square(acc)
        buckets: list[T | None] = [None] * (mask + 1)
        for base, k in zip(bases, scalars, strict=True):
            digit = (k >> shift) & mask
            if digit:
                held = buckets[digit]
                buckets[digit] = base if held is None else mul(held, base)
        # Σ_d d·B_d as running sums from the top bucket down: 2 multiplications per bucket.
        running: T | None = None
        total: T | None = None
        for digit in range(mask, 0, -1):
            running = _times(mul, running, buckets[digit])
            total = _times(mul, total, running)
        acc = _times(mul, acc, total)
    return acc
