"""Writing the public site (docs/site.md) of the 100,000-ballot record of ``test_verify.py``.

The record (``DEGCORE_BENCH_VERIFY_BALLOTS`` ballots, default 100,000) is built once and cached
as ``test_verify.py`` builds it, and verified once, untimed: ``test_verify.py`` times the
verifier. What is timed is everything ``degcore site`` adds: copying and re-hashing the record's
files, the lookup index over the whole log, and the pages. The largest shard is what a voter's
lookup loads, besides the page's script.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.conftest import record_throughput
from benchmarks.test_verify import BALLOTS, _record
from degcore.site import build_site
from degcore.verify import verify_record


def test_write_site(benchmark: object, tmp_path: Path) -> None:
    root = _record()
    report = verify_record(root)
    assert report.ok, report.to_text()
    out = tmp_path / "site"
    sites = []

    def run() -> None:
        shutil.rmtree(out, ignore_errors=True)
        sites.append(build_site(root, out, report=report))

    benchmark.pedantic(run, rounds=1, iterations=1)  # type: ignore[attr-defined]
    site = sites[-1]
    assert site.verified and site.lookup is not None and site.lookup.rows == BALLOTS
    assert site.lookup.largest_shard_bytes < 1_000_000
    benchmark.extra_info["largest_shard_bytes"] = site.lookup.largest_shard_bytes  # type: ignore[attr-defined]
    benchmark.extra_info["shards"] = site.lookup.shards  # type: ignore[attr-defined]
    record_throughput(benchmark, f"write the site of a {BALLOTS:,}-ballot record", BALLOTS, "ballots")
