"""degcore's verifier against the conformance suite: the honest record passes, every case fails its checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from degcore.parallel import SERIAL
from degcore.verify import CATALOGUE, Outcome, verify_record
from tests.conformance.cases import build


@pytest.fixture(scope="module", params=["ristretto255", "secp256k1"])
def suite(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    out = tmp_path_factory.mktemp(f"conformance-{request.param}")
    return out, build(out, request.param)


def test_every_case_fails_exactly_its_checks(suite: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, expected = suite
    for case, must_fail in expected.items():
        report = verify_record(out / case, executor=SERIAL)
        failing = {c for c in CATALOGUE if report.check(c).outcome in (Outcome.FAIL, Outcome.ERROR)}
        assert set(must_fail) <= failing, (case, report.to_text())
        assert report.ok is (not must_fail), (case, report.to_text())
        if case != "honest":
            assert failing == set(must_fail), (case, failing)
