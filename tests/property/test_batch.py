"""Small-exponent batch verification: true equations pass together; any false one is caught and named."""

from __future__ import annotations

import os

import pytest
from hypothesis import strategies as st

from degcore.elgamal import batch as batch_module
from degcore.elgamal.batch import Batch, verify_each
from degcore.errors import InvalidInput, VerificationFailed
from degcore.groups import Group, get_group
from tests.conftest import group_by_name, group_property


def _true_equation(group: Group, data: st.DataObject, shared: list) -> list:
    """g^k1 · X^k2 · (g^k1 · X^k2)^-1 over random and shared bases: ∏ = 1 by construction."""
    q = group.order
    width = data.draw(st.integers(1, 3))
    terms = []
    value = group.identity()
    for _ in range(width):
        base = (
            data.draw(st.sampled_from(shared))
            if data.draw(st.booleans())
            else group.exp_g(group.random_scalar())
        )
        k = data.draw(st.sampled_from([0, 1, q - 1, group.random_scalar()]))
        terms.append((base, k))
        value = value * group.exp_vartime(base, k)
    terms.append((value, -1))
    return terms


def _check_batches(group: Group, data: st.DataObject) -> None:
    shared = [group.generator(), group.exp_g(group.random_scalar())]
    batches = []
    bad: set[int] = set()
    for i in range(data.draw(st.integers(1, 5))):
        batch = Batch(group)
        for j in range(data.draw(st.integers(0, 4))):
            terms = _true_equation(group, data, shared)
            if data.draw(st.booleans()) and data.draw(st.booleans()):
                # The dishonest prover's own change: one commitment off by a factor g.
                terms[-1] = (terms[-1][0] * group.generator(), -1)
                bad.add(i)
            batch.add(("check", f"item {i}", f"equation {j}"), terms)
        batches.append(batch)
    outcomes = verify_each(batches)
    assert {i for i, failure in enumerate(outcomes) if failure is not None} == bad
    for i in bad:
        failure = outcomes[i]
        assert isinstance(failure, VerificationFailed)
        assert failure.check == "check" and failure.subject == f"item {i}"
        assert batches[i].failing()
    for i, batch in enumerate(batches):
        assert batch.holds() is (i not in bad)


test_batches_name_exactly_the_false_items, test_batches_name_exactly_the_false_items_modp4096 = (
    group_property(_check_batches)
)


def test_an_empty_batch_holds() -> None:
    assert Batch(get_group("ristretto255")).holds()
    assert verify_each([]) == []


@pytest.mark.parametrize("name", ["ristretto255", "toy"])
def test_errors_that_would_cancel_under_equal_weights_are_each_caught(name: str) -> None:
    """Two false equations whose errors are g and g^-1: one weight per equation keeps them apart.

    A dishonest prover shifts one response by +d and another by -d. Were both equations given the
    same weight (reused per item, per chunk, or across ``extend``), the errors would cancel.
    """
    group = group_by_name(name)
    g, x = group.generator(), group.exp_g(group.random_scalar())
    plus = [(g, 1), (x, 1), (x, -1)]  # ∏ = g
    minus = [(g, -1), (x, 2), (x, -2)]  # ∏ = g^-1

    one = Batch(group)
    one.add(("check", "a", "plus"), plus)
    one.add(("check", "b", "minus"), minus)
    assert not one.holds()
    assert one.failing() == [("check", "a", "plus"), ("check", "b", "minus")]

    first, second = Batch(group), Batch(group)
    first.add(("check", "a", "plus"), plus)
    second.add(("check", "b", "minus"), minus)
    joined = Batch(group)
    joined.extend(first)
    joined.extend(second)
    assert not joined.holds()
    outcomes = verify_each([first, Batch(group), second])
    assert [None if o is None else (o.check, o.subject) for o in outcomes] == [
        ("check", "a"),
        None,
        ("check", "b"),
    ]
    # The same item handed in twice is still false (its weight doubles, it does not vanish).
    assert all(o is not None for o in verify_each([first, first]))


def test_a_base_of_another_group_is_a_bug_not_a_verdict() -> None:
    """An element of secp256k1 in a ristretto255 batch raises TypeError, never passes or fails quietly."""
    batch = Batch(get_group("ristretto255"))
    batch.add(("check", "x", "e"), [(get_group("secp256k1").generator(), 1)])
    with pytest.raises(TypeError):
        batch.holds()


def test_weights_are_fresh_128_bit_values_never_handed_out_twice() -> None:
    """Every weight from the process's pool is used once: 5,000 of them across batches, all distinct."""
    group = get_group("ristretto255")
    drawn = [w for _ in range(50) for w in Batch(group).weights(100)]
    assert len(set(drawn)) == len(drawn) == 5000
    assert all(0 <= w < 1 << 128 for w in drawn)
    assert max(drawn).bit_length() > 120  # not small numbers: the soundness bound needs the full range


def test_a_forked_child_does_not_reuse_its_parents_weights() -> None:
    """The pool is emptied in a forked child, so parent and child never weigh with the same values."""
    group = get_group("ristretto255")
    Batch(group).weights(1)  # the parent's pool now holds unused weights the child would inherit
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its first weights and leave at once
        try:
            os.write(write, b"".join(w.to_bytes(16, "big") for w in Batch(group).weights(8)))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    child = {int.from_bytes(data[i : i + 16], "big") for i in range(0, len(data), 16)}
    assert len(child) == 8
    assert child.isdisjoint(Batch(group).weights(8))


def test_a_weight_is_its_sixteen_bytes_from_the_os_read_big_endian(monkeypatch: pytest.MonkeyPatch) -> None:
    """random_weights reads the OS once and cuts weight i from bytes [16i, 16i + 16), big-endian."""
    data = bytes(range(256)) * 2 + b"\xff" * 16 + bytes(15) + b"\x01"
    monkeypatch.setattr(batch_module.secrets, "token_bytes", lambda n: data[:n])
    weights = batch_module.random_weights(len(data) // 16)
    assert weights == [int.from_bytes(data[i : i + 16], "big") for i in range(0, len(data), 16)]
    assert weights[-2:] == [(1 << 128) - 1, 1]


def test_equations_added_weighted_need_as_many_scalars_as_bases() -> None:
    group = get_group("ristretto255")
    g = group.generator()
    with pytest.raises(InvalidInput, match="2 bases and 1 scalars"):
        Batch(group).add_weighted(1, [g, g], [1], [], list)
