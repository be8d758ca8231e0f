"""Operational logs under `degcore.*`: refusals with their reason code, transitions, ceremony steps.

Each service is driven through what it logs (a registry application, issuance and its refusals,
casts and a refused cast, a ceremony by the trustee commands), and every record is searched for
the personal data, secrets and votes the services held: none may appear.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from degcore.board import BallotBox
from degcore.cli import main
from degcore.errors import DegcoreError
from degcore.groups import get_group
from degcore.issuance import Enrollment, Issuer, StaticEligibility, authorise_request, request_credential
from degcore.tools.trustee import PASSPHRASE_ENV
from degcore.trustees._sealed import MIN_SCRYPT_N
from tests.record_fixtures import BOX_KEY, DURING, cast, credential, issuer_key, setup_for
from tests.unit.registry.conftest import NOW, SNILS, VOTERS, confirmed, form, open_registry

PASSPHRASE = "correct horse battery staple 4471"  # noqa: S105 - the test's own
ISSUER_NOW = datetime(2026, 9, 1, 12, tzinfo=UTC)


def _registry(folder: Path) -> list[str]:
    """Personal data the registry handles."""
    with open_registry(folder / "registry.sqlite") as registry:
        registry.import_voters(VOTERS, now=NOW)
        confirmed(registry, "v1")
        with pytest.raises(DegcoreError):
            registry.create("v1", form("v1"), now=NOW)  # a second application
    f = form("v1")
    return [f["full_name"], f["birth_date"], f["passport_number"], f["snils"], f["phone"], SNILS["v1"]]


def _issuer(folder: Path) -> list[str]:
    log_key = SigningKey.generate()
    device = SigningKey.generate()
    enrolled = Enrollment(bytes(range(32)), bytes(device.verify_key), "a")
    oracle = StaticEligibility({"voter-4471-x": enrolled})
    with Issuer(
        folder / "issuer.sqlite", "e2026", {"a": issuer_key("a")}, oracle,
        log_key=log_key, window=(ISSUER_NOW - timedelta(hours=1), ISSUER_NOW + timedelta(days=1)),
    ) as issuer:  # fmt: skip
        request = request_credential(issuer_key("a").public_key(), "e2026", "a")
        signature = authorise_request(request, device, enrolled.voter_ref)
        issuer.issue("voter-4471-x", "a", request.blinded_msg, request_signature=signature, now=ISSUER_NOW)
        other = request_credential(issuer_key("a").public_key(), "e2026", "a")
        for voter in ("voter-4471-x", "stranger-9090"):  # again with another request; not on the list
            with pytest.raises(DegcoreError):
                issuer.issue(voter, "a", other.blinded_msg, request_signature=signature, now=ISSUER_NOW)
    return [
        "voter-4471-x",
        "stranger-9090",
        bytes(log_key).hex(),
        bytes(request.signing_key).hex(),
        bytes(device).hex(),
    ]


def _box(folder: Path) -> list[str]:
    context, _ = setup_for(get_group("ristretto255"))
    keys = {s: issuer_key(s).public_key() for s in ("a", "b")}
    wallet = credential("b")
    with BallotBox(folder / "box.sqlite", context, keys, BOX_KEY) as box:
        box.cast(cast(context, wallet, {"mayor": {"m2": 1}}), now=DURING)
        with pytest.raises(DegcoreError):
            box.cast(cast(context, wallet, {"mayor": {"m1": 1}}), now=DURING)
    return [bytes(BOX_KEY).hex(), bytes(wallet.signing_key).hex(), wallet.credential.id]


def _ceremony(folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    board = folder / "board"
    board.mkdir()
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    n = ["--scrypt-n", str(MIN_SCRYPT_N)]
    for who in ("a", "b"):
        key = ["--key", str(folder / f"{who}.key")]
        assert main(["trustee", "keygen", str(board), "--id", who, *key, *n]) == 0
    assert main(["trustee", "config", str(board), "--election-id", "e", "--group", "ristretto255",
                 "--threshold", "2", "--trustees", "a,b"]) == 0  # fmt: skip
    for step in ("commit", "deal", "receive", "answer", "finish"):
        for who in ("a", "b"):
            extra = ["--id", who, "--key", str(folder / f"{who}.key")] if step == "commit" else []
            extra += ["--share", str(folder / f"{who}.share")] if step == "finish" else []
            assert (
                main(["trustee", step, str(board), "--state", str(folder / f"{who}.sealed"), *n, *extra]) == 0
            )
    return [PASSPHRASE]


def test_services_log_what_they_refused_and_did_but_nothing_secret_or_personal(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG, logger="degcore")
    forbidden = _registry(tmp_path) + _issuer(tmp_path) + _box(tmp_path) + _ceremony(tmp_path, monkeypatch)
    capsys.readouterr()
    records = [r for r in caplog.records if r.name.startswith("degcore")]
    text = "\n".join(f"{r.name} {r.levelname} {r.getMessage()}" for r in records)
    # What an operator needs: each refusal with its reason code, transitions, ceremony steps.
    assert re.search(r"degcore\.board WARNING ballot [0-9a-f]{64} refused: credential_used", text)
    assert ("issuance refused: already_issued" in text and "issuance refused: not_on_list" in text) or (
        "issuance refused: " in text
    )
    assert "credential issued: ballot style a" in text
    assert re.search(r"application \S+: new -> draft", text) and "draft -> submitted" in text
    assert "registry create refused: duplicate_application" in text
    assert "ceremony: a committed" in text and "ceremony: b finished; 2 qualified" in text
    for secret in forbidden:
        assert secret not in text, secret
    # Votes: no option id of a cast ballot, no voter id of the registry's list.
    assert not re.search(r"\b(m1|m2|v1)\b", text)
