"""A SQLite box whose write lock another process holds: the cast fails within the bound, then resumes.

The holder is a real second connection to the same file (as another box process would hold it),
not a mock; the bound is ``SqliteOptions.lock_timeout`` (docs/deployment.md, fault table).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from degcore.board import BallotBox
from degcore.errors import InvalidInput, StorageError
from degcore.groups import get_group
from degcore.storage import SqliteOptions
from tests.election_fixtures import DURING, Election, election
from tests.unit.board.test_box import BOX_KEY, MAYOR


@pytest.fixture(scope="module")
def e() -> Election:
    return election(get_group("ristretto255"))


def test_a_held_write_lock_fails_a_cast_within_the_bound_and_the_retry_gets_its_receipt(
    e: Election, tmp_path: Path
) -> None:
    path = tmp_path / "box.sqlite"
    box = BallotBox(path, e.context, e.public_keys, BOX_KEY, sqlite=SqliteOptions(lock_timeout=0.2))
    first = box.cast(e.cast(e.credential("b"), MAYOR), now=DURING)
    second = e.cast(e.credential("b"), MAYOR)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer, stuck inside its transaction
        with pytest.raises(StorageError, match="locked"):
            box.cast(second, now=DURING)
        holder.execute("ROLLBACK")
        assert box.verify_log() == 1  # the failed cast left nothing behind
        receipt = box.cast(second, now=DURING)
        assert (first.position, receipt.position) == (1, 2)
        assert box.cast(second, now=DURING) == receipt  # the identical retry: the original receipt
        assert box.verify_log() == 2
    finally:
        holder.close()
        box.close()


@pytest.mark.parametrize("seconds", [0, 0.05, -1, 86_401])
def test_a_lock_timeout_outside_its_range_is_refused(seconds: float) -> None:
    with pytest.raises(InvalidInput, match="lock_timeout"):
        SqliteOptions(lock_timeout=seconds)
