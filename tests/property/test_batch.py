"""Small-exponent batch verification: true equations pass together; any false one is caught and named."""

from __future__ import annotations

from hypothesis import strategies as st

from degcore.elgamal.batch import Batch, verify_each
from degcore.errors import VerificationFailed
from degcore.groups import Group, get_group
from tests.conftest import group_property


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
