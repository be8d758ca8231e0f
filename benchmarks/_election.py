"""The benchmarks' election: one contest of five options (choose one), ristretto255, 3 of 5 trustees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.trustee_keys import local_ceremony, test_config

from degcore.ballot import BallotStyle, Contest, District, ElectionContext, Manifest, Option
from degcore.groups import get_group
from degcore.trustees.threshold import TrusteeShare

STARTS = datetime(2026, 9, 18, 5, tzinfo=UTC)
#: A moment while the benchmark election's voting runs.
DURING = STARTS.replace(hour=8)
TRUSTEES = ("t1", "t2", "t3", "t4", "t5")


def bench_election() -> tuple[ElectionContext, dict[str, TrusteeShare]]:
    """A fresh context (new ceremony) and the trustees' shares."""
    manifest = Manifest(
        "bench", "Benchmark", "ristretto255", "Europe/Moscow", STARTS, STARTS + timedelta(days=2), bytes(32),
        (Contest("c", "Contest", tuple(Option(f"o{i}", f"Option {i}") for i in range(5)), 1, 1),),
        (BallotStyle("s", ("c",)),), (District("d", "District", "s"),),
    )  # fmt: skip
    result, shares = local_ceremony(test_config("bench", get_group("ristretto255"), 3, TRUSTEES))
    return ElectionContext(manifest, result), shares
