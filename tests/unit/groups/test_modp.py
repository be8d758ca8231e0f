"""modp4096: the ElectionGuard 2.0 parameters and strict subgroup membership."""

from __future__ import annotations

import gmpy2
import pytest

from degcore.errors import InvalidInput, UnsupportedFormat
from degcore.groups import get_group
from degcore.groups._toy import TOY
from degcore.groups.modp import MODP4096, ModpGroup, _secret_pad, _WindowTable
from tests.conftest import load_vector

G = MODP4096


def test_parameters() -> None:
    p, q = G.p, G.order
    assert p.bit_length() == 4096
    assert q == 2**256 - 189
    assert gmpy2.is_prime(p, 50)
    assert gmpy2.is_prime(q, 50)
    assert (p - 1) % q == 0
    g = int.from_bytes(bytes(G.generator()), "big")
    assert g == pow(2, (p - 1) // q, p)
    assert g != 1
    assert pow(g, q, p) == 1


def test_parameters_match_electionguard_2_0() -> None:
    eg = load_vector("electionguard/electionguard_group_constants.json")["groups"]["electionguard_v2.0"]
    assert int(eg["p"]) == G.p
    assert int(eg["q"]) == G.order
    assert int(eg["g"]) == int.from_bytes(bytes(G.generator()), "big")


@pytest.mark.parametrize("value", [0, -1, 1, "p", "p+1", 2])
def test_non_members_rejected(value: int | str) -> None:
    p = G.p
    x = {"p": p, "p+1": p + 1, -1: p - 1}.get(value, value)
    assert isinstance(x, int)
    if x == 1:  # the identity is a member
        assert G.decode(x.to_bytes(512, "big")) == G.identity()
        return
    data = x.to_bytes(513, "big")[1:] if x < 2**4096 else b"\xff" * 512
    with pytest.raises(InvalidInput):
        G.decode(data)


def test_wrong_length_rejected() -> None:
    with pytest.raises(InvalidInput):
        G.decode(bytes(G.generator())[1:])
    with pytest.raises(InvalidInput):
        G.decode(b"\x00" + bytes(G.generator()))


def test_electionguard_small_group_with_generator_outside_subgroup() -> None:
    small = load_vector("electionguard/electionguard_group_constants.json")[
        "small_test_groups_electionguard_python"
    ]
    bad = small["SMALL_TEST_CONSTANTS"]  # g = 5 is a non-residue mod 503: not of order q = 251
    grp = ModpGroup("eg-small", int(bad["p"]), int(bad["q"]))
    with pytest.raises(InvalidInput):
        grp.decode(int(bad["g"]).to_bytes(grp.element_bytes, "big"))
    good = small["MEDIUM_TEST_CONSTANTS"]
    grp = ModpGroup("eg-medium", int(good["p"]), int(good["q"]))
    assert grp.decode(int(good["g"]).to_bytes(grp.element_bytes, "big"))


EDGE_EXPONENTS = (0, 1, 3, 255, 256, 2**192, G.order - 1, G.order, G.order + 7, -3)


def test_fixed_base_table_matches_powmod() -> None:
    h = G.exp_g(12345)
    table = G.fixed(h)
    for k in EDGE_EXPONENTS:
        assert table.exp(k) == table.exp_vartime(k) == G.exp_vartime(h, k) == h**k
        assert G.exp_g(k) == G.exp_g_vartime(k) == G.exp_vartime(G.generator(), k)


@pytest.mark.parametrize("group", [G, TOY], ids=["modp4096", "toy"])
def test_secret_exponents_have_one_length(group: ModpGroup) -> None:
    """powmod_sec's time follows the exponent's limb count: k + q·2^t always fills the same limbs."""
    q = group.order
    lengths = {(k % q + _secret_pad(q)).bit_length() for k in (0, 1, 3, 2**20, q // 2, q - 1, -1)}
    limbs = {(n + 63) // 64 for n in lengths}
    assert len(limbs) == 1
    assert max(lengths) % 64 in (0, 63)


def test_secret_exponents_never_reach_the_variable_time_code(monkeypatch: pytest.MonkeyPatch) -> None:
    h = G.exp_g_vartime(99)
    table = G.fixed(h)
    expected = {k: (G.exp_vartime(h, k), G.exp_g_vartime(k)) for k in (1, 2**255, G.order - 2)}

    def refuse(*args: object) -> object:
        raise AssertionError("a secret exponent reached a variable-time routine")

    monkeypatch.setattr(gmpy2, "powmod", refuse)
    monkeypatch.setattr(_WindowTable, "_rows", refuse)
    for k, (want, want_g) in expected.items():
        assert G.exp(h, k) == h**k == table.exp(k) == want
        assert G.exp_g(k) == want_g
    with pytest.raises(AssertionError):
        table.exp_vartime(5)


def test_unknown_group_name() -> None:
    with pytest.raises(UnsupportedFormat):
        get_group("p384")
    with pytest.raises(InvalidInput):
        get_group("")
