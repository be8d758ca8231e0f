"""A small run of ``benchmarks/load_box.py`` (the full one: ``python -m benchmarks.load_box 20000``)."""

from __future__ import annotations

import os

from benchmarks import load_box


def test_load_box_small() -> None:
    ballots = int(os.environ.get("DEGCORE_BENCH_LOAD", "80"))
    results = load_box.main(ballots, (1, 2))
    assert all(r.ballots == ballots for r in results)
