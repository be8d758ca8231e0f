"""The observer's rate against the box's cast rate, both on one core (docs/performance.md).

``DEGCORE_BENCH_OBSERVE`` ballots (default 400; ristretto255, the test election's style "a":
a 1-of-3 contest, a cumulative 4-option contest and a mix-net contest) are made once; then

* **box**: a fresh :class:`~degcore.board.BallotBox` on SQLite casts them one by one
  (``cast``: every check, the commit with fsync, the log signature), in this process, each from
  the JSON bytes a device sends (parsed and decoded, as a box service does) or, for comparison,
  from already parsed objects;
* **observer**: an :class:`~degcore.observe.Observer` with the inline executor checks the whole
  log of that box (chain, box signatures, credentials, ballot signatures, every proof, V7/V8) and
  writes its state, from a new state folder each round.

``pytest benchmarks/test_observe.py -s``; the rates are printed and kept in ``extra_info``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.record_fixtures import BOX_KEY, DURING, cast, credential, issuer_key, setup_for

from benchmarks.conftest import record_throughput
from degcore.ballot import ElectionContext
from degcore.board import BallotBox, CastBallot
from degcore.encoding import canonical_json
from degcore.groups import get_group
from degcore.observe import Observer, StoreFeed, load_published
from degcore.observe.follow import write_published
from degcore.parallel import SERIAL

BALLOTS = int(os.environ.get("DEGCORE_BENCH_OBSERVE", "400"))


@pytest.fixture(scope="module")
def election() -> Iterator[tuple[Path, ElectionContext, list[CastBallot]]]:
    folder = Path(tempfile.mkdtemp(prefix="degcore-bench-observe-"))
    context, _ = setup_for(get_group("ristretto255"))
    write_published(folder / "published", context)
    picks = [
        {"mayor": {f"m{i % 3}": 1}, "council": {"c1": 2}, "vote": {("yes", "no")[i % 2]: 1}} for i in range(3)
    ]
    casts = [cast(context, credential("a"), picks[i % 3]) for i in range(BALLOTS)]
    yield folder, context, casts
    shutil.rmtree(folder)


def _box(folder: Path, context: ElectionContext) -> tuple[BallotBox, Path]:
    keys = {s: issuer_key(s).public_key() for s in ("a", "b")}
    path = folder / f"box-{len(list(folder.glob('box-*.sqlite')))}.sqlite"
    return BallotBox(path, context, keys, BOX_KEY), path


@pytest.mark.parametrize("source", ["json", "objects"])
def test_box_cast_rate_one_core(
    benchmark: object, election: tuple[Path, ElectionContext, list[CastBallot]], source: str
) -> None:
    """``json``: each ballot as a box receives it, bytes parsed and decoded; ``objects``: already parsed."""
    folder, context, casts = election
    wire = [canonical_json(c.to_json(context)) for c in casts]

    def setup() -> tuple[tuple[BallotBox], dict[str, object]]:
        return (_box(folder, context)[0],), {}

    def run(box: BallotBox) -> None:
        if source == "json":
            for data in wire:
                box.cast(CastBallot.from_json(context, json.loads(data)), now=DURING)
        else:
            for c in casts:
                box.cast(c, now=DURING)
        box.close()

    benchmark.pedantic(run, setup=setup, rounds=2)  # type: ignore[attr-defined]
    record_throughput(
        benchmark, f"box: cast one by one from {source}, one core (SQLite)", len(casts), "ballots"
    )


def test_observer_rate_one_core(
    benchmark: object, election: tuple[Path, ElectionContext, list[CastBallot]]
) -> None:
    folder, context, casts = election
    box, path = _box(folder, context)
    box.cast_many(casts, now=DURING)
    box.close()
    location = str(path)
    published = load_published(folder / "published")
    rounds: list[int] = []

    def setup() -> tuple[tuple[Observer, StoreFeed], dict[str, object]]:
        feed = StoreFeed(location, context)
        state = folder / f"state-{len(rounds)}"
        rounds.append(0)
        return (Observer(published, state, feed, executor=SERIAL), feed), {}

    def run(observer: Observer, feed: StoreFeed) -> None:
        observer.poll()
        feed.close()
        if observer.state.problems or observer.checked != len(casts):
            raise AssertionError("the observer must check every entry of an honest box and find nothing")

    benchmark.pedantic(run, setup=setup, rounds=2)  # type: ignore[attr-defined]
    record_throughput(benchmark, "observer: follow and check, one core", len(casts), "entries")
