"""The proof commitments g^v · ∏ bᵢ^kᵢ and h^v · ∏ bᵢ^kᵢ on every backend (p256 included)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from degcore.groups import Group, get_group
from tests.conftest import group_property
from tests.strategies import scalars


def _check_commitments(group: Group, data: st.DataObject) -> None:
    x = group.exp_g(data.draw(scalars(group)))
    pool = [group.identity(), group.generator(), x, group.inv(x)]
    n = data.draw(st.integers(0, 4))
    bases = [data.draw(st.sampled_from(pool)) for _ in range(n)]
    ks = [data.draw(scalars(group)) for _ in range(n)]
    v = data.draw(scalars(group))
    rest = group.product(group.exp(b, k) for b, k in zip(bases, ks, strict=True))
    assert group.exp_g_multi_vartime(v, bases, ks) == group.exp_g(v) * rest
    h = data.draw(st.sampled_from(pool[1:]))
    assert group.fixed(h).exp_multi_vartime(v, bases, ks) == group.exp(h, v) * rest


test_commitments, test_commitments_modp4096 = group_property(_check_commitments)


@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_commitments_p256(data: st.DataObject) -> None:
    _check_commitments(get_group("p256"), data)
