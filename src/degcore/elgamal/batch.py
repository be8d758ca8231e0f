"""Small-exponent batch verification of proof equations (docs/protocol.md §4.5).

A commitment-carrying proof is checked by equations of the form ∏ bᵢ^kᵢ = 1 over public elements
and scalars. :class:`Batch` collects such equations from many proofs, then checks them at once: it
takes a fresh 128-bit weight wₑ for every equation e from the OS (``secrets``, through the
process's pool of unused weights) as the equation arrives, and tests ∏ₑ (∏ bᵢ^kᵢ)^wₑ = 1 as one
multi-exponentiation, with the scalars of a base that occurs in several equations (g, the
election key, a ciphertext) added up as they arrive.

Soundness: if some equation does not hold, the weighted product is the identity for at most one
value of that equation's weight given all the others, so a batch with a false equation passes
with probability at most 2^-128 (1/q for a group of order q < 2^128), over the verifier's weights.
The prover sees nothing of them. Every base must already be a checked group member (decoded
through :meth:`Group.decode`), or an element of small order could cancel against a weight.

A failed batch says only that some equation is false; :meth:`Batch.failing` then checks each
equation alone, and callers fall back to their one-item-at-a-time checks to name every bad item.
"""

from __future__ import annotations

import os
import secrets
import struct
import threading
from collections.abc import Callable, Iterable, Sequence

from degcore.errors import InvalidInput, VerificationFailed
from degcore.groups import Element, Group

__all__ = ["WEIGHT_BITS", "Batch", "Label", "random_weights", "verify_each"]

#: Bits per random weight: a false batch passes with probability at most 2^-WEIGHT_BITS.
WEIGHT_BITS = 128
_WEIGHT_BYTES = WEIGHT_BITS // 8
_POOL_WEIGHTS = 1024


def random_weights(count: int) -> list[int]:
    """``count`` independent 128-bit weights from the OS's CSPRNG (``secrets``), in one read.

    Weight i is bytes [16i, 16i + 16) read big-endian, assembled from two 64-bit halves (half the
    cost of an int.from_bytes per weight).
    """
    halves = struct.unpack(f">{2 * count}Q", secrets.token_bytes(_WEIGHT_BYTES * count))
    return [(high << 64) | low for high, low in zip(halves[::2], halves[1::2], strict=True)]


# Weights for small batches (a ballot's proofs) come from this process's pool, read from the OS
# a thousand at a time: one read per proof was 2.9 µs of the 21 its equations took. A weight is
# used once and never leaves the process, so the prover learns none; a forked child starts with
# an empty pool, so no two processes share one.
_pool: list[int] = []
_pool_lock = threading.Lock()


def _forked() -> None:
    _pool.clear()
    _pool_lock.release()  # held across the fork, so that no other thread was mid-way through it


os.register_at_fork(before=_pool_lock.acquire, after_in_parent=_pool_lock.release, after_in_child=_forked)


def _take(count: int) -> list[int]:
    with _pool_lock:
        if len(_pool) < count:
            _pool.extend(random_weights(max(count, _POOL_WEIGHTS)))
        cut = len(_pool) - count
        drawn = _pool[cut:]
        del _pool[cut:]
    return drawn


Terms = Sequence[tuple[Element, int]]
Label = tuple[str, str, str]  # (check, subject, which equation): what a failure names


class Batch:
    """Equations ∏ bᵢ^kᵢ = 1, each labelled, checked together with random 128-bit weights."""

    __slots__ = ("_bases", "_count", "_exact", "_scalars", "_values", "group")

    def __init__(self, group: Group) -> None:
        """An empty batch over ``group``."""
        self.group = group
        self._count = 0
        # Per equation (or per group of equations added at once), what failing() checks alone:
        # the (label, terms) pairs, or a function that writes them out only when a batch fails.
        self._exact: list[Sequence[tuple[Label, Terms]] | Callable[[], Sequence[tuple[Label, Terms]]]] = []
        self._scalars: dict[Element, int] = {}  # Σ over equations of weight · exponent, per shared base
        self._bases: list[Element] = []  # bases of a single equation (a proof's commitments), unmerged
        self._values: list[int] = []

    def __len__(self) -> int:
        return self._count

    def weights(self, count: int) -> list[int]:
        """``count`` fresh weights for :meth:`add_weighted`, never used before (the process's pool)."""
        return _take(count)

    def add(self, label: Label, terms: Terms) -> None:
        """Add the equation ∏ base^scalar = 1 over ``terms`` (public values, members already checked).

        Its weight is fresh from the process's pool (read from the OS): the prover never learns it.
        """
        self._count += 1
        self._exact.append(((label, terms),))
        weight, scalars = _take(1)[0], self._scalars
        for base, k in terms:
            scalars[base] = scalars.get(base, 0) + weight * k

    def add_weighted(
        self,
        count: int,
        single_bases: Sequence[Element],
        single_scalars: Sequence[int],
        shared: Iterable[tuple[Element, int]],
        exact: Callable[[], Sequence[tuple[Label, Terms]]],
    ) -> None:
        """Add ``count`` equations already raised to weights from :meth:`weights` and multiplied out.

        ``single_bases`` with ``single_scalars``: terms whose base is in one equation only (a
        commitment), kept as they are; ``shared``: terms whose base recurs (g, a key, a
        ciphertext), added up per base. ``exact`` writes the same equations unweighted, for
        :meth:`failing`. The weighted product is what :meth:`add` would have accumulated, without a
        dictionary update per term.
        """
        if len(single_bases) != len(single_scalars):
            raise InvalidInput(f"batch: {len(single_bases)} bases and {len(single_scalars)} scalars")
        self._count += count
        self._exact.append(exact)
        self._bases.extend(single_bases)
        self._values.extend(single_scalars)
        scalars = self._scalars
        for base, k in shared:
            scalars[base] = scalars.get(base, 0) + k

    def extend(self, other: Batch) -> None:
        """Add every equation of ``other``, with its label and weight."""
        self._count += other._count
        self._exact += other._exact
        self._bases += other._bases
        self._values += other._values
        scalars = self._scalars
        for base, k in other._scalars.items():
            scalars[base] = scalars.get(base, 0) + k

    def holds(self) -> bool:
        """Whether every equation holds, up to the 2^-128 soundness error (one multi-exponentiation)."""
        if not self._scalars and not self._bases:
            return True
        bases, scalars = self._bases + list(self._scalars), self._values + list(self._scalars.values())
        return self.group.is_identity(self.group.multi_exp(bases, scalars))

    def failing(self) -> list[Label]:
        """The labels of the equations that do not hold, each checked alone (exact, no weights)."""
        group = self.group
        return [
            label
            for item in self._exact
            for label, terms in (item() if callable(item) else item)
            if not group.is_identity(group.multi_exp([b for b, _ in terms], [k for _, k in terms]))
        ]

    def verify(self) -> None:
        """Raise VerificationFailed naming the first false equation, if the batch does not hold."""
        if self.holds():
            return
        for check, subject, which in self.failing():
            raise VerificationFailed(check, subject, f"{which} does not hold")
        raise VerificationFailed("batch", "", "the weighted product is not the identity")  # pragma: no cover


def verify_each(batches: Sequence[Batch]) -> list[VerificationFailed | None]:
    """Per batch, its first failure or None: all at once when all hold, one by one to name the bad ones."""
    if not batches:
        return []
    combined = Batch(batches[0].group)
    for batch in batches:
        combined.extend(batch)
    if combined.holds():
        return [None] * len(batches)
    out: list[VerificationFailed | None] = []
    for batch in batches:
        try:
            batch.verify()
            out.append(None)
        except VerificationFailed as exc:
            out.append(exc)
    return out
