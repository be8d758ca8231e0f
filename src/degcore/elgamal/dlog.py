"""Bounded discrete logarithm by baby-step giant-step (docs/architecture.md §2 step 6, docs/protocol.md §3.3).

Find m ∈ [0, bound] with g^m = y. The baby-step table {g^j: j} for j < s, s = ⌈√(bound+1)⌉, is
built once per group and kept (it only grows when a larger bound is asked for); each lookup then
takes at most ⌈(bound+1)/s⌉ giant steps y · (g^−s)^i. For 10^8 the table holds 10 001 entries.
The cache is explicit, per group, and guarded by a lock, so threads may share it.
"""

from __future__ import annotations

import math
import threading

from degcore.errors import InvalidInput, VerificationFailed
from degcore.groups import Element, Group

__all__ = ["MAX_BOUND", "DiscreteLogTable", "dlog"]

#: The largest bound accepted: a national electorate's count per option with room to spare.
MAX_BOUND = 10**10


class DiscreteLogTable:
    """Baby steps g^0 … g^(s−1) for one group, indexed by element."""

    def __init__(self, group: Group, size: int) -> None:
        self.group = group
        self.size = size
        table: dict[Element, int] = {}
        acc = group.identity()
        g = group.generator()
        for j in range(size):
            table[acc] = j
            acc = acc * g
        self._table = table
        self._giant = group.inv(acc)  # g^−s

    def find(self, y: Element, bound: int) -> int:
        """The m ∈ [0, bound] with g^m = y; raise VerificationFailed if there is none."""
        gamma = y
        for i in range(bound // self.size + 1):
            j = self._table.get(gamma)
            if j is not None:
                m = i * self.size + j
                if m <= bound:
                    return m
                break
            gamma = gamma * self._giant
        raise VerificationFailed("dlog", detail=f"no discrete logarithm in [0, {bound}]")


_tables: dict[str, DiscreteLogTable] = {}
_lock = threading.Lock()


def _table_for(group: Group, size: int) -> DiscreteLogTable:
    with _lock:
        table = _tables.get(group.name)
        if table is None or table.size < size or table.group is not group:
            table = DiscreteLogTable(group, size)
            _tables[group.name] = table
        return table


def dlog(group: Group, y: Element, bound: int) -> int:
    """The m ∈ [0, bound] with g^m = ``y`` (baby-step giant-step with a cached table)."""
    if not 0 <= bound <= MAX_BOUND:
        raise InvalidInput(f"dlog bound must be in [0, {MAX_BOUND}], got {bound}")
    return _table_for(group, math.isqrt(bound) + 1).find(y, bound)
