"""Verificatum's hashing: the PRG, the random oracle, the prefix ρ and random integers (VMNV §5, §7.3).

* ``PRG(s)`` outputs H(s ‖ u32(0)) ‖ H(s ‖ u32(1)) ‖ …, H the PRG's hash function; its seed is one
  digest long.
* ``RO_n(d)`` hashes s = H(u32(n) ‖ d), takes the first ⌈n/8⌉ bytes of PRG(s) (with the same H)
  and clears the leading bits beyond n.
* Random integers of n bits (batching vectors, generator candidates) take ⌈n/8⌉ bytes of a PRG
  each, big-endian, and clear the leading bits beyond n.
* ρ = H(node(version, "sid.auxsid", u32(n_r), u32(n_v), u32(n_e), s_PRG, s_Gq, s_H)), strings as
  UTF-8 leaves and ``s_Gq`` the whole ``pgroup`` value of protInfo.xml, comment prefix included.

Every random-oracle query of a proof is RO_n(ρ ‖ bytes of a byte tree).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from degcore.errors import UnsupportedFormat
from degcore.interop.verificatum.bytetree import ByteTree, leaf, node, uint_leaf

__all__ = ["HASHES", "Prg", "derive_rho", "random_oracle"]

#: Verificatum's names of the hash functions it allows (protInfo ``prg`` and ``rohash``).
HASHES = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _hash_name(name: str) -> str:
    try:
        return HASHES[name]
    except KeyError:
        raise UnsupportedFormat(
            f"hash function {name!r} is not supported (only {', '.join(HASHES)}); "
            "a PRG or hash given as a Java class is not"
        ) from None


def digest(name: str, data: bytes) -> bytes:
    """H(data) for a Verificatum hash name."""
    return hashlib.new(_hash_name(name), data).digest()


class Prg:
    """PRGHeuristic: counter-mode hashing of the seed, read as a stream."""

    def __init__(self, hash_name: str, seed: bytes) -> None:
        self._name = _hash_name(hash_name)
        self._seed = bytes(seed)
        self._blocks = self._generate()
        self._buffer = b""

    @staticmethod
    def seed_bytes(hash_name: str) -> int:
        """The seed length: one digest."""
        return hashlib.new(_hash_name(hash_name)).digest_size

    def _generate(self) -> Iterator[bytes]:
        counter = 0
        while True:
            yield hashlib.new(self._name, self._seed + counter.to_bytes(4, "big")).digest()
            counter += 1

    def read(self, n: int) -> bytes:
        """The next ``n`` bytes of the stream."""
        while len(self._buffer) < n:
            self._buffer += next(self._blocks)
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def integer(self, bits: int) -> int:
        """The next integer of ``bits`` bits: ⌈bits/8⌉ bytes, leading excess bits cleared."""
        return int.from_bytes(self.read((bits + 7) // 8), "big") & ((1 << bits) - 1)

    def integers(self, count: int, bits: int) -> list[int]:
        """``count`` integers of ``bits`` bits each."""
        return [self.integer(bits) for _ in range(count)]


def random_oracle(hash_name: str, nbits: int, data: bytes) -> bytes:
    """RO_n(data): ⌈n/8⌉ bytes, leading excess bits cleared."""
    seed = digest(hash_name, nbits.to_bytes(4, "big") + data)
    out = bytearray(Prg(hash_name, seed).read((nbits + 7) // 8))
    if nbits % 8:
        out[0] &= (1 << (nbits % 8)) - 1
    return bytes(out)


def derive_rho(
    *,
    version: str,
    sid: str,
    auxsid: str,
    n_r: int,
    n_v: int,
    n_e: int,
    prg: str,
    pgroup: str,
    rohash: str,
) -> bytes:
    """The prefix ρ of every random-oracle query of a session."""
    fields: list[ByteTree] = [
        leaf(version),
        leaf(f"{sid}.{auxsid}"),
        uint_leaf(n_r),
        uint_leaf(n_v),
        uint_leaf(n_e),
        leaf(prg),
        leaf(pgroup),
        leaf(rohash),
    ]
    return digest(rohash, node(fields).to_bytes())
