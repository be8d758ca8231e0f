"""Group.multi_exp against the plain product of powers, on every backend and every bucket width."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import degcore.groups.secp256k1 as secp
from degcore.errors import InvalidInput
from degcore.groups import Group, get_group
from degcore.groups._msm import choose_window, pippenger
from degcore.groups._toy import TOY
from tests.conftest import group_by_name, group_property
from tests.strategies import scalars


def _reference(group: Group, bases: list, ks: list[int]) -> object:
    return group.product(group.exp_vartime(b, k) for b, k in zip(bases, ks, strict=True))


def _terms(group: Group, data: st.DataObject, max_size: int) -> tuple[list, list[int]]:
    """Bases drawn from a small pool (so repeats, inverses and the identity occur) and edge scalars."""
    q = group.order
    x = group.exp_g(data.draw(scalars(group)))
    pool = [group.identity(), group.generator(), x, group.inv(x), x * x]
    n = data.draw(st.integers(min_value=0, max_value=max_size))
    bases = [data.draw(st.sampled_from(pool)) for _ in range(n)]
    wide = st.one_of(scalars(group), st.integers(min_value=q, max_value=3 * q), st.integers(-q, -1))
    ks = [data.draw(wide) for _ in range(n)]
    return bases, ks


def _check_multi_exp(group: Group, data: st.DataObject) -> None:
    # Sizes past each backend's switch to buckets (64 terms for secp256k1, ~15 for modp4096).
    bases, ks = _terms(group, data, 24 if group.name == "modp4096" else 80)
    assert group.multi_exp(bases, ks) == _reference(group, bases, ks)


test_multi_exp, test_multi_exp_modp4096 = group_property(_check_multi_exp)


@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_multi_exp_p256(data: st.DataObject) -> None:
    group = get_group("p256")
    bases, ks = _terms(group, data, 40)
    assert group.multi_exp(bases, ks) == _reference(group, bases, ks)


@pytest.mark.parametrize("window", range(1, 10))
def test_secp256k1_every_bucket_width(monkeypatch: pytest.MonkeyPatch, window: int) -> None:
    group = get_group("secp256k1")
    monkeypatch.setattr(secp, "_window", lambda count: window)
    x = group.exp_g(group.random_scalar())
    bases = [x, group.inv(x), group.identity(), group.generator(), x] + [
        group.exp_g(group.random_scalar()) for _ in range(20)
    ]
    ks = [5, 5, 7, 0, group.order - 1] + [secrets.randbelow(2**130) for _ in range(20)]
    assert group.multi_exp(bases, ks) == _reference(group, bases, ks)
    # Terms that cancel: the sum is the point at infinity.
    assert group.multi_exp([x, x, group.inv(x)], [3, 4, 7]) == group.identity()


@pytest.mark.parametrize("window", range(1, 9))
@given(data=st.data())
def test_pippenger_every_width(window: int, data: st.DataObject) -> None:
    bases, ks = _terms(TOY, data, 30)
    p = TOY.p
    raw = [int(bytes(b).hex(), 16) for b in bases]
    ks = [k % TOY.order for k in ks]
    result = pippenger(lambda x, y: x * y % p, lambda x: x * x % p, raw, ks, window)
    assert (1 if result is None else result) == int(bytes(_reference(TOY, bases, ks)).hex(), 16)


def test_choose_window() -> None:
    assert choose_window(1, 256, 200.0) == 0
    assert choose_window(0, 256, 200.0) == 0
    assert 6 <= choose_window(1000, 256, 200.0) <= 9
    assert choose_window(100_000, 256, 200.0) > choose_window(1000, 256, 200.0)


@pytest.mark.parametrize("name", ["ristretto255", "secp256k1", "toy"])
def test_multi_exp_refuses_mismatched_lengths(name: str) -> None:
    group = group_by_name(name)
    with pytest.raises(InvalidInput, match="2 bases and 1 scalars"):
        group.multi_exp([group.generator()] * 2, [1])
    with pytest.raises(TypeError):
        group.multi_exp([TOY.generator() if name != "toy" else get_group("secp256k1").generator()], [1])
