"""The conformance cases: an honest record per group, and tampered copies with the check each must fail.

Every case damages the honest record in one way, playing one party with only its own key (the
fixtures' keys: the box's, the issuer's, a mix server's, the registry's; never the authority's,
who only signs the index of what it was given), and names the checks that must fail. A verifier
conforms when, for every case folder, it rejects the record and the checks it reports failing
include the expected ones (it may report more; degcore's own test asserts exactly these).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nacl.signing import SigningKey

from degcore.ballot import ElectionSetup
from degcore.ballot.cosign import cosign
from degcore.encoding import canonical_json
from degcore.record import layout
from tests.record_fixtures import (
    AUTHORITY,
    BOX_KEY,
    ISSUANCE_KEY,
    ISSUANCE_TAG,
    MIX_KEYS,
    REGISTRY_KEY,
    build_record,
    edit_json,
    lines,
    reindex,
    write_chain,
)

BOARD = b"degcore/4/board"
Mutation = Callable[[Path], None]


@dataclass(frozen=True, slots=True)
class Case:
    """One tampered copy: what was done, by whom, and the checks that must fail."""

    case_id: str
    description: str
    mutate: Mutation
    must_fail: tuple[str, ...]


def _log(root: Path, change: Callable[[list[dict]], None]) -> None:  # type: ignore[type-arg]
    entries = lines(root, layout.LOG)
    change(entries)
    write_chain(root, layout.LOG, "log-entry", BOARD, BOX_KEY, entries)


def _issuance(root: Path, change: Callable[[list[dict]], None]) -> None:  # type: ignore[type-arg]
    entries = lines(root, layout.ISSUANCE_LOG)
    change(entries)
    write_chain(root, layout.ISSUANCE_LOG, "issuance-entry", ISSUANCE_TAG, ISSUANCE_KEY, entries)


def _flip_scalar(hex_text: str) -> str:
    return hex_text[:-2] + ("00" if hex_text[-2:] != "00" else "01")


def _pretty(root: Path) -> None:
    path = root / layout.RESULT
    path.write_text(json.dumps(json.loads(path.read_bytes()), indent=1))
    reindex(root)


def _unlisted(root: Path) -> None:
    (root / "notes.txt").write_text("not part of the record")


def _foreign_box_key(root: Path) -> None:
    write_chain(root, layout.LOG, "log-entry", BOARD, SigningKey(bytes(32)), lines(root, layout.LOG))


def _policy(root: Path) -> None:
    edit_json(root, layout.SETUP, lambda s: s["box"].update(policy="last"))


def _drop_stage(root: Path) -> None:
    (root / layout.mix_stage_file("vote", 2)).unlink()
    reindex(root)


def _stage_swap(root: Path) -> None:
    def swap(stage: dict) -> None:  # type: ignore[type-arg]
        stage["rows"][0] = stage["rows"][1]

    edit_json(root, layout.mix_stage_file("vote", 1), swap, resign=MIX_KEYS[0])


def _count(root: Path) -> None:
    edit_json(root, layout.RESULT, lambda r: r["totals"]["mayor"].update(m0=r["totals"]["mayor"]["m0"] + 1))


def _proof(root: Path) -> None:
    def change(entries: list[dict]) -> None:  # type: ignore[type-arg]
        contest = entries[0]["payload"]["ballot"]["contests"][0]
        contest["proofs"][1] = _flip_scalar(contest["proofs"][1])

    _log(root, change)


def _close_early(root: Path) -> None:
    _log(root, lambda entries: entries[-1].update(at="2026-09-18T06:00:00Z"))


def _twice(root: Path) -> None:
    _log(root, lambda entries: entries.insert(8, dict(entries[0])))


def _duplicate_ref(root: Path) -> None:
    def change(entries: list[dict]) -> None:  # type: ignore[type-arg]
        entries[1]["payload"]["voter_ref"] = entries[0]["payload"]["voter_ref"]

    _issuance(root, change)


def _stuffed(root: Path) -> None:
    """Entries for three invented references (two in a, one in b) before the close, counts kept in range."""

    def change(entries: list[dict]) -> None:  # type: ignore[type-arg]
        close = entries.pop()
        template = entries[-1]  # the last issuance's time: times never decrease
        for i, style in enumerate(("a", "a", "b")):
            fake = json.loads(json.dumps(template))
            fake["payload"].update(voter_ref=f"{i + 1:02x}" * 32, ballot_style=style)
            entries.append(fake)
            close["payload"]["issued"][style] += 1
        entries.append(close)

    _issuance(root, change)


def _replayed_signature(root: Path) -> None:
    def change(entries: list[dict]) -> None:  # type: ignore[type-arg]
        entries[2]["payload"]["voter_signature"] = entries[0]["payload"]["voter_signature"]

    _issuance(root, change)


def _ghost_enrollment(root: Path) -> None:
    """The registry, with its own key, adds one enrollment (a key of its own) and re-signs the head."""
    path = root / layout.ENROLLMENT
    ghost = {"ballot_style": "a", "format": "degcore/4", "type": "enrollment", "voter_ref": "ff" * 32,
             "voter_key": bytes(SigningKey(bytes(range(7, 39))).verify_key).hex()}  # fmt: skip
    data = path.read_bytes() + canonical_json(ghost) + b"\n"
    path.write_bytes(data)

    def grow(head: dict) -> None:  # type: ignore[type-arg]
        head["counts"]["a"] += 1
        head["entries"] += 1
        head["entries_sha256"] = hashlib.sha256(data).hexdigest()

    edit_json(root, layout.REMOTE_LIST, grow, resign=REGISTRY_KEY)


def _unlogged_issuance(root: Path) -> None:
    """The issuer drops two style-b entries (and fixes its close): 2 counted ballots exceed 3 issued."""

    def change(entries: list[dict]) -> None:  # type: ignore[type-arg]
        b_entries = [e for e in entries if e["kind"] == "issued" and e["payload"]["ballot_style"] == "b"]
        for entry in b_entries[:2]:
            entries.remove(entry)
        entries[-1]["payload"]["issued"]["b"] -= 2

    _issuance(root, change)


def _partial(root: Path) -> None:
    def change(partial: dict) -> None:  # type: ignore[type-arg]
        partial["values"][0], partial["values"][1] = partial["values"][1], partial["values"][0]

    edit_json(root, layout.partial_file("t2"), change)


def _forged_commitment(root: Path) -> None:
    objects = lines(root, layout.COMMITMENTS)
    objects[1]["encryption_key"] = "00" * 32
    (root / layout.COMMITMENTS).write_bytes(b"".join(canonical_json(o) + b"\n" for o in objects))
    reindex(root)


def _no_box_cosignature(root: Path) -> None:
    kept = [c for c in lines(root, layout.COSIGNATURES) if c["role"] != "box"]
    (root / layout.COSIGNATURES).write_bytes(b"".join(canonical_json(o) + b"\n" for o in kept))
    reindex(root)


def _authority_swaps_box_key(root: Path) -> None:
    fake = SigningKey(bytes(range(7, 39)))  # the authority's own key for the box
    edit_json(
        root, layout.SETUP, lambda s: s["box"].update(key=bytes(fake.verify_key).hex()), resign=AUTHORITY
    )
    setup = ElectionSetup.from_json(json.loads((root / layout.SETUP).read_bytes()))
    objects = [
        cosign(fake, setup, "box") if c["role"] == "box" else c for c in lines(root, layout.COSIGNATURES)
    ]
    (root / layout.COSIGNATURES).write_bytes(b"".join(canonical_json(o) + b"\n" for o in objects))
    reindex(root)


CASES: tuple[Case, ...] = (
    Case(
        "v1-pretty-printed",
        "result.json pretty-printed (same values, other bytes), index re-signed",
        _pretty,
        ("V11",),
    ),
    Case("v1-unlisted-file", "a file the index does not list", _unlisted, ("V1",)),
    Case(
        "v5-foreign-box-key",
        "the box log re-signed with a key the setup does not name",
        _foreign_box_key,
        ("V5",),
    ),
    Case(
        "v5-close-before-voting-ends",
        "the box's close entry stamped before voting ends and before the ballots",
        _close_early,
        ("V5",),
    ),
    Case(
        "v6-altered-proof",
        "a range proof of the first ballot altered, the log re-signed by the box",
        _proof,
        ("V6",),
    ),
    Case(
        "v7-credential-twice",
        "the first ballot logged again before the close, re-signed by the box",
        _twice,
        ("V7",),
    ),
    Case(
        "v10-altered-partial",
        "trustee t2's partial decryption with two values swapped (the result names t2)",
        _partial,
        ("V10", "V11"),
    ),
    Case("v11-changed-count", "one count of result.json raised by one", _count, ("V11",)),
    Case(
        "v12-one-stage",
        "the second mix server's stage removed: one server alone",
        _drop_stage,
        ("V12", "V11"),
    ),
    Case(
        "v12-replaced-ballot",
        "mix server 1 replaced a row and re-signed its stage",
        _stage_swap,
        ("V12", "V11"),
    ),
    Case(
        "v14-policy-switched",
        "the setup's box policy changed without the authority's signature (so the base hash too)",
        _policy,
        ("V14", "V6", "V8", "V10", "V11", "V12", "V17"),
    ),
    Case(
        "v3-commitment-not-signed-by-its-trustee",
        "t2's round-1 message altered (its X25519 key) by someone without t2's signing key",
        _forged_commitment,
        ("V3",),
    ),
    Case(
        "v17-box-did-not-cosign",
        "the box's co-signature of the setup left out",
        _no_box_cosignature,
        ("V17",),
    ),
    Case(
        "v17-authority-swaps-the-box-key",
        "the authority alone names a box key of its own in the setup, re-signs the setup and forges "
        "the box's co-signature with that key; the other parties co-signed the genuine setup",
        _authority_swaps_box_key,
        ("V5", "V6", "V8", "V10", "V11", "V12", "V17"),
    ),
    Case(
        "v15-duplicate-reference",
        "the issuer logged one voter reference twice, re-signed",
        _duplicate_ref,
        ("V15", "V18"),
    ),
    Case(
        "v18-stuffed-under-invented-references",
        "the issuer logged three credentials under references of its own, within the counts, re-signed",
        _stuffed,
        ("V18",),
    ),
    Case(
        "v18-replayed-voter-signature",
        "the issuer copied one voter's request signature onto another voter's entry, re-signed",
        _replayed_signature,
        ("V18",),
    ),
    Case(
        "v15-registry-adds-an-enrollment",
        "the registry added an enrollment of its own to the published list and re-signed its head",
        _ghost_enrollment,
        ("V15",),
    ),
    Case(
        "v16-unlogged-credentials",
        "the issuer left two credentials of style b out of its log",
        _unlogged_issuance,
        ("V16",),
    ),
)


def build(out: Path, group: str) -> dict[str, list[str]]:
    """Write ``out/honest`` and one folder per case; return case id → the checks that must fail."""
    (out / "_work").mkdir(parents=True)
    honest = build_record(out / "_work", group).root
    shutil.copytree(honest, out / "honest")
    expected: dict[str, list[str]] = {"honest": []}
    for case in CASES:
        target = out / case.case_id
        shutil.copytree(honest, target)
        case.mutate(target)
        expected[case.case_id] = list(case.must_fail)
    shutil.rmtree(out / "_work")
    (out / "expected.json").write_bytes(canonical_json({"cases": expected}) + b"\n")  # type: ignore[arg-type]
    return expected


if __name__ == "__main__":  # pragma: no cover - python -m tests.conformance.cases OUT [GROUP]
    import sys

    build(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "ristretto255")
