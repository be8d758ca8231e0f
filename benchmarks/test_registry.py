"""Registry throughput: importing a voter list and processing applications end to end (rows/s).

Sizes come from the environment so that CI can run a small version:
``DEGCORE_BENCH_VOTERS`` (default 1,000,000) and ``DEGCORE_BENCH_APPLICATIONS`` (default 100,000).
There are no group operations here, so the report is throughput, not an operation-bound ratio.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from nacl.signing import SigningKey

from benchmarks.conftest import record_throughput
from degcore.registry import ElectionSettings, Registry, Schedule

VOTERS = int(os.environ.get("DEGCORE_BENCH_VOTERS", "1000000"))
APPLICATIONS = int(os.environ.get("DEGCORE_BENCH_APPLICATIONS", "100000"))
NOW = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)
SETTINGS = ElectionSettings(
    "bench",
    Schedule("Europe/Moscow", datetime(2026, 8, 1), datetime(2026, 9, 18, 8), datetime(2026, 9, 20, 20)),
    frozenset({"d1", "d2"}),
    {"d1": "s1", "d2": "s2"},
    {"personal_data": "1", "remote_voting_terms": "1"},
)
NAMES = ("Иванов Иван Иванович", "Петрова Анна-Мария Сергеевна", "Сидоров Пётр Ильич")


def _born(i: int) -> str:
    return f"{1 + i % 28:02d}.{1 + i % 12:02d}.{1940 + i % 60}"


def _extract(count: int) -> str:
    rows = ["voter_id,full_name,birth_date,citizenship,district,disenfranchised"]
    rows += [f"voter-{i},{NAMES[i % 3]},{_born(i)},RU,d{1 + i % 2},0" for i in range(count)]
    return "\n".join(rows) + "\n"


def _snils(i: int) -> str:
    number = f"{2_000_000 + i:09d}"
    total = sum(int(d) * (9 - k) for k, d in enumerate(number))
    return f"{number}{total % 101 % 100:02d}"


def _form(i: int) -> dict[str, str]:
    return {
        "full_name": NAMES[i % 3],
        "birth_date": _born(i),
        "passport_series": "4510",
        "passport_number": f"{i:06d}",
        "passport_issued": "01.01.2010",
        "passport_issuer": "ОВД района",
        "snils": _snils(i),
        "phone": f"+7912{i:07d}",
        "district": f"d{1 + i % 2}",
        "address": "Москва, ул. Тверская, д. 1",
        "voter_key": _voter_key(i),
    }


def _voter_key(i: int) -> str:
    """The public half of voter i's device key (deterministic, so every run enrols the same keys)."""
    seed = hashlib.sha256(f"bench device {i}".encode()).digest()
    return bytes(SigningKey(seed).verify_key).hex()


def _registry(tmp_path: Path) -> Registry:
    path = tmp_path / f"{secrets.token_hex(4)}.sqlite"
    return Registry(path, SETTINGS, code_key=secrets.token_bytes(32), signing_key=SigningKey.generate())


def test_import_voter_list(benchmark: object, tmp_path: Path) -> None:
    """Parse, validate and store the whole extract in one transaction."""
    text = _extract(VOTERS)
    benchmark.pedantic(  # type: ignore[attr-defined]
        lambda reg: reg.import_voters(text, now=NOW), setup=lambda: ((_registry(tmp_path),), {}), rounds=1
    )
    record_throughput(benchmark, f"import {VOTERS:,} voters", VOTERS, "rows")


def _process(reg: Registry, count: int) -> None:
    for i in range(count):
        app = reg.create(f"voter-{i}", _form(i), now=NOW)
        reg.consent(app.number, "personal_data", "1", now=NOW)
        reg.consent(app.number, "remote_voting_terms", "1", now=NOW)
        reg.submit(app.number, now=NOW)
        reg.start_review(app.number, now=NOW, actor="operator")
        reg.approve(app.number, now=NOW, actor="operator")
        reg.confirm(app.number, reg.issue_code(app.number, now=NOW), now=NOW)


def test_applications_end_to_end(benchmark: object, tmp_path: Path) -> None:
    """Draft, two consents, submit, review, approve, code, confirm: 8 audited transactions each."""
    reg = _registry(tmp_path)
    reg.import_voters(_extract(APPLICATIONS), now=NOW)
    benchmark.pedantic(lambda: _process(reg, APPLICATIONS), rounds=1)  # type: ignore[attr-defined]
    record_throughput(benchmark, f"{APPLICATIONS:,} applications end to end", APPLICATIONS, "applications")
    assert reg.verify_audit().ok
