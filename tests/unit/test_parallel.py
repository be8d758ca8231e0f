"""parallel.map_chunks: order, chunking, errors and elements crossing into worker processes."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import pytest

from degcore.errors import VerificationFailed
from degcore.groups import Element, Group
from degcore.parallel import SERIAL, default_executor, map_chunks


def _square_all(items: Sequence[int]) -> list[int]:
    return [i * i for i in items]


def _fail_on_seven(items: Sequence[int]) -> list[int]:
    if 7 in items:
        raise VerificationFailed("demo", "item 7", "refused")
    return list(items)


def _times_g(group: Group, items: Sequence[tuple[Element, int]]) -> list[Element]:
    g = group.generator()
    return [e * group.exp_g(k) * g for e, k in items]


def _drop_one(items: Sequence[int]) -> list[int]:
    return list(items[1:])


@pytest.mark.parametrize("chunk_size", [None, 1, 3, 1000])
def test_results_keep_input_order(chunk_size: int | None) -> None:
    items = list(range(200))
    assert map_chunks(_square_all, items, chunk_size=chunk_size) == [i * i for i in items]
    assert map_chunks(_square_all, items, executor=SERIAL, chunk_size=chunk_size) == [i * i for i in items]
    assert map_chunks(_square_all, []) == []


def test_worker_errors_reach_the_caller_with_their_payload() -> None:
    for executor in (SERIAL, default_executor()):
        with pytest.raises(VerificationFailed) as info:
            map_chunks(_fail_on_seven, list(range(100)), executor=executor, chunk_size=10)
        assert info.value.subject == "item 7"


def test_a_function_that_loses_results_is_a_bug_not_silence() -> None:
    with pytest.raises(RuntimeError, match="returned"):
        map_chunks(_drop_one, list(range(10)), executor=SERIAL)


def test_elements_cross_process_boundaries_on_every_group(group: Group) -> None:
    items = [(group.exp_g(k + 1), k) for k in range(20)]
    with ProcessPoolExecutor(2) as pool:
        remote = map_chunks(functools.partial(_times_g, group), items, executor=pool, chunk_size=5)
    local = _times_g(group, items)
    assert remote == local
    assert all(e.group is group for e in remote)
