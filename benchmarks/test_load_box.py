"""Small runs of ``benchmarks/load_box.py`` (full: ``python -m benchmarks.load_box 20000``, ``--faults``)."""

from __future__ import annotations

import os

from benchmarks import load_box


def test_load_box_small() -> None:
    ballots = int(os.environ.get("DEGCORE_BENCH_LOAD", "80"))
    results = load_box.main(ballots, (1, 2))
    assert all(r.ballots == ballots for r in results)


def test_fault_runs_small() -> None:
    """Client kills on SQLite and two crashes of our own PostgreSQL server: every receipt survives."""
    load_box.faults(int(os.environ.get("DEGCORE_BENCH_FAULTS", "120")), kills=4, outage=1.0)
