"""ristretto255 (RFC 9496) over libsodium (rbcl) and degcore's native accelerator (docs/architecture.md §3).

Elements are held as their canonical 32-byte encoding, which is what libsodium's ristretto255
calls take and return. Scalars are encoded little-endian, 32 bytes, below
ℓ = 2^252 + 27742317777372353535851937790883648493 (RFC 9496 §4).

Secret exponents are constant-time throughout: :meth:`Ristretto255.exp` and
:meth:`Ristretto255.exp_g` are libsodium's scalar multiplications (the generator through its
table); ``fixed(a).exp`` / ``exp_mul``, :meth:`Ristretto255.exp_g_mul` and
:meth:`Ristretto255.multi_exp_secret` take the native module's constant-time section when it is
built (``ct_exp``, ``ct_fixed2``, ``ct_multi``: masked table selections, checked under valgrind),
else libsodium. The group operation and inversion are libsodium's; decoding is the native strict
decode when the module is built (it keeps the decoded point with the element), else libsodium's.

Public exponents take the native module ``degcore.groups._ristretto255`` when it was built (the
C extension in this folder, variable-time, written for degcore; docs/architecture.md) and
``DEGCORE_NATIVE`` is not ``0``: :meth:`Ristretto255.exp_vartime`, :meth:`Ristretto255.multi_exp`
(Straus with width-5 NAFs for few terms, Pippenger with signed digits for many) and the proof
commitments g^v · A^c of :meth:`Ristretto255.exp_g_multi_vartime` and ``fixed(h).exp_multi_vartime``
in one pass over precomputed tables of g and h. ``exp_g_vartime`` stays with
libsodium's table, which beats a variable-time chain of doublings. Without the module every public
operation is the constant-time one and ``multi_exp`` is one multiplication per term (no bucket
method can win over libsodium's calls, whose every addition decodes and re-encodes), so
``batches`` is then False. The measurements are in docs/performance.md.

hash_to_element is RFC 9380 hash_to_ristretto255: expand_message_xmd(SHA-512, 64 bytes) followed
by the RFC 9496 §4.3.4 element derivation (libsodium ``from_hash``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any

from degcore.errors import InvalidInput
from degcore.groups.base import Element, FixedBase, Group
from degcore.hashing import expand_message_xmd

__all__ = ["NATIVE_BUILT", "Ristretto255", "native_module"]


def _load_built() -> ModuleType | None:
    """The compiled extension, or None if it was not built.

    ``DEGCORE_NATIVE_MODULE=/path/to/_ristretto255.cpython-….so`` loads that build instead of the
    installed one (CI's AddressSanitizer and UBSan build, .ci/sanitize.sh); a file that does not
    load is an error then, never a silent fallback. (Whoever sets the environment can preload any
    library anyway, so the variable grants nothing new.)
    """
    path = os.environ.get("DEGCORE_NATIVE_MODULE")
    if path:
        spec = importlib.util.spec_from_file_location("degcore.groups._ristretto255", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"DEGCORE_NATIVE_MODULE={path} is not an extension module")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[spec.name] = module  # a later import of the name gets this build, not the other
        return module
    try:
        from degcore.groups import _ristretto255  # noqa: PLC0415
    except ImportError:  # the optional extension was not compiled (setup.py): the pure path serves
        return None
    return _ristretto255


_built = _load_built()

#: Whether the native extension was compiled and imports (whatever ``DEGCORE_NATIVE`` says).
NATIVE_BUILT = _built is not None


def native_module() -> ModuleType | None:
    """The native extension, or None if it was not built or ``DEGCORE_NATIVE=0`` turns it off."""
    return None if os.environ.get("DEGCORE_NATIVE", "1") == "0" else _built


def _import_libsodium() -> Any:  # rbcl has no type information
    """rbcl, less the copy of libsodium that its import writes to the temporary folder.

    rbcl ships libsodium inside a Python string and loads it from a file it writes with
    ``delete=False``: every importing process would leave 2.8 MB behind. Once the library is
    mapped the file is not needed (POSIX keeps an unlinked mapping), so it goes at once.
    """
    import rbcl  # noqa: PLC0415 - imported here so that its file is removed right after

    copy = getattr(sys.modules.get("rbcl._sodium"), "lib_path", None)
    if isinstance(copy, str):
        with contextlib.suppress(OSError):  # already gone, or Windows, where a loaded file stays
            os.unlink(copy)
    return rbcl


rbcl = _import_libsodium()

_L = 2**252 + 27742317777372353535851937790883648493
_IDENTITY = bytes(32)
_add = rbcl.crypto_core_ristretto255_add
_sub = rbcl.crypto_core_ristretto255_sub
_mul = rbcl.crypto_scalarmult_ristretto255_allow_scalar_zero
_mul_base = rbcl.crypto_scalarmult_ristretto255_base_allow_scalar_zero
_is_valid = rbcl.crypto_core_ristretto255_is_valid_point


class _RistrettoElement(Element):
    # b: the encoding, which is the element; p: the native module's decoded point, kept from the
    # membership check so that multi-exponentiations need not decode the element again.
    __slots__ = ("b", "p")

    def __init__(self, b: bytes, p: bytes | None = None) -> None:
        self.b = b
        self.p = p

    @property
    def group(self) -> Group:
        return RISTRETTO255

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _RistrettoElement) and self.b == other.b

    def __hash__(self) -> int:
        return hash(self.b)

    def __bytes__(self) -> bytes:
        return self.b  # the encoding is the element: transcripts hash many of them


def _b(a: Element) -> bytes:
    if type(a) is not _RistrettoElement:
        raise TypeError(f"not a ristretto255 element: {a!r}")
    return a.b


def _point(native: ModuleType, a: Element) -> bytes:
    """``a``'s decoded point for the native module's raw calls, decoded now if it was not kept."""
    if type(a) is not _RistrettoElement:
        raise TypeError(f"not a ristretto255 element: {a!r}")
    point = a.p
    if point is None:
        point = a.p = native.decode_point(a.b)
    return point


class Ristretto255(Group):
    """The ristretto255 group of prime order ℓ."""

    name = "ristretto255"
    order = _L
    element_bytes = 32
    scalar_bytes = 32
    scalar_byteorder = "little"

    def __init__(self) -> None:
        self._g = _RistrettoElement(_mul_base((1).to_bytes(32, "little")))
        self._one = _RistrettoElement(_IDENTITY)
        self._native: ModuleType | None = None
        self._g_table: object = None
        self.use_native(native_module())
        self._register()

    def use_native(self, module: ModuleType | None) -> None:
        """Serve public exponents from ``module`` (the native extension), or from libsodium for None."""
        self._native = module
        self._g_table = None if module is None else module.precompute(self._g.b)
        self._g_ct: object = None  # g's constant-time table, built on first secret use
        # With the native MSM a term costs a fraction of a multiplication, so batches pay.
        self.batches = module is not None

    def generator(self) -> Element:
        """The RFC 9496 base point."""
        return self._g

    def identity(self) -> Element:
        """The identity, encoded as 32 zero bytes."""
        return self._one

    def mul(self, a: Element, b: Element) -> Element:
        """Point addition (written multiplicatively)."""
        return _RistrettoElement(_add(_b(a), _b(b)))

    def div(self, a: Element, b: Element) -> Element:
        """Point subtraction."""
        return _RistrettoElement(_sub(_b(a), _b(b)))

    def inv(self, a: Element) -> Element:
        """Point negation."""
        return _RistrettoElement(_sub(_IDENTITY, _b(a)))

    def exp(self, a: Element, k: int) -> Element:
        """Constant-time scalar multiplication (libsodium)."""
        return _RistrettoElement(_mul((k % _L).to_bytes(32, "little"), _b(a)))

    def exp_g(self, k: int) -> Element:
        """Constant-time fixed-base scalar multiplication of the base point (libsodium table)."""
        return _RistrettoElement(_mul_base((k % _L).to_bytes(32, "little")))

    def exp_vartime(self, a: Element, k: int) -> Element:
        """``a ** k`` for a public ``k``: native variable-time wNAF, else libsodium's constant-time call."""
        if self._native is None:
            return self.exp(a, k)
        k %= _L
        if k == 0:
            return self._one
        return _RistrettoElement(self._native.multi_exp(_b(a), k.to_bytes(32, "little")))

    def product(self, elements: Iterable[Element]) -> Element:
        """The product of public ``elements``: natively (variable time) an addition each.

        An element decoded from outside keeps its point, so only computed ones are decoded here.
        """
        native = self._native
        items = list(elements)
        if native is None or len(items) < 3:  # a libsodium addition decodes two and encodes one
            return super().product(items)
        return _RistrettoElement(native.sum(b"".join([_point(native, a) for a in items]), raw=1))

    def multi_exp(self, bases: Sequence[Element], scalars: Sequence[int]) -> Element:
        """∏ ``bases[i] ** scalars[i]`` for public scalars: one native call (else :meth:`Group.multi_exp`)."""
        native = self._native
        if native is None or len(bases) != len(scalars):
            return super().multi_exp(bases, scalars)
        # Group.multi_exp's reduction, zero filter and type check in one pass, and each element's point
        # decoded once and kept with it: batches have 10^4+ terms. (Without the module: one
        # libsodium multiplication per term, Group._multi_exp.)
        points: list[bytes] = []
        encoded: list[bytes] = []
        for a, scalar in zip(bases, scalars, strict=True):
            k = scalar % _L
            if not k:
                continue
            points.append(_point(native, a))
            encoded.append(k.to_bytes(32, "little"))
        if not points:
            return self._one
        return _RistrettoElement(native.multi_exp(b"".join(points), b"".join(encoded), raw=1))

    def multi_exp_secret(self, bases: Sequence[Element], scalars: Sequence[int]) -> Element:
        """∏ bases[i]^scalars[i], secret scalars: one native constant-time pass, else libsodium."""
        native = self._native
        if native is None:
            return super().multi_exp_secret(bases, scalars)
        if len(bases) != len(scalars):
            raise InvalidInput(f"ristretto255: got {len(bases)} bases and {len(scalars)} scalars")
        points = b"".join(map(_b, bases))
        return _RistrettoElement(native.ct_multi(points, b"".join(map(_secret, scalars))))

    def exp_g_mul(self, k: int, other: Element, k2: int) -> Element:
        """g^k · other^k2 for secret scalars: the native constant-time two-base pass, else libsodium."""
        native = self._native
        if native is None:
            return super().exp_g_mul(k, other, k2)
        return _RistrettoElement(native.ct_exp(self._g_ct_table(native), _secret(k), _b(other), _secret(k2)))

    def _g_ct_table(self, native: ModuleType) -> object:
        """g's constant-time table for ``native`` (built on first secret use)."""
        if self._g_ct is None:
            self._g_ct = native.precompute_ct(self._g.b)
        return self._g_ct

    def exp_g_multi_vartime(self, k: int, bases: Sequence[Element], scalars: Sequence[int]) -> Element:
        """g^k · ∏ bases[i]^scalars[i] (public scalars) in one native pass over g's table, if native."""
        if self._native is None:
            return super().exp_g_multi_vartime(k, bases, scalars)
        return _native_commit(self._native, self._g_table, k, bases, scalars)

    def fixed(self, a: Element) -> FixedBase:
        """``a`` for many powers: secret ones by libsodium, public ones through a native table of ``a``."""
        _b(a)
        return _Fixed(self, a)

    def encode(self, a: Element) -> bytes:
        """The RFC 9496 §4.3.2 encoding."""
        return _b(a)

    def decode(self, data: bytes) -> Element:
        """RFC 9496 §4.3.1 decoding: rejects non-canonical and invalid encodings."""
        self._check_length(data, 32, "element")
        data = bytes(data)
        if self._native is not None:  # the same strict RFC 9496 decoding, keeping the point
            try:
                return _RistrettoElement(data, self._native.decode_point(data))
            except ValueError:
                raise InvalidInput(
                    f"ristretto255: {data.hex()} is not a canonical ristretto255 encoding"
                ) from None
        # RFC 9496 §4.3.1 allows only s < p with s even, so bit 255 must be clear; libsodium before
        # 1.0.19 ignores that bit, which would give every element a second spelling.
        if data[31] & 0x80 or not _is_valid(data):
            raise InvalidInput(f"ristretto255: {data.hex()} is not a canonical ristretto255 encoding")
        return _RistrettoElement(data)

    def decode_many(self, data: bytes) -> list[Element]:
        """Decode concatenated encodings in one native call (each checked as :meth:`decode` does)."""
        native = self._native
        if native is None or not isinstance(data, bytes):
            return super().decode_many(data)
        try:
            points = native.decode_points(data)
        except ValueError:  # a bad length or element: the one-by-one path says which, in its words
            return super().decode_many(data)
        return [
            _RistrettoElement(data[i : i + 32], p)
            for i, p in zip(range(0, len(data), 32), points, strict=True)
        ]

    def _decode_trusted(self, data: bytes) -> Element:
        """The encoding is the element: nothing to parse for bytes that came from an element."""
        return _RistrettoElement(data)

    def _check_member_type(self, a: Element) -> None:
        _b(a)

    def hash_to_element(self, msg: bytes, dst: bytes) -> Element:
        """RFC 9380 hash_to_ristretto255 (expand_message_xmd SHA-512 + RFC 9496 derivation)."""
        return self.from_uniform_bytes(expand_message_xmd(msg, dst, 64))

    def from_uniform_bytes(self, data: bytes) -> Element:
        """RFC 9496 §4.3.4 element derivation from 64 uniform bytes."""
        self._check_length(data, 64, "uniform bytes")
        return _RistrettoElement(rbcl.crypto_core_ristretto255_from_hash(bytes(data)))


def _secret(k: int) -> bytes:
    """A secret scalar for the native constant-time calls (reduced here; its length is fixed)."""
    return (k % _L).to_bytes(32, "little")


def _scalar_bytes(scalars: Sequence[int]) -> bytes:
    return b"".join((k % _L).to_bytes(32, "little") for k in scalars)


def _native_commit(
    native: ModuleType, table: object, k: int, bases: Sequence[Element], scalars: Sequence[int]
) -> Element:
    """base^k · ∏ bases[i]^scalars[i] with base given by its native ``table``, in one native call."""
    if len(bases) != len(scalars):
        raise InvalidInput(f"ristretto255: got {len(bases)} bases and {len(scalars)} scalars")
    points = b"".join(map(_b, bases))
    return _RistrettoElement(native.multi_exp(points, _scalar_bytes(scalars), (table,), _scalar_bytes((k,))))


class _Fixed(FixedBase):
    """A fixed base whose public powers use a native table of its odd multiples (built on first use)."""

    __slots__ = ("_ct", "_ct_module", "_group", "_module", "_table")

    def __init__(self, group: Ristretto255, base: Element) -> None:
        super().__init__(base)
        self._group = group
        self._module: ModuleType | None = None
        self._table: object = None
        self._ct_module: ModuleType | None = None
        self._ct: object = None

    def _ct_table(self) -> tuple[ModuleType, object] | None:
        """The native constant-time table of the base (64 × 8 multiples, 80 KiB), built on first use."""
        native = self._group._native
        if native is None:
            return None
        if self._ct_module is not native:
            self._ct_module, self._ct = native, native.precompute_ct(_b(self.base))
        return native, self._ct

    def exp(self, k: int) -> Element:
        """base^k for a secret k: the native constant-time table, else libsodium."""
        found = self._ct_table()
        if found is None:
            return super().exp(k)
        native, table = found
        return _RistrettoElement(native.ct_exp(table, _secret(k)))

    def exp_mul(self, k: int, other: Element, k2: int) -> Element:
        """base^k · other^k2 for secret scalars: one native constant-time pass, else libsodium."""
        found = self._ct_table()
        if found is None:
            return super().exp_mul(k, other, k2)
        native, table = found
        if other == self._group.generator():  # g^k2 from g's table too: no doublings at all
            g_table = self._group._g_ct_table(native)
            return _RistrettoElement(native.ct_fixed2(table, _secret(k), g_table, _secret(k2)))
        return _RistrettoElement(native.ct_exp(table, _secret(k), _b(other), _secret(k2)))

    def _native_table(self) -> tuple[ModuleType, object] | None:
        native = self._group._native
        if native is None:
            return None
        if self._module is not native:  # built for the module in use (tests switch paths)
            self._module, self._table = native, native.precompute(_b(self.base))
        return native, self._table

    def exp_vartime(self, k: int) -> Element:
        """base^k for a public k: the native table, else libsodium's constant-time call."""
        found = self._native_table()
        if found is None:
            return super().exp_vartime(k)
        return _native_commit(*found, k, (), ())

    def exp_multi_vartime(self, k: int, bases: Sequence[Element], scalars: Sequence[int]) -> Element:
        """base^k · ∏ bases[i]^scalars[i] (public scalars) in one native pass over the base's table."""
        found = self._native_table()
        if found is None:
            return super().exp_multi_vartime(k, bases, scalars)
        return _native_commit(*found, k, bases, scalars)


RISTRETTO255 = Ristretto255()
