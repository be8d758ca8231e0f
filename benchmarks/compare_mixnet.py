"""Shuffle verification on one core: an old source tree against a new one, interleaved in one run.

    python benchmarks/compare_mixnet.py OLD_SRC NEW_SRC GROUP CIPHERTEXTS ROUNDS

Each round runs one process per tree (old, then new, so both see the same machine load) that
encrypts, shuffles and proves CIPHERTEXTS one-ciphertext rows (untimed), then times
``mixnet.verify`` on the SERIAL executor. Prints the best rate of each and the ratio new/old.
"""

from __future__ import annotations

import os
import subprocess
import sys

_TIME = """
import time
from degcore import mixnet
from degcore.elgamal import encrypt, keygen
from degcore.groups import get_group
from degcore.parallel import SERIAL
pk = keygen(get_group({group!r})).public
rows = [(encrypt(pk, i % 7),) for i in range({n})]
out, witness = mixnet.shuffle(pk, rows, executor=SERIAL)
proof = mixnet.prove(pk, rows, out, witness, b"context", executor=SERIAL)
started = time.perf_counter()
mixnet.verify(pk, rows, out, proof, b"context", executor=SERIAL)
print(time.perf_counter() - started)
"""


def _seconds(src: str, code: str) -> float:
    env = dict(os.environ, PYTHONPATH=src)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)  # noqa: S603 - our own interpreter and code
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Time both trees alternately; print the best rate of each and the ratio."""
    old, new, group, n, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    code = _TIME.format(group=group, n=n)
    best = {"old": float("inf"), "new": float("inf")}
    for _ in range(rounds):
        for name, src in (("old", old), ("new", new)):
            best[name] = min(best[name], _seconds(src, code))
    for name in ("old", "new"):
        rate = n / best[name]
        print(f"{name}: {group} {n} ciphertexts verified in {best[name]:.2f} s, {rate:,.0f}/s on one core")
    print(f"speed-up new/old: {best['old'] / best['new']:.2f}x")


if __name__ == "__main__":
    main()
