"""The native ristretto255 extension against RFC 9496 and libsodium (rbcl), point for point.

CI sets ``DEGCORE_REQUIRE_NATIVE=1``, so a build that silently fell back to the pure path fails
there; elsewhere the tests of the module itself skip when it was not built.
"""

from __future__ import annotations

import copy
import os
import pickle

import pytest
import rbcl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from degcore.groups import get_group
from degcore.groups.ristretto255 import NATIVE_BUILT, RISTRETTO255, native_module
from tests.conftest import load_vector

L = RISTRETTO255.order
VECTORS = load_vector("ristretto255/rfc9496_ristretto255_vectors.json")
N = native_module()
needs_native = pytest.mark.skipif(N is None, reason="native extension not built or DEGCORE_NATIVE=0")


def test_native_extension_is_built_where_required() -> None:
    """Fails when DEGCORE_REQUIRE_NATIVE=1 and setup.py's optional extension did not build or import."""
    if os.environ.get("DEGCORE_REQUIRE_NATIVE") == "1":
        assert NATIVE_BUILT, "DEGCORE_REQUIRE_NATIVE=1 but degcore.groups._ristretto255 was not built"
        assert os.environ.get("DEGCORE_NATIVE") == "0" or RISTRETTO255._native is not None


def _scalar(k: int) -> bytes:
    return k.to_bytes(32, "little")


def _rbcl_sum(points: list[bytes], ks: list[int]) -> bytes:
    acc = bytes(32)
    for p, k in zip(points, ks, strict=True):
        term = rbcl.crypto_scalarmult_ristretto255_allow_scalar_zero(_scalar(k), p)
        acc = rbcl.crypto_core_ristretto255_add(acc, term)
    return acc


def _rbcl_accepts(data: bytes) -> bool:
    return not data[31] & 0x80 and bool(rbcl.crypto_core_ristretto255_is_valid_point(data))


@needs_native
def test_decode_encode_rfc9496_a1() -> None:
    assert N is not None
    g = bytes.fromhex(VECTORS["generator_multiples"][1]["encoding"])
    for case in VECTORS["generator_multiples"]:
        encoding = bytes.fromhex(case["encoding"])
        assert N.decode(encoding) == encoding
        assert N.multi_exp(g, _scalar(case["k"])) == encoding
        assert N.multi_exp(b"", b"", (N.precompute(g),), _scalar(case["k"])) == encoding


@needs_native
def test_invalid_encodings_rfc9496_a2() -> None:
    assert N is not None
    cases = VECTORS["invalid_encodings"]
    assert len(cases) == 29
    for case in cases:
        data = bytes.fromhex(case["encoding"])
        with pytest.raises(ValueError, match="canonical"):
            N.decode(data)
        with pytest.raises(ValueError, match="canonical"):
            N.decode_point(data)
        with pytest.raises(ValueError, match="point 1"):
            N.multi_exp(bytes(32) + data, bytes(64))
        with pytest.raises(ValueError):
            N.precompute(data)
        with pytest.raises(ValueError, match="point 2"):
            N.sum(bytes(64) + data)


@needs_native
def test_bit_255_is_rejected() -> None:
    assert N is not None
    for case in VECTORS["generator_multiples"]:
        raw = bytearray.fromhex(case["encoding"])
        raw[31] |= 0x80
        with pytest.raises(ValueError):
            N.decode(bytes(raw))
        with pytest.raises(ValueError):
            N.decode_point(bytes(raw))


@needs_native
@settings(max_examples=400, deadline=None)
@given(data=st.binary(min_size=32, max_size=32))
def test_random_strings_accepted_exactly_as_libsodium(data: bytes) -> None:
    assert N is not None
    try:
        N.decode(data)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == _rbcl_accepts(data)
    try:
        N.decode_point(data)
        kept = True
    except ValueError:
        kept = False
    assert kept == accepted


@needs_native
@settings(max_examples=200, deadline=None)
@given(seed=st.binary(min_size=64, max_size=64), position=st.integers(0, 31), mask=st.integers(1, 255))
def test_valid_points_and_their_neighbours(seed: bytes, position: int, mask: int) -> None:
    """Valid encodings (random strings are rarely valid) and one-byte changes of them."""
    assert N is not None
    point = rbcl.crypto_core_ristretto255_from_hash(seed)
    assert N.decode(point) == point
    changed = bytearray(point)
    changed[position] ^= mask
    try:
        assert N.decode(bytes(changed)) == bytes(changed)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == _rbcl_accepts(bytes(changed))


def _pool() -> list[bytes]:
    x = bytes(RISTRETTO255.exp_g(123456789))
    neg_x = rbcl.crypto_core_ristretto255_sub(bytes(32), x)
    g = bytes(RISTRETTO255.generator())
    double = rbcl.crypto_core_ristretto255_add(x, x)
    return [bytes(32), g, x, neg_x, double, *(bytes(RISTRETTO255.exp_g(k)) for k in (2, 3))]


_EDGE = st.sampled_from([0, 1, 2, 3, 2**128, L - 2, L - 1])
_SCALARS = st.one_of(_EDGE, st.integers(0, L - 1), st.integers(0, 2**64))


def _terms(data: st.DataObject, max_size: int) -> tuple[list[bytes], list[int]]:
    pool = _pool()
    n = data.draw(st.integers(0, max_size))
    points = [data.draw(st.sampled_from(pool)) for _ in range(n)]
    return points, [data.draw(_SCALARS) for _ in range(n)]


@needs_native
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_multi_exp_equals_the_rbcl_sum(data: st.DataObject) -> None:
    """Every method (chosen, Straus, Pippenger of every width) gives libsodium's sum of multiples."""
    assert N is not None
    points, ks = _terms(data, 40)
    method = data.draw(st.sampled_from([0, -1, *range(1, 16)]))
    packed, scalars = b"".join(points), b"".join(map(_scalar, ks))
    assert N.multi_exp(packed, scalars, method=method) == _rbcl_sum(points, ks)
    # The same points decoded once beforehand (what the group keeps with a decoded element).
    decoded = b"".join(map(N.decode_point, points))
    assert N.multi_exp(decoded, scalars, method=method, raw=1) == _rbcl_sum(points, ks)


@needs_native
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_sum_equals_the_rbcl_sum(data: st.DataObject) -> None:
    """The native sum (the group's product from three elements on) is libsodium's sum."""
    assert N is not None
    points, _ = _terms(data, 40)
    assert N.sum(b"".join(points)) == _rbcl_sum(points, [1] * len(points))
    assert N.sum(b"".join(map(N.decode_point, points)), raw=1) == _rbcl_sum(points, [1] * len(points))
    assert RISTRETTO255.product(RISTRETTO255.decode(p) for p in points).__bytes__() == _rbcl_sum(
        points, [1] * len(points)
    )


@needs_native
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_tables_equal_plain_points(data: st.DataObject) -> None:
    assert N is not None
    points, ks = _terms(data, 6)
    fixed, fixed_ks = _terms(data, 3)
    tables = [N.precompute(p) for p in fixed]
    got = N.multi_exp(b"".join(points), b"".join(map(_scalar, ks)), tables, b"".join(map(_scalar, fixed_ks)))
    assert got == _rbcl_sum(points + fixed, ks + fixed_ks)


@needs_native
@pytest.mark.parametrize("size", [200, 700, 2100])
def test_multi_exp_past_the_switch_to_buckets(size: int) -> None:
    """Sizes where the native module picks Pippenger (and wider windows), with random points."""
    assert N is not None
    points = [rbcl.crypto_core_ristretto255_random() for _ in range(size - 3)] + _pool()[:3]
    ks = [RISTRETTO255.random_scalar() for _ in range(size - 4)] + [0, 1, L - 1, L - 1]
    assert N.multi_exp(b"".join(points), b"".join(map(_scalar, ks))) == _rbcl_sum(points, ks)
    decoded = b"".join(map(N.decode_point, points))
    assert N.multi_exp(decoded, b"".join(map(_scalar, ks)), raw=1) == _rbcl_sum(points, ks)


@needs_native
def test_bad_arguments_are_refused() -> None:
    assert N is not None
    g = bytes(RISTRETTO255.generator())
    with pytest.raises(ValueError, match="below the group order"):
        N.multi_exp(g, _scalar(L))
    with pytest.raises(ValueError, match="below the group order"):
        N.multi_exp(b"", b"", (N.precompute(g),), b"\xff" * 32)
    with pytest.raises(ValueError, match="one 32-byte scalar per point"):
        N.multi_exp(g, b"")
    with pytest.raises(ValueError, match="multiple of 32"):
        N.multi_exp(g[:31], bytes(31))
    with pytest.raises(ValueError, match="multiple of 120"):
        N.multi_exp(N.decode_point(g)[:-1], _scalar(1), raw=1)
    with pytest.raises(ValueError, match="one 32-byte scalar per point"):
        N.multi_exp(N.decode_point(g), bytes(64), raw=1)
    with pytest.raises(ValueError, match="one 32-byte scalar per table"):
        N.multi_exp(b"", b"", (N.precompute(g),), b"")
    with pytest.raises(ValueError, match="method"):
        N.multi_exp(g, _scalar(1), method=16)
    with pytest.raises((ValueError, TypeError)):
        N.multi_exp(g, _scalar(1), (object(),), _scalar(1))
    with pytest.raises(ValueError, match="32 bytes"):
        N.decode(g + b"\x00")
    with pytest.raises(ValueError):
        N.decode_point(g + b"\x00")
    assert N.multi_exp(b"", b"") == bytes(32)


@needs_native
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_group_paths_agree(data: st.DataObject) -> None:
    """The Group API on the native path equals the pure path (libsodium alone), bytes for bytes."""
    group = get_group("ristretto255")
    points, ks = _terms(data, 20)
    bases = [group.decode(p) for p in points]
    k = data.draw(_SCALARS)
    h = group.decode(data.draw(st.sampled_from(_pool()[1:])))
    native = (
        group.multi_exp(bases, ks),
        group.exp_g_multi_vartime(k, bases, ks),
        group.fixed(h).exp_multi_vartime(k, bases, ks),
    )
    saved = group._native  # type: ignore[attr-defined]
    group.use_native(None)  # type: ignore[attr-defined]
    try:
        pure = (
            group.multi_exp(bases, ks),
            group.exp_g_multi_vartime(k, bases, ks),
            group.fixed(h).exp_multi_vartime(k, bases, ks),
        )
    finally:
        group.use_native(saved)  # type: ignore[attr-defined]
    assert native == pure


@needs_native
def test_the_kept_point_comes_only_from_decoding_the_encoding() -> None:
    """multi_exp(raw=1) trusts an element's point ``p``; no copy or pickle carries one from outside.

    A pickled element arrives with its encoding alone, so a worker recomputes the point from the
    bytes that the element is; a point that disagreed with them could make a false batch pass.
    """
    assert N is not None
    group = get_group("ristretto255")
    a = group.decode(bytes(group.exp_g(12345)))
    assert a.p == N.decode_point(a.b)  # type: ignore[attr-defined]
    for moved in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):  # noqa: S301 - ours
        assert moved == a and moved.p is None  # type: ignore[attr-defined]
        assert group.multi_exp([moved], [1]) == a
        assert moved.p == a.p  # type: ignore[attr-defined]
    # A computed element gets its point from its own encoding on first use.
    b = a * group.generator()
    assert b.p is None  # type: ignore[attr-defined]
    assert group.multi_exp([b, a], [1, -1]) == group.generator()
    assert b.p == N.decode_point(b.b)  # type: ignore[attr-defined]
