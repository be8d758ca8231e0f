"""Verify one record on one core with and without the native ristretto255 path, interleaved.

    python benchmarks/compare_native.py RECORD_DIR VOTERS ROUNDS

RECORD_DIR is a ristretto255 election record (e.g. ``degcore demo --voters 200 --out demo`` gives
``demo/record``, or the cache of ``benchmarks/test_verify.py``); VOTERS divides the time into a
per-ballot figure. Each round runs ``verify_record(..., executor=SERIAL)`` in a fresh process with
``DEGCORE_NATIVE=0`` and then ``1``, so both see the same machine load; each process also times one
rbcl (libsodium) scalar multiplication, the unit of the per-ballot column. Prints the best of
each and the ratio native/pure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

_TIME = """
import json, time
from degcore.groups import get_group
from degcore.parallel import SERIAL
from degcore.verify import verify_record
group = get_group("ristretto255")
x, k = group.exp_g(group.random_scalar()), group.random_scalar()
started = time.perf_counter()
for _ in range(200):
    group.exp(x, k)
mul = (time.perf_counter() - started) / 200
started = time.perf_counter()
report = verify_record({record!r}, executor=SERIAL)
elapsed = time.perf_counter() - started
assert report.ok, report.to_text()
print(json.dumps({{"seconds": elapsed, "rbcl_mul": mul}}))
"""


def _run(record: str, native: str) -> dict[str, float]:
    env = dict(os.environ, DEGCORE_NATIVE=native)
    command = [sys.executable, "-c", _TIME.format(record=record)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)  # noqa: S603 - our code
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Time both paths alternately; print the best of each, per ballot in ms and in rbcl multiplications."""
    record, voters, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    best: dict[str, dict[str, float]] = {}
    for _ in range(rounds):
        for name, flag in (("pure", "0"), ("native", "1")):
            run = _run(record, flag)
            if name not in best or run["seconds"] < best[name]["seconds"]:
                best[name] = run
    for name, run in best.items():
        per_ballot = run["seconds"] / voters
        print(
            f"{name}: {run['seconds']:.2f} s, {per_ballot * 1e3:.2f} ms per ballot = "
            f"{per_ballot / run['rbcl_mul']:.0f} rbcl multiplications ({run['rbcl_mul'] * 1e6:.1f} µs each)"
        )
    print(f"native/pure = {best['native']['seconds'] / best['pure']['seconds']:.3f}")


if __name__ == "__main__":
    main()
