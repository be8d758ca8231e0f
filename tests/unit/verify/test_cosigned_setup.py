"""No party names another's key alone: the co-signed setup (V17), signed trustee messages, pins (V19).

Each test plays one dishonest party with exactly its own keys (the fixtures' keys) and has the
authority sign the index of whatever it was given, as in test_trust_roots.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from degcore.ballot import ElectionSetup
from degcore.ballot.cosign import check_cosignatures, cosign, fingerprint, parse_pins, setup_roles
from degcore.cli import main
from degcore.encoding import FORMAT, canonical_json
from degcore.errors import InvalidInput
from degcore.parallel import SERIAL
from degcore.record import layout
from degcore.verify import Outcome, Report, verify_record
from tests.record_fixtures import (
    AUTHORITY,
    BOX_KEY,
    REGISTRY_KEY,
    TRUSTEES,
    Built,
    build_record,
    cosignatures,
    edit_json,
    lines,
    party_keys,
    reindex,
)
from tests.trustee_keys import trustee_key

#: The authority's own key for the box (it runs the box itself, under a key of its own).
FAKE_BOX = SigningKey(bytes(range(7, 39)))


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_record(tmp_path_factory.mktemp("honest"))


@pytest.fixture
def record(honest: Built, tmp_path: Path) -> Path:
    shutil.copytree(honest.root, tmp_path / "record")
    return tmp_path / "record"


def _verify(root: Path, **pins: str) -> Report:
    return verify_record(root, executor=SERIAL, pins={k.replace("_", ":"): v for k, v in pins.items()})


def _fails(report: Report, check_id: str, item: str, reason: str = "") -> None:
    result = report.check(check_id)
    assert result.outcome is Outcome.FAIL, (check_id, report.to_text())
    assert any(item == i and reason in r for i, r in result.failures), (check_id, result.failures)
    assert not report.ok


def _write_lines(root: Path, name: str, objects: list[dict]) -> None:  # type: ignore[type-arg]
    (root / name).write_bytes(b"".join(canonical_json(o) + b"\n" for o in objects))
    reindex(root)


def test_the_honest_record_is_cosigned_by_every_party_and_lists_their_fingerprints(honest: Built) -> None:
    report = _verify(honest.root)
    assert report.ok, report.to_text()
    assert report.check("V17").outcome is Outcome.PASS and report.check("V17").items == 10
    assert report.check("V19").outcome is Outcome.SKIP and report.check("V19").note == "no pins given"
    roles = set(report.fingerprints)
    assert roles == {"authority", "box", "registry", "issuer-log", "issuer:a", "issuer:b",
                     "mix:vote:mix-1", "mix:vote:mix-2", *(f"trustee:{t}" for t in TRUSTEES)}  # fmt: skip
    assert report.fingerprints["box"] == fingerprint(bytes(BOX_KEY.verify_key))
    assert report.fingerprints["authority"] == fingerprint(bytes(AUTHORITY.verify_key))
    assert report.to_json()["fingerprints"] == report.fingerprints
    assert f"trustee:t3{' ' * 19}{fingerprint(bytes(trustee_key('t3').verify_key))}" in report.to_text()
    pinned = _verify(
        honest.root, box=report.fingerprints["box"], trustee_t1=report.fingerprints["trustee:t1"]
    )
    assert pinned.ok and pinned.check("V19").outcome is Outcome.PASS and pinned.check("V19").items == 2


@pytest.mark.parametrize("role", sorted(party_keys()))
def test_a_party_that_did_not_cosign_is_named(record: Path, role: str) -> None:
    _write_lines(
        record, layout.COSIGNATURES, [c for c in lines(record, layout.COSIGNATURES) if c["role"] != role]
    )
    report = _verify(record)
    _fails(report, "V17", role, "did not co-sign")
    assert [c for c in report.checks if report.check(c).outcome is not Outcome.PASS] == ["V17", "V19"]


def test_the_registry_alone_cannot_cosign_another_setup_or_twice(record: Path, honest: Built) -> None:
    """The registry signs, with its own key, a co-signature of another setup hash and a second line."""
    objects = lines(record, layout.COSIGNATURES)
    setup = honest.context.setup
    assert setup is not None
    other = ElectionSetup({**setup.to_json(), "election_id": "e2027"})
    objects = [cosign(REGISTRY_KEY, other, "registry") if c["role"] == "registry" else c for c in objects]
    objects.append(cosign(REGISTRY_KEY, setup, "registry"))
    _write_lines(record, layout.COSIGNATURES, objects)
    report = _verify(record)
    _fails(report, "V17", "registry", "co-signs another setup")
    _fails(report, "V17", "registry", "co-signed twice")
    extra = [*objects, cosign(REGISTRY_KEY, setup, "archivist")]
    _write_lines(record, layout.COSIGNATURES, extra)
    _fails(
        _verify(record), "V17", f"co-signature {len(extra)}", "role 'archivist' is not one the setup names"
    )


def test_the_authority_alone_swapping_the_box_key_fails_v17_naming_the_box(record: Path) -> None:
    """It re-signs the setup and the index with its own key, but holds no other party's key."""
    fake = bytes(FAKE_BOX.verify_key).hex()
    edit_json(record, layout.SETUP, lambda s: s["box"].update(key=fake), resign=AUTHORITY)
    report = _verify(record)
    assert report.check("V14").outcome is Outcome.PASS  # the authority's own signature holds
    _fails(report, "V17", "box", "signed with a key other than the one the setup names")
    _fails(report, "V17", "registry", "co-signs another setup")  # the others co-signed the old setup
    # Forging the box's co-signature with its own key does not help: the others still name the old setup.
    setup = ElectionSetup.from_json(json.loads((record / layout.SETUP).read_bytes()))
    objects = [
        cosign(FAKE_BOX, setup, "box") if c["role"] == "box" else c
        for c in lines(record, layout.COSIGNATURES)
    ]
    _write_lines(record, layout.COSIGNATURES, objects)
    report = _verify(record)
    assert not any(item == "box" for item, _ in report.check("V17").failures)
    _fails(report, "V17", "issuer-log", "co-signs another setup")


def test_an_authority_that_runs_the_box_under_its_own_key_is_caught_only_by_a_pin(tmp_path: Path) -> None:
    """From the start the setup names the authority's box key, and it co-signs as the box: V17 passes.

    The genuine box published its fingerprint; an observer who pins it fails the record, naming the box.
    """
    built = build_record(tmp_path, box_key=FAKE_BOX)
    report = _verify(built.root)
    assert report.ok, report.to_text()
    genuine = fingerprint(bytes(BOX_KEY.verify_key))
    pinned = _verify(built.root, box=genuine)
    _fails(pinned, "V19", "box", f"pinned {genuine}")
    assert [c for c in pinned.checks if pinned.check(c).outcome is Outcome.FAIL] == ["V19"]
    pins = tmp_path / "pins.txt"
    pins.write_text(f"# published by each party\nbox = {genuine.upper()}  # the box's own page\n\n")
    assert main(["verify", str(built.root), "--pins", str(pins), "--quiet"]) == 1
    assert (
        main(["verify", str(built.root), "--pin", f"registry={report.fingerprints['registry']}", "--quiet"])
        == 0
    )


def test_a_pin_of_an_unknown_role_fails_and_a_malformed_pin_is_a_usage_error(
    honest: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fails(
        verify_record(honest.root, executor=SERIAL, pins={"mix:vote:mix-9": "ab" * 32}),
        "V19",
        "mix:vote:mix-9",
        "no such role",
    )
    assert main(["verify", str(honest.root), "--pin", "box=12", "--quiet"]) == 2
    assert "--pin: the fingerprint of box must be 64 hex digits" in capsys.readouterr().err
    bad = tmp_path / "pins.txt"
    bad.write_text("box\n")
    assert main(["verify", str(honest.root), "--pins", str(bad), "--quiet"]) == 2
    assert f"{bad} line 1: 'box' is not ROLE=FINGERPRINT" in capsys.readouterr().err
    with pytest.raises(InvalidInput, match="pinned twice"):
        parse_pins([f"box={'a' * 64}", f"box={'b' * 64}"])
    assert parse_pins(["  # only a comment", f"trustee:t1={'A' * 64}"]) == {"trustee:t1": "a" * 64}


def test_check_cosignatures_and_the_roles_the_setup_names(honest: Built) -> None:
    setup, config = honest.context.setup, honest.context.ceremony.config
    assert setup is not None
    roles = setup_roles(setup, config)
    assert list(roles) == sorted(roles) and roles["trustee:t2"] == config.signing_key("t2")
    assert check_cosignatures(setup, config, cosignatures(setup)) == []
    wrong = cosignatures(setup, box=FAKE_BOX)
    assert check_cosignatures(setup, config, wrong) == [
        ("box", "signed with a key other than the one the setup names for this role")
    ]
    tampered = [{**c, "role": "box"} if c["role"] == "registry" else c for c in cosignatures(setup)]
    assert ("box", "co-signed twice") in check_cosignatures(setup, config, tampered)


# --- the trustees' messages, signed with their roster keys ------------------------------------------------
def test_a_ceremony_message_altered_without_its_trustees_key_fails_v3_naming_it(record: Path) -> None:
    """The board (or the authority) changes t2's complaint-free round-1 message; it cannot re-sign it."""
    objects = lines(record, layout.COMMITMENTS)
    objects[1]["encryption_key"] = "00" * 32
    _write_lines(record, layout.COMMITMENTS, objects)
    report = _verify(record)
    _fails(report, "V3", "dkg-commitment of t2", "signature does not verify under t2's roster key")


def test_a_forged_complaint_fails_v3_naming_accuser_and_accused(record: Path) -> None:
    ceremony = lines(record, layout.COMMITMENTS)[0]["ceremony"]
    forged = {"format": FORMAT, "type": "dkg-complaint", "ceremony": ceremony, "accuser": "t4",
              "accused": "t1", "reason": "invalid_share", "signature": "00" * 64}  # fmt: skip
    _write_lines(record, layout.COMPLAINTS, [forged])
    _fails(_verify(record), "V3", "dkg-complaint of t4 against t1", "signature does not verify")


def test_a_partial_decryption_altered_by_the_tallier_fails_v10_naming_the_trustee(record: Path) -> None:
    def swap(partial: dict) -> None:  # type: ignore[type-arg]
        partial["values"][0], partial["values"][1] = partial["values"][1], partial["values"][0]

    edit_json(record, layout.partial_file("t2"), swap)
    _fails(_verify(record), "V10", "t2", "signature does not verify under t2's roster key")


def test_a_trustee_signing_its_own_wrong_mix_partial_fails_v13_on_the_proof(record: Path) -> None:
    name = layout.mix_partial_file("vote", "t3")

    def swap(partial: dict) -> None:  # type: ignore[type-arg]
        partial["values"][0], partial["values"][1] = partial["values"][1], partial["values"][0]

    edit_json(record, name, swap, resign=trustee_key("t3"))
    report = _verify(record)
    _fails(report, "V13", "vote/t3", "proof fails")
