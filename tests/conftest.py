"""Shared fixtures: the group backends and the external vectors folder (../shared/vectors)."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from degcore.groups import Group, get_group
from degcore.groups._toy import TOY

settings.register_profile(
    "degcore", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=40
)
settings.load_profile("degcore")

VECTORS = Path(os.environ.get("DEGCORE_VECTORS", Path(__file__).resolve().parents[2] / "shared" / "vectors"))

#: Every backend; modp4096 is slow (ms per exponentiation), so property tests take fewer examples there.
ALL_GROUPS = ["ristretto255", "secp256k1", "modp4096", "toy"]
FAST_GROUPS = ["ristretto255", "secp256k1", "toy"]
#: Property tests over modp4096 run this many examples (each costs tens of exponentiations of 2 ms).
SLOW_EXAMPLES = 5


Check = Callable[[Group, st.DataObject], None]


def group_property(check: Check) -> tuple[Callable[..., None], Callable[..., None]]:
    """Two hypothesis tests of ``check``: the fast backends with full examples, modp4096 with few.

    Use as ``test_x, test_x_modp4096 = group_property(_check_x)``.
    """

    @pytest.mark.parametrize("name", FAST_GROUPS)
    @given(data=st.data())
    def fast(name: str, data: st.DataObject) -> None:
        check(group_by_name(name), data)

    @settings(max_examples=SLOW_EXAMPLES)
    @given(data=st.data())
    def slow(data: st.DataObject) -> None:
        check(get_group("modp4096"), data)

    return fast, slow


def group_by_name(name: str) -> Group:
    """The backend for a fixture parameter (the toy group is not registered in get_group)."""
    return TOY if name == "toy" else get_group(name)


@pytest.fixture(params=ALL_GROUPS)
def group(request: pytest.FixtureRequest) -> Group:
    """Each group backend in turn."""
    return group_by_name(request.param)


def load_vector(relative: str) -> Any:
    """Load a JSON file of the external vectors, or skip with a clear message where it is absent."""
    path = VECTORS / relative
    if not path.exists():
        pytest.skip(
            f"external vectors not found at {path} (set DEGCORE_VECTORS or put shared/ beside the checkout)"
        )
    return json.loads(path.read_text())


def race(target: Callable[..., object], argument_lists: list[tuple[object, ...]]) -> list[object]:
    """Start one forked process per argument tuple, released together by a barrier; their outcomes, sorted.

    ``target(*arguments, barrier, queue)`` must wait on ``barrier`` and put one outcome on ``queue``.
    """
    context = multiprocessing.get_context("fork")
    barrier, queue = context.Barrier(len(argument_lists)), context.Queue()
    procs = [context.Process(target=target, args=(*args, barrier, queue)) for args in argument_lists]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    return sorted((queue.get(timeout=10) for _ in procs), key=str)
