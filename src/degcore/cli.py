"""The ``degcore`` command (thin: parses arguments, calls library functions, prints results)."""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections.abc import Sequence

from degcore import __version__
from degcore.elgamal import add, disjunctive, dlog, encrypt_revealable, threshold
from degcore.elgamal.dkg import CeremonyConfig
from degcore.elgamal.trustee import run_local_ceremony
from degcore.groups import GROUP_NAMES, get_group
from degcore.parallel import SERIAL

__all__ = ["main"]


def _demo(groups: Sequence[str], votes: Sequence[int]) -> None:
    context = secrets.token_bytes(32)  # stands in for an election's base hash
    print(f"degcore {__version__} demo: {len(votes)} yes/no votes {list(votes)}, expected tally {sum(votes)}")
    print("  key: 5 trustees, threshold 3 (Pedersen/Feldman DKG); trustee t2 and t4 absent at the tally")
    print("  each vote: ElGamal ciphertext + 0/1 disjunctive Chaum-Pedersen proof, verified, then added")
    for name in groups:
        group = get_group(name)
        started = time.perf_counter()
        config = CeremonyConfig("demo", group, 3, ("t1", "t2", "t3", "t4", "t5"))
        ceremony, shares = run_local_ceremony(config)
        ciphertexts = []
        for vote in votes:
            ct, r = encrypt_revealable(ceremony.joint_key, vote)
            proof = disjunctive.prove(ceremony.joint_key, ct, vote, r, hi=1, context=context)
            disjunctive.verify(ceremony.joint_key, ct, proof, hi=1, context=context)
            ciphertexts.append(ct)
        total = [add(group, ciphertexts)]
        partials = [
            threshold.partial_decrypt(shares[t], total, context, executor=SERIAL) for t in ("t1", "t3", "t5")
        ]
        (g_m,) = threshold.threshold_decrypt(ceremony, total, partials, context, executor=SERIAL)
        tally = dlog(group, g_m, len(votes))
        elapsed = time.perf_counter() - started
        key = bytes(ceremony.joint_key).hex()[:16]
        print(f"  {name:<13} joint key {key}…  tally = {tally}  ({elapsed * 1000:.0f} ms)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``degcore`` command."""
    parser = argparse.ArgumentParser(
        prog="degcore", description="degcore: cryptographic core of remote e-voting"
    )
    parser.add_argument("--version", action="version", version=f"degcore {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="key ceremony, then encrypt, prove, add and threshold-decrypt a few votes over each group",
    )
    demo.add_argument("--group", choices=GROUP_NAMES, action="append", help="a group (default: all)")
    demo.add_argument("--votes", default="1,0,1,1,0", help="comma-separated 0/1 votes (default: 1,0,1,1,0)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        try:
            votes = [int(v) for v in args.votes.split(",")]
        except ValueError:
            parser.error("--votes must be comma-separated integers 0 or 1")
        if any(v not in (0, 1) for v in votes):
            parser.error("--votes must be 0 or 1")
        _demo(args.group or GROUP_NAMES, votes)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
