"""Spread of secret-exponent timings over chosen exponents, per group and operation (docs/performance.md).

Each secret operation (``exp_g``, ``exp`` of a variable base, ``fixed(h).exp``) is timed on the
exponent classes below, interleaved round by round so that drift of a shared machine hits every
class alike. A class's time is the fastest of its rounds (the least disturbed); the spread of an
operation is max / min over the classes, and a group's spread is the largest over its operations.
A constant-time routine shows a spread near 1 (noise only); the public, variable-time paths are
timed the same way as a reference, to show that the method sees a leak where there is one.

The exponent 0 is left out: no secret is 0 (keys and polynomial coefficients are drawn from
[1, q); a nonce is 0 with probability 1/q), and the backends return the identity for it early.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import gmpy2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from degcore.groups import GROUP_NAMES, Element, Group, get_group

ROUNDS = 15
#: Calls per timed batch: enough to dwarf timer resolution.
BATCH = {"ristretto255": 40, "secp256k1": 40, "modp4096": 3, "p256": 10}


def _fixed_random(group: Group, label: bytes) -> int:
    return group.hash_to_scalar(label, b"degcore/bench/secret-timing") or 1


def exponent_classes(group: Group) -> dict[str, int]:
    """The chosen exponents: small, large, low and high Hamming weight, random (fixed seed)."""
    q = group.order
    top = q.bit_length() - 1
    return {
        "small (3)": 3,
        "large (q−1)": q - 1,
        "low weight (2^(b−2)+1)": (1 << (top - 1)) | 1,
        "high weight (2^(b−1)−1)": (1 << top) - 1,
        "random": _fixed_random(group, b"exponent"),
    }


def _operations(group: Group, *, secret: bool) -> dict[str, Callable[[int], Element]]:
    base = group.exp_g_vartime(_fixed_random(group, b"base"))
    fixed = group.fixed(base)
    if secret:
        other = group.exp_g_vartime(_fixed_random(group, b"other"))
        return {
            "exp_g": group.exp_g,
            "exp": lambda k: group.exp(base, k),
            "fixed.exp": fixed.exp,
            # Both scalars of the two-base calls take the exponent class (a range proof's (v, c)).
            "exp_g_mul": lambda k: group.exp_g_mul(k, other, k),
            "fixed.exp_mul": lambda k: fixed.exp_mul(k, other, k),
        }
    fixed.exp_vartime(1)  # builds a window table where there is one, outside the timing
    return {
        "exp_g_vartime": group.exp_g_vartime,
        "exp_vartime": lambda k: group.exp_vartime(base, k),
        "fixed.exp_vartime": fixed.exp_vartime,
    }


def spread(
    op: Callable[[int], Element], exponents: dict[str, int], batch: int, rounds: int
) -> dict[str, float]:
    """Seconds per call for each exponent class: the fastest of ``rounds`` interleaved batches."""
    best = dict.fromkeys(exponents, float("inf"))
    for _ in range(rounds):
        for label, k in exponents.items():
            start = time.perf_counter()
            for _ in range(batch):
                op(k)
            best[label] = min(best[label], (time.perf_counter() - start) / batch)
    return best


def _measure(group: Group, *, secret: bool, rounds: int) -> dict[str, dict[str, float]]:
    exponents, batch = exponent_classes(group), BATCH[group.name]
    operations = _operations(group, secret=secret)
    return {name: spread(op, exponents, batch, rounds) for name, op in operations.items()}


_lines: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _print_table(request: pytest.FixtureRequest) -> object:
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None or not _lines or request.config.getoption("benchmark_disable"):
        return  # one round under --benchmark-disable measures nothing worth printing
    with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
        reporter.write_line("")
        reporter.write_sep("-", "secret-exponent timing spread (µs per call, fastest round; max/min)")
        for line in _lines:
            reporter.write_line(line)


@pytest.mark.parametrize("secret", [True, False], ids=["secret", "public-reference"])
@pytest.mark.parametrize("name", GROUP_NAMES)
def test_secret_timing_spread(benchmark: object, name: str, secret: bool) -> None:
    """Time each operation over the exponent classes; report max/min per operation and per group."""
    group = get_group(name)
    rounds = 1 if getattr(benchmark, "disabled", False) else ROUNDS
    results: dict[str, dict[str, float]] = {}

    def run() -> None:
        results.update(_measure(group, secret=secret, rounds=rounds))

    benchmark.pedantic(run, rounds=1, iterations=1)  # type: ignore[attr-defined]
    ratios = {op: max(t.values()) / min(t.values()) for op, t in results.items()}
    worst = max(ratios.values())
    benchmark.extra_info["seconds_per_call"] = results  # type: ignore[attr-defined]
    benchmark.extra_info["ratio_max_min"] = ratios  # type: ignore[attr-defined]
    benchmark.extra_info["group_ratio_max_min"] = worst  # type: ignore[attr-defined]
    kind = "secret" if secret else "public (reference)"
    _lines.append(f"{name} {kind}: group max/min = {worst:.2f}")
    for op, times in results.items():
        cells = "  ".join(f"{label} {t * 1e6:.1f}" for label, t in times.items())
        _lines.append(f"  {op:<18} max/min {ratios[op]:5.2f}   {cells}")


# --- candidates measured and not chosen (docs/performance.md §secret exponents) -----------------
def _cryptography_ecdh(group: Group) -> Callable[[int], object]:
    """OpenSSL's constant-time ECDH on SECP256K1 through ``cryptography``: x-only, key set-up included."""
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), bytes(group.exp_g(5)))
    return lambda k: ec.derive_private_key(k, ec.SECP256K1()).exchange(ec.ECDH(), peer)


def _scanned_table(group: Group, window: int = 4) -> Callable[[int], object]:
    """g^k from a window table read by a scan of every entry with masks (no indexed lookup)."""
    q, g = group.order, gmpy2.mpz(int.from_bytes(bytes(group.generator()), "big"))
    p = gmpy2.mpz(group.p)  # type: ignore[attr-defined]
    rows, step = [], g
    for _ in range(-(-q.bit_length() // window) + 1):  # entry d of row i is g^((d+1)·2^(w·i)): never 1
        row = [step]
        for _ in range(1, 1 << window):
            row.append(row[-1] * step % p)
        rows.append(row)
        step = row[-1]
    offset = sum(1 << (window * i) for i in range(len(rows)))
    masks = (gmpy2.mpz(0), gmpy2.mpz((1 << p.bit_length()) - 1))
    digit_mask = (1 << window) - 1

    def exp(k: int) -> object:
        e, acc = (k - offset) % q, gmpy2.mpz(1)
        for row in rows:
            d, e = e & digit_mask, e >> window
            sel = row[0]
            for j, entry in enumerate(row):
                sel ^= (entry ^ sel) & masks[j == d]
            acc = acc * sel % p
        return acc

    assert exp(12345) == gmpy2.powmod(g, 12345, p)
    return exp


@pytest.mark.parametrize("candidate", ["secp256k1 cryptography ECDH", "modp4096 scanned 4-bit table"])
def test_rejected_candidates(benchmark: object, candidate: str) -> None:
    """What the constant-time routines not chosen cost, on the same exponent classes."""
    name = candidate.split(maxsplit=1)[0]
    group = get_group(name)
    op = _cryptography_ecdh(group) if name == "secp256k1" else _scanned_table(group)
    rounds = 1 if getattr(benchmark, "disabled", False) else 5
    results: dict[str, float] = {}
    benchmark.pedantic(  # type: ignore[attr-defined]
        lambda: results.update(spread(op, exponent_classes(group), BATCH[name], rounds)),
        rounds=1,
        iterations=1,
    )
    ratio = max(results.values()) / min(results.values())
    benchmark.extra_info["seconds_per_call"] = results  # type: ignore[attr-defined]
    cells = "  ".join(f"{label} {t * 1e6:.1f}" for label, t in results.items())
    _lines.append(f"{candidate} (not chosen): max/min {ratio:.2f}   {cells}")
