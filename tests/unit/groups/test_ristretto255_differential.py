"""The native ristretto255 module against libsodium (rbcl), entry point by entry point (issue 27).

Every entry point of ``degcore.groups._ristretto255`` gets random and edge inputs and is compared
with libsodium: decoding (random strings, valid encodings with one bit flipped, every field element
from p up to 2^255, negative field elements, bit 255, the identity, all-zero and all-ones), sums and
differences, ``multi_exp`` at the sizes around every switch of method and window in the C cost model
(``straus_cost`` and ``best_window``), with every forced method, precomputed tables, the
constant-time ``ct_exp``, ``ct_fixed2`` and ``ct_multi``, and the same calls from four threads at
once. Every kind of bad input raises the error the module documents (``ValueError``; ``TypeError``
for an argument of the wrong type). The reference for an MSM is the sum of libsodium's products.

Seeded, so that a failure can be replayed: ``DEGCORE_DIFFERENTIAL_SEED`` (printed in every failure
message) picks another seed, and ``DEGCORE_DIFFERENTIAL_SCALE=N`` multiplies the random counts and
adds the largest sizes (.ci/sanitize.sh runs this file so against an AddressSanitizer and UBSan
build of the module, which ``DEGCORE_NATIVE_MODULE`` names; the first test checks that it is the
build in use).
"""

from __future__ import annotations

import os
import random
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rbcl

from degcore.errors import InvalidInput
from degcore.groups import ristretto255
from degcore.groups.ristretto255 import RISTRETTO255, native_module

N: Any = native_module()
needs_native = pytest.mark.skipif(N is None, reason="native extension not built or DEGCORE_NATIVE=0")
pytestmark = needs_native

SEED = int(os.environ.get("DEGCORE_DIFFERENTIAL_SEED", "27"))
SCALE = max(1, int(os.environ.get("DEGCORE_DIFFERENTIAL_SCALE", "1")))
ROOT = Path(__file__).resolve().parents[3]

L = RISTRETTO255.order
P = 2**255 - 19
IDENTITY = bytes(32)
EDGE_SCALARS = (0, 1, 2, 3, 7, 8, 15, 16, 17, 127, 128, 255, 256, 2**64, 2**128, 2**252 - 1, 2**252)
EDGE_SCALARS += ((L - 1) // 2, L - 2, L - 1, int.from_bytes(b"\x88" * 31 + b"\x08", "little"))


def _rng(name: str) -> random.Random:
    return random.Random(f"{SEED}/{name}")


def _same(got: bytes, want: bytes, what: str) -> None:
    assert got == want, (
        f"{what}: native {got.hex()} != libsodium {want.hex()} (DEGCORE_DIFFERENTIAL_SEED={SEED})"
    )


def _k(k: int) -> bytes:
    return k.to_bytes(32, "little")


def _mul(k: int, point: bytes) -> bytes:
    return rbcl.crypto_scalarmult_ristretto255_allow_scalar_zero(_k(k % L), point)


def _add(a: bytes, b: bytes) -> bytes:
    return rbcl.crypto_core_ristretto255_add(a, b)


def _reference(points: list[bytes], ks: list[int]) -> bytes:
    """Σ k_i P_i as libsodium's products, one per distinct point (its scalars summed mod ℓ)."""
    by_point: dict[bytes, int] = {}
    for point, k in zip(points, ks, strict=True):
        by_point[point] = (by_point.get(point, 0) + k) % L
    acc = IDENTITY
    for point, k in by_point.items():
        acc = _add(acc, _mul(k, point))
    return acc


def _point(rng: random.Random) -> bytes:
    return rbcl.crypto_core_ristretto255_from_hash(rng.randbytes(64))


def _scalar(rng: random.Random) -> int:
    return rng.choice(EDGE_SCALARS) if rng.random() < 0.15 else rng.randrange(L)


def _rbcl_accepts(data: bytes) -> bool:
    """libsodium's validity, with RFC 9496's rule that bit 255 is clear (older libsodium ignores it)."""
    return not data[31] & 0x80 and bool(rbcl.crypto_core_ristretto255_is_valid_point(data))


def test_the_requested_build_is_the_one_loaded() -> None:
    """With DEGCORE_NATIVE_MODULE (the sanitizer step) that file is the module; else the package's."""
    assert N is not None
    requested = os.environ.get("DEGCORE_NATIVE_MODULE")
    loaded = Path(N.__file__).resolve()
    assert sys.modules["degcore.groups._ristretto255"] is N
    if requested:
        assert loaded == Path(requested).resolve(), f"asked for {requested}, loaded {loaded}"
    else:
        assert loaded.parent == Path(ristretto255.__file__).resolve().parent


# --- decoding ------------------------------------------------------------------------------------


def _near_valid(rng: random.Random) -> list[bytes]:
    """Valid encodings, each with every one of its 256 bits flipped in turn, -s and s + p."""
    out = []
    for _ in range(6 * SCALE):
        valid = _point(rng)
        out.append(valid)
        s = int.from_bytes(valid, "little")
        out.append(_k(P - s))  # -s: odd, so negative (s > 0 for every point but the identity)
        out.append(_k(s + P))  # s + p, the same field element: non-canonical (mostly bit 255 set)
        for bit in range(256):
            flipped = bytearray(valid)
            flipped[bit // 8] ^= 1 << (bit % 8)
            out.append(bytes(flipped))
    return out


def _decode_inputs() -> list[bytes]:
    rng = _rng("decode")
    fixed = [
        IDENTITY,
        b"\xff" * 32,
        b"\x00" * 31 + b"\x80",  # zero with bit 255
        _k(1),  # odd: negative
        _k(2),
        _k(P - 1),
        _k(P - 2),
        *(_k(P + i) for i in range(19)),  # every field element ≥ p below 2^255 (non-canonical)
        *(_k(2**255 + i) for i in (0, 2, 4)),
        *(_k(k) for k in range(2, 64, 2)),  # small even s
        bytes(RISTRETTO255.generator()),
    ]
    randoms = [rng.randbytes(32) for _ in range(1500 * SCALE)]
    valid = [_point(rng) for _ in range(300 * SCALE)]
    high_bit = [bytes(b[:31]) + bytes([b[31] | 0x80]) for b in (_point(rng) for _ in range(50 * SCALE))]
    return fixed + randoms + valid + high_bit + _near_valid(rng)


def test_decoding_accepts_exactly_what_libsodium_accepts() -> None:
    """Accepted: decode re-encodes it, its decoded point is it. Refused: every entry point says so."""
    accepted = refused = 0
    g = bytes(RISTRETTO255.generator())
    for data in _decode_inputs():
        if _rbcl_accepts(data):
            accepted += 1
            _same(N.decode(data), data, f"decode({data.hex()})")
            raw = N.decode_point(data)
            _same(N.multi_exp(raw, _k(1), raw=1), data, f"decode_point({data.hex()})")
            assert N.decode_points(g + data) == [N.decode_point(g), raw], data.hex()
            _same(N.sum(data + g), _add(data, g), f"sum of {data.hex()} and g")
            continue
        refused += 1
        for call in (
            N.decode,
            N.decode_point,
            lambda d: N.sum(g + d),
            lambda d: N.multi_exp(g + d, _k(1) + _k(2)),
            lambda d: N.ct_multi(g + d, _k(1) + _k(2)),
            lambda d: N.decode_points(g + g + d + g),
        ):
            with pytest.raises(ValueError, match="canonical"):
                call(data)
        with pytest.raises(ValueError):
            N.precompute(data)
        with pytest.raises(InvalidInput):
            RISTRETTO255.decode(data)
    assert accepted >= 300 * SCALE and refused >= 2000 * SCALE, (accepted, refused)


def test_decoding_many_at_once() -> None:
    """decode_points: one decoded point per encoding, in order; the first bad one is named by index."""
    rng = _rng("decode_points")
    valid = [_point(rng) for _ in range(40)]
    assert N.decode_points(b"".join(valid)) == [N.decode_point(v) for v in valid]
    assert N.decode_points(b"") == []
    bad = b"\xff" * 32
    with pytest.raises(ValueError, match="element 3: not a canonical"):
        N.decode_points(b"".join(valid[:3]) + bad + valid[3] + bad)
    with pytest.raises(ValueError, match="multiple of 32"):
        N.decode_points(b"".join(valid[:2]) + b"\x00")
    with pytest.raises(TypeError):
        N.decode_points("00" * 32)


def test_decoding_the_constructed_edge_cases() -> None:
    """The ones whose verdict is known without libsodium, as RFC 9496 §4.3.1 reads."""
    assert N.decode(IDENTITY) == IDENTITY
    for data in (b"\xff" * 32, _k(1), _k(P), _k(P + 1), _k(P + 18), b"\x00" * 31 + b"\x80"):
        with pytest.raises(ValueError, match="canonical"):
            N.decode(data)
    valid = bytes(RISTRETTO255.exp_g(5))
    with pytest.raises(ValueError, match="canonical"):
        N.decode(_k(P - int.from_bytes(valid, "little")))


# --- sums and differences ------------------------------------------------------------------------


def test_sums_and_differences() -> None:
    rng = _rng("sum")
    pool = [_point(rng) for _ in range(8)] + [IDENTITY, bytes(RISTRETTO255.generator())]
    for _ in range(150 * SCALE):
        a, b = rng.choice(pool), rng.choice(pool)
        neg_b = rbcl.crypto_core_ristretto255_sub(IDENTITY, b)
        _same(N.sum(a + b), _add(a, b), "sum(a, b)")
        _same(N.sum(a + neg_b), rbcl.crypto_core_ristretto255_sub(a, b), "sum(a, -b)")
        _same(N.multi_exp(a + b, _k(1) + _k(L - 1)), rbcl.crypto_core_ristretto255_sub(a, b), "a - b")
        _same(N.sum(b + neg_b), IDENTITY, "b - b")
        terms = [rng.choice(pool) for _ in range(rng.randrange(0, 40))]
        _same(N.sum(b"".join(terms)), _reference(terms, [1] * len(terms)), f"sum of {len(terms)}")
        raw = b"".join(map(N.decode_point, terms))
        _same(N.sum(raw, raw=1), _reference(terms, [1] * len(terms)), f"raw sum of {len(terms)}")


# --- multi-scalar multiplication -----------------------------------------------------------------

# The C module's cost model, copied from _ristretto255.c (straus_cost, pippenger_windows,
# best_window; test_the_cost_model_is_the_c_one fails when those lines change). From it come the
# sizes where method 0 changes its choice: Straus below 395 terms, then Pippenger with windows
# 7 (395), 8 (717), 9 (2,305), 10 (4,097), 11 (7,169), 13 (40,961) and 15 (139,265). Below 395
# the best window changes at 1, 5, 17, 49, 145 and 342 terms, which Straus ignores: those sizes
# are run both ways, chosen (Straus) and with that window forced.
_C_COST_LINES = (
    "static double straus_cost(size_t n) { return (double)n * (254.0 / (STRAUS_W + 1) + "
    "(1 << (STRAUS_W - 2))) + 200.0; }",
    "static int pippenger_windows(int c) { return (253 + c - 1) / c + 1;",
    "const double cc = (double)pippenger_windows(c) * ((double)n + 2.0 * (double)((size_t)1 << (c - 1)))"
    " + 200.0;",
    "#define STRAUS_W 5",
    "#define MAX_WINDOW 15",
)


def _choice(n: int) -> tuple[bool, int]:
    """(Pippenger?, window) as multi_exp(method=0) chooses for n points."""
    costs = {c: ((253 + c - 1) // c + 1) * (n + 2.0 * (1 << (c - 1))) + 200.0 for c in range(1, 16)}
    window = min(costs, key=lambda c: (costs[c], c))
    return costs[window] < n * (254.0 / 6 + 8) + 200.0, window


def _switches(limit: int) -> list[int]:
    """The sizes up to ``limit`` where the choice (method or window) differs from the one below."""
    return [n for n in range(1, limit + 1) if _choice(n) != _choice(n - 1)]


def test_the_cost_model_is_the_c_one() -> None:
    source = " ".join((ROOT / "src/degcore/groups/_ristretto255.c").read_text().split())
    for line in _C_COST_LINES:
        assert " ".join(line.split()) in source, f"the C cost model changed; update _choice: {line}"
    # The choice only moves one way as n grows: the window is the cheapest of lines in n whose slopes
    # fall as it widens, so it only widens; Straus, cheaper at 0 terms, loses for good once the
    # cheapest Pippenger cost (a minimum of lines: concave) falls below its line. So the choice
    # changes exactly at SWITCHES if it changes there and is the same at both ends of every gap.
    assert _switches(1000) == [m for m in SWITCHES if m <= 1000]
    for low, high in zip(SWITCHES, (*SWITCHES[1:], SWITCHES[-1] + 10_000), strict=True):
        assert _choice(low - 1) != _choice(low) == _choice(high - 1), (low, high)
    assert [_choice(n)[0] for n in (394, 395)] == [False, True]


SWITCHES = (1, 5, 17, 49, 145, 342, 395, 717, 2305, 4097, 7169, 40961, 139265)
# The two largest switches (windows 11 → 13 → 15) only in the sanitizer step: their code is that of
# every other window, which the forced methods below cover on few terms.
_LARGEST = SWITCHES[-1] if SCALE > 1 else 7169
MSM_SIZES = sorted({0, 1, 2, 3, 1000} | {m + d for m in SWITCHES if m <= _LARGEST for d in (-1, 0, 1)})


def _terms(rng: random.Random, n: int) -> tuple[list[bytes], list[int]]:
    """n points and scalars: distinct random points up to 1,000, else 257 repeated; with the identity,
    a repeated point, a zero scalar and ℓ - 1 among them once there are four terms."""
    pool = [_point(rng) for _ in range(min(n, 1000 if n <= 1000 else 257))]
    points = pool[:] if n <= 1000 else [rng.choice(pool) for _ in range(n)]
    ks = [_scalar(rng) for _ in range(n)]
    if n >= 4:
        points[rng.randrange(n)] = IDENTITY
        i, j = rng.sample(range(n), 2)
        points[i] = points[j]
        ks[rng.randrange(n)] = 0
        ks[rng.randrange(n)] = L - 1
    return points, ks


def _msm(points: list[bytes], ks: list[int], what: str, methods: tuple[int, ...] = (0,)) -> None:
    want = _reference(points, ks)
    packed, scalars = b"".join(points), b"".join(map(_k, ks))
    raw = b"".join(map(N.decode_point, points))
    for method in methods:
        _same(N.multi_exp(packed, scalars, method=method), want, f"{what}, method {method}")
        _same(N.multi_exp(raw, scalars, method=method, raw=1), want, f"{what}, method {method}, raw")


@pytest.mark.parametrize("n", MSM_SIZES)
def test_multi_exp_at_every_switch(n: int) -> None:
    """Around each change of method or window: chosen; also forced, below Pippenger's regime."""
    rng = _rng(f"msm/{n}")
    pippenger, window = _choice(n)
    methods = (0,) if n > 1000 else (0, -1) if pippenger else (0, window)
    for _ in range(SCALE if n <= 1000 else 1):
        points, ks = _terms(rng, n)
        _msm(points, ks, f"{n} terms", methods)


def test_multi_exp_special_scalars() -> None:
    """All zero, all ℓ - 1, one point repeated, only the identity: Straus and Pippenger alike."""
    rng = _rng("msm/special")
    for n in (1, 2, 5, 60, 395):
        pool = [_point(rng) for _ in range(3)]
        cases = {
            "zero scalars": ([rng.choice(pool) for _ in range(n)], [0] * n),
            "ℓ - 1": ([rng.choice(pool) for _ in range(n)], [L - 1] * n),
            "one point": ([pool[0]] * n, [_scalar(rng) for _ in range(n)]),
            "identities": ([IDENTITY] * n, [_scalar(rng) for _ in range(n)]),
            "edge scalars": (
                [rng.choice(pool) for _ in range(n)],
                [rng.choice(EDGE_SCALARS) for _ in range(n)],
            ),
            "P and -P": ([pool[0], rbcl.crypto_core_ristretto255_sub(IDENTITY, pool[0])] * n, [5] * 2 * n),
        }
        for what, (points, ks) in cases.items():
            _msm(points, ks, f"{what}, {len(points)} terms", (0, -1, 1, 8, 15))


def test_multi_exp_every_forced_method() -> None:
    """Straus (-1) and Pippenger of each window 1 … 15 on few terms (the chosen method's tests take many)."""
    rng = _rng("msm/forced")
    for _ in range(2 * SCALE):
        for n in (1, 2, 3, 33):
            points, ks = _terms(rng, n)
            _msm(points, ks, f"{n} terms", (-1, *range(1, 16)))


def test_fixed_base_tables() -> None:
    """precompute's tables: alone (fixed-base products), with points under Straus and under Pippenger."""
    rng = _rng("tables")
    bases = [_point(rng) for _ in range(4)] + [bytes(RISTRETTO255.generator()), IDENTITY]
    tables = [N.precompute(b) for b in bases]
    for _ in range(150 * SCALE):
        i, k = rng.randrange(len(bases)), _scalar(rng)
        _same(N.multi_exp(b"", b"", (tables[i],), _k(k)), _mul(k, bases[i]), "fixed-base product")
    for n in (0, 1, 7, 394, 395):
        for _ in range(SCALE):
            points, ks = _terms(rng, n)
            chosen = rng.sample(range(len(bases)), rng.randrange(1, 4))
            fixed_ks = [_scalar(rng) for _ in chosen]
            want = _reference(points + [bases[i] for i in chosen], ks + fixed_ks)
            for method in (0, -1, 6):
                got = N.multi_exp(
                    b"".join(points),
                    b"".join(map(_k, ks)),
                    [tables[i] for i in chosen],
                    b"".join(map(_k, fixed_ks)),
                    method=method,
                )
                _same(got, want, f"{n} terms and {len(chosen)} tables, method {method}")


# --- constant time -------------------------------------------------------------------------------


def test_constant_time_products() -> None:
    """ct_exp (k T and k T + k2 P), ct_fixed2 and ct_multi against libsodium's products."""
    rng = _rng("ct")
    bases = [_point(rng) for _ in range(3)] + [bytes(RISTRETTO255.generator())]
    tables = [N.precompute_ct(b) for b in bases]
    others = [_point(rng) for _ in range(4)] + [IDENTITY]
    for _ in range(120 * SCALE):
        i, j, k, k2 = rng.randrange(4), rng.randrange(4), _scalar(rng), _scalar(rng)
        other = rng.choice(others)
        _same(N.ct_exp(tables[i], _k(k)), _mul(k, bases[i]), "ct_exp(T, k)")
        want = _add(_mul(k, bases[i]), _mul(k2, other))
        _same(N.ct_exp(tables[i], _k(k), other, _k(k2)), want, "ct_exp(T, k, P, k2)")
        want = _add(_mul(k, bases[i]), _mul(k2, bases[j]))
        _same(N.ct_fixed2(tables[i], _k(k), tables[j], _k(k2)), want, "ct_fixed2")
    for n in (0, 1, 2, 3, 8, 9, 17, 40):
        for _ in range(2 * SCALE):
            points, ks = _terms(rng, n)
            _same(
                N.ct_multi(b"".join(points), b"".join(map(_k, ks))), _reference(points, ks), f"ct_multi {n}"
            )


# --- bad input -----------------------------------------------------------------------------------


def _bad_inputs() -> list[tuple[str, type[Exception], Callable[[], object]]]:
    g = bytes(RISTRETTO255.generator())
    raw_g = N.decode_point(g)
    table, ct = N.precompute(g), N.precompute_ct(g)
    one, big = _k(1), b"\xff" * 32
    bad = _k(P)  # non-canonical
    return [
        ("decode: empty", ValueError, lambda: N.decode(b"")),
        ("decode: 31 bytes", ValueError, lambda: N.decode(g[:31])),
        ("decode: 33 bytes", ValueError, lambda: N.decode(g + b"\0")),
        ("decode: a str", TypeError, lambda: N.decode("x" * 32)),
        ("decode: an int", TypeError, lambda: N.decode(0)),
        ("decode: non-canonical", ValueError, lambda: N.decode(bad)),
        ("decode: negative", ValueError, lambda: N.decode(_k(1))),
        ("decode: bit 255", ValueError, lambda: N.decode(g[:31] + bytes([g[31] | 0x80]))),
        ("decode: all ones", ValueError, lambda: N.decode(big)),
        ("decode_point: 31 bytes", ValueError, lambda: N.decode_point(g[:31])),
        ("decode_point: non-canonical", ValueError, lambda: N.decode_point(bad)),
        ("decode_point: None", TypeError, lambda: N.decode_point(None)),
        ("sum: 33 bytes", ValueError, lambda: N.sum(g + b"\0")),
        ("sum: an invalid point", ValueError, lambda: N.sum(g + big)),
        ("sum: a str", TypeError, lambda: N.sum("ab")),
        ("sum: raw, 32 bytes", ValueError, lambda: N.sum(g, raw=1)),
        ("precompute: invalid", ValueError, lambda: N.precompute(big)),
        ("precompute: 31 bytes", ValueError, lambda: N.precompute(g[:31])),
        ("precompute_ct: invalid", ValueError, lambda: N.precompute_ct(bad)),
        ("precompute_ct: 33 bytes", ValueError, lambda: N.precompute_ct(g + b"\0")),
        ("multi_exp: scalar ℓ", ValueError, lambda: N.multi_exp(g, _k(L))),
        ("multi_exp: scalar 2^256 - 1", ValueError, lambda: N.multi_exp(g + g, one + big)),
        ("multi_exp: one scalar short", ValueError, lambda: N.multi_exp(g + g, one)),
        ("multi_exp: points not of 32", ValueError, lambda: N.multi_exp(g[:31], bytes(31))),
        ("multi_exp: invalid point", ValueError, lambda: N.multi_exp(g + bad, one + one)),
        ("multi_exp: raw not of 120", ValueError, lambda: N.multi_exp(raw_g[:-1], one, raw=1)),
        ("multi_exp: raw, scalars", ValueError, lambda: N.multi_exp(raw_g, one + one, raw=1)),
        ("multi_exp: method -2", ValueError, lambda: N.multi_exp(g, one, method=-2)),
        ("multi_exp: method 16", ValueError, lambda: N.multi_exp(g, one, method=16)),
        ("multi_exp: method a str", TypeError, lambda: N.multi_exp(g, one, method="1")),
        ("multi_exp: tables an int", TypeError, lambda: N.multi_exp(g, one, 5, one)),
        ("multi_exp: a table not a capsule", ValueError, lambda: N.multi_exp(g, one, (object(),), one)),
        ("multi_exp: a constant-time table", ValueError, lambda: N.multi_exp(g, one, (ct,), one)),
        ("multi_exp: table scalars short", ValueError, lambda: N.multi_exp(g, one, (table, table), one)),
        ("multi_exp: table scalar ℓ", ValueError, lambda: N.multi_exp(b"", b"", (table,), _k(L))),
        ("ct_exp: not a capsule", ValueError, lambda: N.ct_exp(object(), one)),
        ("ct_exp: a variable-time table", ValueError, lambda: N.ct_exp(table, one)),
        ("ct_exp: k of 31 bytes", ValueError, lambda: N.ct_exp(ct, one[:31])),
        ("ct_exp: k = ℓ", ValueError, lambda: N.ct_exp(ct, _k(L))),
        ("ct_exp: a point without k2", ValueError, lambda: N.ct_exp(ct, one, g)),
        ("ct_exp: point of 31 bytes", ValueError, lambda: N.ct_exp(ct, one, g[:31], one)),
        ("ct_exp: k2 of 33 bytes", ValueError, lambda: N.ct_exp(ct, one, g, one + b"\0")),
        ("ct_exp: k2 = 2^256 - 1", ValueError, lambda: N.ct_exp(ct, one, g, big)),
        ("ct_exp: invalid point", ValueError, lambda: N.ct_exp(ct, one, bad, one)),
        ("ct_multi: scalars short", ValueError, lambda: N.ct_multi(g + g, one)),
        ("ct_multi: points not of 32", ValueError, lambda: N.ct_multi(g[:31], one[:31])),
        ("ct_multi: invalid point", ValueError, lambda: N.ct_multi(g + big, one + one)),
        ("ct_multi: scalar ℓ", ValueError, lambda: N.ct_multi(g + g, one + _k(L))),
        ("ct_multi: a str", TypeError, lambda: N.ct_multi("a", "b")),
        ("ct_fixed2: t1 variable-time", ValueError, lambda: N.ct_fixed2(table, one, ct, one)),
        ("ct_fixed2: t2 None", ValueError, lambda: N.ct_fixed2(ct, one, None, one)),
        ("ct_fixed2: k1 = ℓ", ValueError, lambda: N.ct_fixed2(ct, _k(L), ct, one)),
        ("ct_fixed2: k2 of 31 bytes", ValueError, lambda: N.ct_fixed2(ct, one, ct, one[:31])),
    ]


def test_every_bad_input_raises() -> None:
    """Each kind raises its documented error, exactly that class, and the module works after it."""
    g = bytes(RISTRETTO255.generator())
    want = _mul(12345, g)
    cases = _bad_inputs()
    assert len({name for name, _, _ in cases}) == len(cases) >= 50
    for name, error, call in cases:
        with pytest.raises(error) as raised:
            call()
        assert type(raised.value) is error, f"{name}: {raised.value!r}"
        _same(N.multi_exp(g, _k(12345)), want, f"after {name}")


# --- threads -------------------------------------------------------------------------------------


def test_four_threads_at_once() -> None:
    """Every entry point from four threads at once, over shared tables, against precomputed results."""
    rng = _rng("threads")
    g = bytes(RISTRETTO255.generator())
    table, ct = N.precompute(g), N.precompute_ct(g)
    tasks: list[tuple[str, Callable[[], object], bytes]] = []
    for n in (3, 60, 400):
        points, ks = _terms(rng, n)
        packed, scalars, want = b"".join(points), b"".join(map(_k, ks)), _reference(points, ks)
        tasks.append((f"multi_exp {n}", lambda p=packed, s=scalars: N.multi_exp(p, s), want))
        tasks.append((f"sum {n}", lambda p=packed: N.sum(p), _reference(points, [1] * n)))
        if n < 100:
            tasks.append((f"ct_multi {n}", lambda p=packed, s=scalars: N.ct_multi(p, s), want))
    for _ in range(6):
        k, k2, point = _scalar(rng), _scalar(rng), _point(rng)
        tasks.append(("decode", lambda p=point: N.decode(p), point))
        tasks.append(("table", lambda k=k: N.multi_exp(b"", b"", (table,), _k(k)), _mul(k, g)))
        tasks.append(
            (
                "ct_exp",
                lambda k=k, k2=k2, p=point: N.ct_exp(ct, _k(k), p, _k(k2)),
                _add(_mul(k, g), _mul(k2, point)),
            )
        )
        tasks.append(("ct_fixed2", lambda k=k, k2=k2: N.ct_fixed2(ct, _k(k), ct, _k(k2)), _mul(k + k2, g)))
        tasks.append(("precompute_ct", lambda p=point: N.ct_exp(N.precompute_ct(p), _k(3)), _mul(3, point)))
    start = threading.Barrier(4)
    failures: list[str] = []

    def work(offset: int) -> None:
        start.wait()
        for round_ in range(3 * SCALE):
            for i in range(len(tasks)):
                name, call, want = tasks[(i + offset * 7 + round_) % len(tasks)]
                try:
                    got = call()
                except Exception as exc:  # reported below, with the task's name
                    failures.append(f"thread {offset}, {name}: {exc!r}")
                    continue
                if got != want:
                    failures.append(f"thread {offset}, {name}: {got!r} != {want!r}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, f"{failures[:5]} (DEGCORE_DIFFERENTIAL_SEED={SEED})"
