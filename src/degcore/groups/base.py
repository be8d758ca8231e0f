"""The prime-order group protocol every backend implements (docs/architecture.md §3, docs/protocol.md §1).

A group has a generator ``g`` of prime order ``q``. Scalars are Python ``int`` values; every
operation reduces them mod ``q``. Elements are immutable values of the backend's
:class:`Element` subclass with value equality and the operators ``a * b``, ``a / b``, ``a ** k``
and ``bytes(a)`` (the canonical encoding).

Every exponentiation is constant-time in its exponent unless its name says ``vartime``:
:meth:`Group.exp` / ``**``, :meth:`Group.exp_g` and :meth:`FixedBase.exp` take secret exponents
(nonces, shares, keys, plaintexts) and run a constant-time library routine;
:meth:`Group.exp_vartime`, :meth:`Group.exp_g_vartime`, :meth:`FixedBase.exp_vartime` and
:meth:`Group.multi_exp` (∏ bᵢ^kᵢ in one pass), :meth:`Group.exp_g_multi_vartime` and
:meth:`FixedBase.exp_multi_vartime` (a proof's commitment g^v · A^c in one pass) are for exponents
that are public (verification) and may be faster. What "constant-time" covers, and what
it does not, is in docs/security-limitations.md §1. Elements from outside enter only through
:meth:`Group.decode`, which rejects anything that is not the canonical encoding of a member of the
order-q group.
"""

from __future__ import annotations

import functools
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Literal

from degcore.errors import InvalidInput, NonCanonical
from degcore.hashing import hash_to_scalar

__all__ = ["Element", "FixedBase", "Group", "Scalar"]

Scalar = int


class Element(ABC):
    """A member of a prime-order group; compare with ``==``, combine with ``*``, ``/``, ``**``."""

    __slots__ = ()

    @property
    @abstractmethod
    def group(self) -> Group:
        """The group this element belongs to."""

    def __mul__(self, other: Element) -> Element:
        return self.group.mul(self, other)

    def __truediv__(self, other: Element) -> Element:
        return self.group.div(self, other)

    def __pow__(self, k: int) -> Element:
        return self.group.exp(self, k)

    def __bytes__(self) -> bytes:
        return self.group.encode(self)

    def __repr__(self) -> str:
        return f"<{self.group.name} element {bytes(self).hex()[:16]}…>"

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled (for worker processes) as its group and canonical bytes; see _restore_element.
        return (_restore_element, (self.group, bytes(self)))


class FixedBase:
    """An element prepared for many exponentiations (a window table where that is faster)."""

    __slots__ = ("base",)

    def __init__(self, base: Element) -> None:
        self.base = base

    def exp(self, k: int) -> Element:
        """``base ** k`` for a secret ``k`` (constant-time, as :meth:`Group.exp`)."""
        return self.base.group.exp(self.base, k)

    def exp_vartime(self, k: int) -> Element:
        """``base ** k`` for a public ``k`` (may be faster, may leak ``k`` through timing)."""
        return self.base.group.exp_vartime(self.base, k)

    def exp_mul(self, k: int, other: Element, k2: int) -> Element:
        """base^k · other^k2 for secret ``k``, ``k2`` and a public ``other`` (constant-time)."""
        group = self.base.group
        power = group.exp_g(k2) if other == group.generator() else group.exp(other, k2)
        return group.mul(self.exp(k), power)

    def exp_multi_vartime(self, k: int, bases: Sequence[Element], scalars: Sequence[int]) -> Element:
        """base^k · ∏ bases[i]^scalars[i] for public scalars, in one pass where the backend can."""
        group = self.base.group
        return group.mul(self.exp_vartime(k), group.multi_exp(bases, scalars))


class Group(ABC):
    """A cyclic group of prime order ``order`` with canonical encodings (one backend per name).

    Backends call :meth:`_register` once constructed: a group is pickled by name, so every worker
    process uses its own instance (and tables) and elements keep comparing equal across processes.
    """

    #: The name recorded in the manifest and every transcript.
    name: str
    #: The prime order q of the group and of its scalar field.
    order: int
    #: Length of ``encode(element)``.
    element_bytes: int
    #: Length of ``encode_scalar(k)``.
    scalar_bytes: int
    #: Byte order of encoded scalars (and of the uniform bytes hashed to scalars).
    scalar_byteorder: Literal["big", "little"] = "big"
    #: Whether one :meth:`multi_exp` of many terms beats one power per term (measured,
    #: docs/performance.md), so that verifiers batch equations with random weights.
    batches: bool = True

    def _register(self) -> None:
        _REGISTRY.setdefault(self.name, self)

    def __reduce__(self) -> tuple[object, ...]:
        return (_group_named, (self.name,))

    # --- elements -------------------------------------------------------------------------
    @abstractmethod
    def generator(self) -> Element:
        """The standard generator g."""

    @abstractmethod
    def identity(self) -> Element:
        """The neutral element (representable in every backend)."""

    @abstractmethod
    def mul(self, a: Element, b: Element) -> Element:
        """The group operation."""

    @abstractmethod
    def inv(self, a: Element) -> Element:
        """The inverse of ``a``."""

    def div(self, a: Element, b: Element) -> Element:
        """``a`` times the inverse of ``b``."""
        return self.mul(a, self.inv(b))

    @abstractmethod
    def exp(self, a: Element, k: int) -> Element:
        """``a ** k`` for a secret ``k``, constant-time in ``k``."""

    def exp_vartime(self, a: Element, k: int) -> Element:
        """``a ** k`` for a public ``k`` (may be faster, may leak ``k`` through timing)."""
        return self.exp(a, k)

    @abstractmethod
    def exp_g(self, k: int) -> Element:
        """``g ** k`` for a secret ``k``, constant-time in ``k``."""

    def exp_g_vartime(self, k: int) -> Element:
        """``g ** k`` for a public ``k`` (may be faster, may leak ``k`` through timing)."""
        return self.exp_g(k)

    def fixed(self, a: Element) -> FixedBase:
        """Prepare ``a`` for many exponentiations, secret or public (e.g. the election public key)."""
        self._check_member_type(a)
        return FixedBase(a)

    def product(self, elements: Iterable[Element]) -> Element:
        """The product of public ``elements`` (the identity for none); may be variable time."""
        items = iter(elements)
        acc = next(items, None)
        if acc is None:
            return self.identity()
        self._check_member_type(acc)  # no multiplication by the identity checks it for us
        for e in items:
            acc = self.mul(acc, e)
        return acc

    def multi_exp(self, bases: Sequence[Element], scalars: Sequence[int]) -> Element:
        """∏ ``bases[i] ** scalars[i]`` for public scalars (variable time; scalars reduced mod q)."""
        if len(bases) != len(scalars):
            raise InvalidInput(f"{self.name}: multi_exp got {len(bases)} bases and {len(scalars)} scalars")
        kept = [(b, k % self.order) for b, k in zip(bases, scalars, strict=True)]
        kept = [(b, k) for b, k in kept if k]
        for b, _ in kept:
            self._check_member_type(b)
        return self._multi_exp([b for b, _ in kept], [k for _, k in kept])

    def multi_exp_secret(self, bases: Sequence[Element], scalars: Sequence[int]) -> Element:
        """∏ bases[i]^scalars[i] for public bases and secret scalars (constant-time in the scalars)."""
        if len(bases) != len(scalars):
            raise InvalidInput(
                f"{self.name}: multi_exp_secret got {len(bases)} bases and {len(scalars)} scalars"
            )
        powers = (self.exp(b, k) for b, k in zip(bases, scalars, strict=True))
        return functools.reduce(self.mul, powers, self.identity())

    def exp_g_mul(self, k: int, other: Element, k2: int) -> Element:
        """g^k · other^k2 for secret ``k``, ``k2`` and a public ``other`` (constant-time)."""
        return self.mul(self.exp_g(k), self.exp(other, k2))

    def exp_g_multi_vartime(self, k: int, bases: Sequence[Element], scalars: Sequence[int]) -> Element:
        """g^k · ∏ bases[i]^scalars[i] for public scalars (a proof's commitment), in one pass if it can."""
        return self.mul(self.exp_g_vartime(k), self.multi_exp(bases, scalars))

    def _multi_exp(self, bases: list[Element], scalars: list[int]) -> Element:
        """The backend's fastest method for reduced, nonzero scalars; by default one power per term."""
        terms = zip(bases, scalars, strict=True)
        return self.product(b if k == 1 else self.exp_vartime(b, k) for b, k in terms)

    def is_identity(self, a: Element) -> bool:
        """Whether ``a`` is the neutral element."""
        return a == self.identity()

    # --- encodings ------------------------------------------------------------------------
    @abstractmethod
    def encode(self, a: Element) -> bytes:
        """The canonical encoding, exactly ``element_bytes`` long."""

    @abstractmethod
    def decode(self, data: bytes) -> Element:
        """Decode and check membership; raise InvalidInput for anything else."""

    def decode_many(self, data: bytes) -> list[Element]:
        """Decode concatenated encodings (``element_bytes`` each), checking each as :meth:`decode` does."""
        size = self.element_bytes
        if len(data) % size:
            raise InvalidInput(f"{self.name}: {len(data)} bytes is not a whole number of elements")
        return [self.decode(data[i : i + size]) for i in range(0, len(data), size)]

    def _decode_trusted(self, data: bytes) -> Element:
        """Decode bytes this process or its parent encoded from an element (pickling only)."""
        return self.decode(data)

    def encode_scalar(self, k: int) -> bytes:
        """The canonical encoding of ``k mod q``: ``scalar_bytes`` long, in ``scalar_byteorder``."""
        return (k % self.order).to_bytes(self.scalar_bytes, self.scalar_byteorder)

    def decode_scalar(self, data: bytes) -> int:
        """Decode a canonical scalar (exactly ``scalar_bytes``, below q)."""
        self._check_length(data, self.scalar_bytes, "scalar")
        value = int.from_bytes(data, self.scalar_byteorder)
        if value >= self.order:
            raise NonCanonical(f"{self.name}: scalar {bytes(data).hex()} is not reduced mod the group order")
        return value

    def _check_length(self, data: bytes, length: int, what: str) -> None:
        if not isinstance(data, bytes | bytearray):
            raise InvalidInput(f"{self.name}: {what} must be bytes, got {type(data).__name__}")
        if len(data) != length:
            raise InvalidInput(f"{self.name}: {what} must be {length} bytes, got {len(data)}")

    @abstractmethod
    def _check_member_type(self, a: Element) -> None:
        """Raise TypeError if ``a`` is not an element of this backend (a bug, not bad input)."""

    # --- scalars and hashing --------------------------------------------------------------
    def random_scalar(self) -> int:
        """A uniform scalar in [0, q) from the OS's CSPRNG."""
        return secrets.randbelow(self.order)

    def random_nonzero_scalar(self) -> int:
        """A uniform scalar in [1, q) from the OS's CSPRNG."""
        return 1 + secrets.randbelow(self.order - 1)

    def hash_to_scalar(self, msg: bytes, dst: bytes) -> int:
        """A uniform scalar from ``msg`` under the domain tag ``dst`` (no modulo bias)."""
        return hash_to_scalar(msg, dst, self)

    @abstractmethod
    def hash_to_element(self, msg: bytes, dst: bytes) -> Element:
        """A group element nobody knows the discrete logarithm of, derived from ``msg`` and ``dst``."""

    def independent_generators(
        self, count: int, seed: bytes, dst: bytes = b"degcore/4/generators"
    ) -> list[Element]:
        """``count`` generators with unknown mutual discrete logs, derived from ``seed``."""
        return [
            self.hash_to_element(len(seed).to_bytes(4, "big") + seed + i.to_bytes(4, "big"), dst)
            for i in range(count)
        ]


_REGISTRY: dict[str, Group] = {}


def _group_named(name: str) -> Group:
    """The constructed group called ``name`` (unpickling)."""
    if name not in _REGISTRY:
        # A backend is imported on first use (degcore.groups), so a worker may not have loaded it yet.
        from degcore.groups import get_group  # noqa: PLC0415 - the package imports this module

        get_group(name)
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InvalidInput(f"no group named {name!r} in this process") from None


def _restore_element(group: Group, data: bytes) -> Element:
    # A pickle can run arbitrary code, so it is never an input from outside: skipping the
    # membership check here trusts no one that was not already trusted.
    return group._decode_trusted(data)
