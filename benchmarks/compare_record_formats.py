"""Verify throughput of the demo record: an old source tree against a new one, interleaved in one run.

    python benchmarks/compare_record_formats.py OLD_SRC NEW_SRC VOTERS ROUNDS

OLD_SRC and NEW_SRC are ``src`` folders (e.g. of a ``git worktree`` at the older commit). Each tree
writes its own demo record once; then each round times ``verify_record`` on one core (the SERIAL
executor) for the old and the new record alternately, so both see the same machine load. Prints
the best time of each, per ballot, and the ratio new/old.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

_WRITE = "from pathlib import Path; from degcore.demo import run_demo; run_demo(Path({out!r}), {voters})"
_TIME = """
import time
from degcore.verify import verify_record
from degcore.parallel import SERIAL
started = time.perf_counter()
report = verify_record({record!r}, executor=SERIAL)
elapsed = time.perf_counter() - started
assert report.ok, report.to_text()
print(elapsed)
"""


def _run(src: str, code: str) -> str:
    env = dict(os.environ, PYTHONPATH=src)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)  # noqa: S603 - our own interpreter and code
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def main() -> None:
    """Build both records, time them alternately, print the best of each and the ratio."""
    old, new, voters, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    trees = {"old": old, "new": new}
    best = dict.fromkeys(trees, float("inf"))
    with tempfile.TemporaryDirectory(prefix="degcore-formats-") as work:  # removed afterwards
        for name, src in trees.items():
            _run(src, _WRITE.format(out=f"{work}/{name}", voters=voters))
        for _ in range(rounds):
            for name, src in trees.items():
                seconds = float(_run(src, _TIME.format(record=f"{work}/{name}/record")))
                best[name] = min(best[name], seconds)
    print(json.dumps({k: {"seconds": v, "ms_per_ballot": 1000 * v / voters} for k, v in best.items()}))
    print(f"new/old = {best['new'] / best['old']:.3f}")


if __name__ == "__main__":
    main()
