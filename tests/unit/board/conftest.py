"""What the ballot box tests share: one election, a box per test on each store, failing stores."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from degcore.board import BallotBox
from degcore.errors import StorageError
from degcore.groups import get_group
from tests.election_fixtures import Election, election
from tests.unit.board.test_box import BOX_KEY


@pytest.fixture(scope="module")
def e() -> Election:
    return election(get_group("ristretto255"))


@pytest.fixture
def box(e: Election, store_location: str) -> Iterator[BallotBox]:
    box = BallotBox(store_location, e.context, e.public_keys, BOX_KEY)
    yield box
    box.close()


@contextmanager
def store_fails(box: BallotBox, *, after_commit: bool) -> Iterator[None]:
    """Every write fails: before its commit (a full disk: rolled back) or after it (the answer lost)."""
    store = box._store
    real = store.write

    @contextmanager
    def failing() -> Iterator[Any]:
        with real() as tx:
            yield tx
            if not after_commit:
                raise StorageError("the disk is full")
        raise StorageError("connection lost after COMMIT")

    store.write = failing  # type: ignore[method-assign]
    try:
        yield
    finally:
        store.write = real  # type: ignore[method-assign]
