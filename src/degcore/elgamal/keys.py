"""ElGamal key pairs (docs/architecture.md §2 step 2, docs/protocol.md §3).

A secret key is a scalar x ∈ [1, q); its public key is h = g^x. The public key keeps a
fixed-base preparation of h (a window table on modp4096) that is built on first use and reused by
every encryption and proof under it.
"""

from __future__ import annotations

from dataclasses import dataclass

from degcore.errors import InvalidInput
from degcore.groups import Element, FixedBase, Group

__all__ = ["KeyPair", "PublicKey", "SecretKey", "keygen"]


class PublicKey:
    """An ElGamal public key h = g^x (or a joint key: the product of trustees' keys)."""

    __slots__ = ("_fixed", "group", "h")

    def __init__(self, group: Group, h: Element) -> None:
        if h.group is not group:
            raise TypeError("public key element is not in the given group")
        if group.is_identity(h):
            raise InvalidInput(f"{group.name}: the identity is not a valid public key")
        self.group = group
        self.h = h
        self._fixed: FixedBase | None = None

    @classmethod
    def decode(cls, group: Group, data: bytes) -> PublicKey:
        """Decode a public key received from outside (membership is checked)."""
        return cls(group, group.decode(data))

    def exp(self, k: int) -> Element:
        """h^k for a secret k (constant-time), through the fixed-base preparation of h."""
        if self._fixed is None:
            self._fixed = self.group.fixed(self.h)
        return self._fixed.exp(k)

    def exp_vartime(self, k: int) -> Element:
        """h^k for a public k (verification): the fixed base's fast, variable-time path."""
        if self._fixed is None:
            self._fixed = self.group.fixed(self.h)
        return self._fixed.exp_vartime(k)

    @property
    def fixed_base(self) -> FixedBase:
        """The fixed-base preparation of h (built on first use), e.g. for ``FixedBase.exp_multi_vartime``."""
        if self._fixed is None:
            self._fixed = self.group.fixed(self.h)
        return self._fixed

    def __bytes__(self) -> bytes:
        return bytes(self.h)

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled for worker processes without its fixed-base table (megabytes on modp4096).
        return (PublicKey, (self.group, self.h))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and self.group is other.group and self.h == other.h

    def __hash__(self) -> int:
        return hash((self.group.name, self.h))

    def __repr__(self) -> str:
        return f"PublicKey({self.group.name}, {bytes(self.h).hex()[:16]}…)"


@dataclass(frozen=True, slots=True, repr=False)
class SecretKey:
    """An ElGamal secret key x ∈ [1, q)."""

    group: Group
    x: int

    def __post_init__(self) -> None:
        if not 0 < self.x < self.group.order:
            raise InvalidInput(f"{self.group.name}: secret key out of range [1, q)")

    def __repr__(self) -> str:  # never print the secret
        return f"SecretKey({self.group.name}, <hidden>)"


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A secret key and its public key."""

    secret: SecretKey
    public: PublicKey


def keygen(group: Group) -> KeyPair:
    """A fresh key pair with x drawn from the OS's CSPRNG."""
    x = group.random_nonzero_scalar()
    return KeyPair(SecretKey(group, x), PublicKey(group, group.exp_g(x)))
