"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from degcore.groups import Group


def scalars(group: Group) -> st.SearchStrategy[int]:
    """Scalars of ``group``, biased towards the edges 0, 1, q − 1."""
    q = group.order
    return st.one_of(st.sampled_from([0, 1, 2, q - 1, q - 2]), st.integers(min_value=0, max_value=q - 1))
