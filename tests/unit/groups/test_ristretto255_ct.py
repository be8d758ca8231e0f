"""The native constant-time path for secret scalars (``ct_exp``): libsodium's results, no secret branch.

``ct_exp(table, k, point, k2)`` = k·T + k2·P serves the secret exponents of encryption and of the
range proofs' simulated branches (which branch is simulated is the vote). Two kinds of test:
every result equals libsodium's (rbcl) for edge and random scalars; and under valgrind's memcheck,
with the scalars marked undefined, the arithmetic takes no branch and reads no memory by a secret
bit (``tests/native_ct/ct_harness.c``), while the variable-time encoding in the same place is
caught, so the check can fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import rbcl
from hypothesis import given, settings
from hypothesis import strategies as st

from degcore.errors import InvalidInput
from degcore.groups import get_group
from degcore.groups.ristretto255 import RISTRETTO255, native_module

L = RISTRETTO255.order
N = native_module()
ROOT = Path(__file__).resolve().parents[3]
needs_native = pytest.mark.skipif(N is None, reason="native extension not built or DEGCORE_NATIVE=0")
_SCALARS = st.one_of(
    st.sampled_from([0, 1, 2, 7, 8, 9, 15, 16, 17, 2**128, 2**252, L - 2, L - 1]), st.integers(0, L - 1)
)


def _k(k: int) -> bytes:
    return k.to_bytes(32, "little")


def _mul(k: int, point: bytes) -> bytes:
    return rbcl.crypto_scalarmult_ristretto255_allow_scalar_zero(_k(k), point)


@needs_native
@settings(max_examples=150, deadline=None)
@given(
    k=_SCALARS,
    k2=_SCALARS,
    seed=st.binary(min_size=64, max_size=64),
    other=st.binary(min_size=64, max_size=64),
)
def test_ct_exp_equals_libsodium(k: int, k2: int, seed: bytes, other: bytes) -> None:
    assert N is not None
    base = rbcl.crypto_core_ristretto255_from_hash(seed)
    point = rbcl.crypto_core_ristretto255_from_hash(other)
    table = N.precompute_ct(base)
    assert N.ct_exp(table, _k(k)) == _mul(k, base)
    assert N.ct_exp(table, _k(k), point, _k(k2)) == rbcl.crypto_core_ristretto255_add(
        _mul(k, base), _mul(k2, point)
    )
    identity = bytes(32)
    assert N.ct_exp(table, _k(k), identity, _k(k2)) == _mul(k, base)


@needs_native
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_ct_multi_equals_libsodium(data: st.DataObject) -> None:
    assert N is not None
    size = data.draw(st.integers(0, 6))
    points = [
        rbcl.crypto_core_ristretto255_from_hash(data.draw(st.binary(min_size=64, max_size=64)))
        for _ in range(size)
    ]
    if size and data.draw(st.booleans()):
        points[0] = bytes(32)  # the identity among them
    ks = [data.draw(_SCALARS) for _ in range(size)]
    expected = bytes(32)
    for point, k in zip(points, ks, strict=True):
        expected = rbcl.crypto_core_ristretto255_add(expected, _mul(k, point))
    assert N.ct_multi(b"".join(points), b"".join(map(_k, ks))) == expected
    with pytest.raises(ValueError):
        N.ct_multi(b"".join(points) + b"\xff" * 32, b"".join(map(_k, ks)) + _k(1))
    with pytest.raises(ValueError, match="below the group order"):
        N.ct_multi(bytes(32), _k(L))


@needs_native
def test_the_group_paths_agree_with_libsodium() -> None:
    """FixedBase.exp / exp_mul and Group.exp_g_mul, native, against the same calls without the module."""
    group = RISTRETTO255
    h, a = group.exp_g(12345), group.exp_g(678)
    cases = [(0, 0), (1, L - 1), (L - 1, 1), (2**200 + 5, 3**150)]
    native = [
        (group.fixed(h).exp(k), group.fixed(h).exp_mul(k, a, k2), group.exp_g_mul(k, a, k2))
        for k, k2 in cases
    ]
    saved = group._native  # type: ignore[attr-defined]
    group.use_native(None)  # type: ignore[attr-defined]
    try:
        pure = [
            (group.fixed(h).exp(k), group.fixed(h).exp_mul(k, a, k2), group.exp_g_mul(k, a, k2))
            for k, k2 in cases
        ]
    finally:
        group.use_native(saved)  # type: ignore[attr-defined]
    assert native == pure


@needs_native
def test_bad_arguments_are_refused() -> None:
    assert N is not None
    table = N.precompute_ct(bytes(RISTRETTO255.generator()))
    with pytest.raises(ValueError, match="below the group order"):
        N.ct_exp(table, _k(L))
    with pytest.raises(ValueError, match="32-byte"):
        N.ct_exp(table, b"\x01")
    with pytest.raises(ValueError, match="32-byte"):
        N.ct_exp(table, _k(1), bytes(RISTRETTO255.generator()))
    with pytest.raises(ValueError, match="canonical"):
        N.ct_exp(table, _k(1), b"\xff" * 32, _k(1))
    with pytest.raises(ValueError):
        N.precompute_ct(b"\xff" * 32)
    with pytest.raises((ValueError, TypeError)):
        N.ct_exp(N.precompute(bytes(RISTRETTO255.generator())), _k(1))  # a variable-time table
    with pytest.raises(ValueError, match="below the group order"):
        N.ct_fixed2(table, _k(1), table, _k(L))
    assert N.ct_fixed2(table, _k(2), table, _k(3)) == N.ct_exp(table, _k(5))


def _valgrind_required() -> bool:
    return os.environ.get("DEGCORE_REQUIRE_NATIVE") == "1"


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler, valgrind = shutil.which("gcc") or shutil.which("cc"), shutil.which("valgrind")
    if compiler is None or valgrind is None or not Path("/usr/include/valgrind/memcheck.h").exists():
        if _valgrind_required():
            pytest.fail("the constant-time check needs a C compiler, valgrind and its headers")
        pytest.skip("no C compiler or valgrind here")
    out = tmp_path_factory.mktemp("ct") / "ct_harness"
    # The module's own optimisation level: what the compiler may turn into a branch depends on it.
    level = re.search(r'"(-O[0-3s])"', (ROOT / "setup.py").read_text())
    assert level is not None, "setup.py names no optimisation level"
    command = [
        compiler,
        level.group(1),
        "-std=c99",
        "-Wno-unused-function",
        "-o",
        str(out),
        str(ROOT / "tests/native_ct/ct_harness.c"),
    ]
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - our own files
    return out


def _memcheck(binary: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = ["valgrind", "--error-exitcode=9", "--track-origins=yes", str(binary), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our files


def test_no_branch_or_index_depends_on_a_secret_scalar(harness: Path) -> None:
    run = _memcheck(harness)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "depends on uninitialised" not in run.stderr


def test_the_check_catches_the_variable_time_encoding(harness: Path) -> None:
    run = _memcheck(harness, "control")
    assert run.returncode == 9
    assert "depends on uninitialised" in run.stderr


def test_mismatched_secret_terms_are_invalid_input() -> None:
    for name in ("ristretto255", "secp256k1"):
        group = get_group(name)
        with pytest.raises(InvalidInput, match="bases and"):
            group.multi_exp_secret([group.generator()], [1, 2])
