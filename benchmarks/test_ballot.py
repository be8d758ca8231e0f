"""A ballot-shaped workload per group: one contest of 5 options, encrypt with proofs, and verify."""

from __future__ import annotations

import pytest

from benchmarks._contest import encrypt_contest, verify_contest
from benchmarks.conftest import Reporter
from degcore.elgamal import keygen
from degcore.groups import GROUP_NAMES, get_group

CONTEXT = bytes(range(32))


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_encrypt_contest(report: Reporter, name: str) -> None:
    group = get_group(name)
    pk = keygen(group).public
    report(f"encrypt 5-option contest {name}", group, lambda: encrypt_contest(pk, CONTEXT))


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_verify_contest(report: Reporter, name: str) -> None:
    group = get_group(name)
    pk = keygen(group).public
    contest = encrypt_contest(pk, CONTEXT)
    report(f"verify 5-option contest {name}", group, lambda: verify_contest(pk, contest, CONTEXT))
