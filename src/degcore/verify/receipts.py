"""The voter's own check: is my ballot in the published log, where my receipt says, and was it counted?

docs/verifier.md §Receipts, docs/protocol.md §9.4. :func:`find_ballot` looks a tracking code up in a
record's box log; :func:`check_receipt` also checks the receipt itself: the box's signature (under
the box key of the signed setup) on the election, tracking code, position, payload hash and entry
hash, and that the log's entry at that position is exactly that entry. A receipt that names another
entry, or a ballot the log does not hold, is evidence that the box cheated: keep it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from degcore.ballot import ElectionContext, ElectionSetup
from degcore.board.cast import Receipt
from degcore.board.log import TAG as BOARD_TAG
from degcore.chain import ChainEntry, link_hash, parse_entry_line
from degcore.encoding import JsonValue, canonical_json, from_hex
from degcore.errors import DegcoreError, InvalidInput, VerificationFailed
from degcore.hashing import sha256
from degcore.record import RecordReader, layout, load_context

__all__ = ["BallotStatus", "Lookup", "check_receipt", "find_ballot", "record_setup"]


class BallotStatus(StrEnum):
    """Where a tracking code stands in the published log."""

    COUNTED = "counted"
    SUPERSEDED = "superseded"  # policy "last": a later ballot of the same credential counts
    CHALLENGED = "challenged"  # opened by its voter (Benaloh): published, never counted
    NOT_FOUND = "not found"


@dataclass(frozen=True, slots=True)
class Lookup:
    """The answer for one tracking code (and receipt, if one was given)."""

    tracking_code: str
    status: BallotStatus
    position: int = 0
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """The ballot is in the log and the receipt, if any, holds."""
        return self.status is not BallotStatus.NOT_FOUND and not self.problems

    def to_json(self) -> dict[str, JsonValue]:
        """The machine-readable answer."""
        return {
            "tracking_code": self.tracking_code,
            "status": str(self.status),
            "position": self.position,
            "ok": self.ok,
            "problems": list(self.problems),
        }


def find_ballot(record: str | Path, tracking_code: str) -> Lookup:
    """Look a tracking code up in the record's box log (streamed)."""
    from_hex(tracking_code, 32, "tracking code")
    reader = RecordReader(record)
    return _scan(reader, record_setup(reader), tracking_code, None)


def check_receipt(record: str | Path, receipt: object) -> Lookup:
    """Check a receipt against the record: its box signature, and the log entry it names."""
    parsed = Receipt.from_json(receipt)
    reader = RecordReader(record)
    context = load_context(reader.root)
    setup = record_setup(reader, context)
    problems = []
    try:
        parsed.verify(setup.box_key, context.base_hash)
    except VerificationFailed as exc:
        problems.append(f"the receipt does not hold under the setup's box key: {exc.detail or exc}")
    expected = (parsed.position, parsed.payload_hash, parsed.entry_hash)
    found = _scan(reader, setup, parsed.tracking_code, expected)
    return Lookup(parsed.tracking_code, found.status, found.position, tuple(problems) + found.problems)


def record_setup(reader: RecordReader, context: ElectionContext | None = None) -> ElectionSetup:
    """The record's setup, checked (``load_context`` verifies it against the manifest's authority)."""
    setup = (context or load_context(reader.root)).setup
    if setup is None:  # pragma: no cover - load_context always reads the setup
        raise InvalidInput("the record has no election setup")
    return setup


def _scan(
    reader: RecordReader, setup: ElectionSetup, code: str, expected: tuple[int, bytes, bytes] | None
) -> Lookup:
    verifier = VerifyKey(setup.box_key)
    found: tuple[int, str, str] | None = None  # position, kind, credential
    later_ballot_of_credential = False
    problems: list[str] = []
    for number, line in enumerate(reader.lines(layout.LOG), start=1):
        try:
            entry, obj = parse_entry_line("log-entry", line, f"log line {number}")
        except DegcoreError as exc:
            problems.append(str(exc))
            continue
        payload = obj["payload"]
        kind, entry_code, credential = _describe(entry.kind, payload)
        if expected is not None and entry.position == expected[0]:
            problems.extend(_compare_entry(entry, entry_code, code, expected, verifier))
        if entry_code == code and found is None:
            found = (entry.position, kind, credential)
        elif found is not None and kind == "ballot" and credential == found[2]:
            later_ballot_of_credential = True
    if found is None:
        return Lookup(code, BallotStatus.NOT_FOUND, 0, tuple(problems))
    position, kind, _ = found
    if kind == "challenge":
        status = BallotStatus.CHALLENGED
    elif later_ballot_of_credential and setup.box_policy == "last":
        status = BallotStatus.SUPERSEDED
    else:
        status = BallotStatus.COUNTED
    return Lookup(code, status, position, tuple(problems))


def _describe(kind: str, payload: object) -> tuple[str, str, str]:
    """(kind, tracking code, credential id) of a log entry, from its payload's JSON alone."""
    if not isinstance(payload, Mapping):
        return kind, "", ""
    ballot = payload.get("ballot")
    if not isinstance(ballot, Mapping):
        return kind, "", ""
    code = sha256(b"degcore/4/ballot", canonical_json(ballot)).hex()
    credential = payload.get("credential")
    key = credential.get("public_key", "") if isinstance(credential, Mapping) else ""
    return kind, code, str(key)


def _compare_entry(
    entry: ChainEntry, entry_code: str, code: str, expected: tuple[int, bytes, bytes], verifier: VerifyKey
) -> list[str]:
    _, payload_hash, entry_hash = expected
    problems = []
    if entry_code != code:
        problems.append(f"the log's entry {expected[0]} holds another ballot than the receipt names")
    if sha256(entry.payload) != payload_hash:
        problems.append(f"the log's entry {expected[0]} has another payload than the receipt names")
    if entry.hash != entry_hash:
        problems.append(f"the log's entry {expected[0]} has another hash than the receipt names")
    recomputed = link_hash(
        BOARD_TAG, entry.prev, entry.position, kind=entry.kind, payload=entry.payload, at=entry.at
    )
    try:
        verifier.verify(entry.hash, entry.signature)
    except BadSignatureError:
        problems.append(f"the log's entry {expected[0]} is not signed by the box")
    if recomputed != entry.hash:
        problems.append(f"the log's entry {expected[0]} does not hash to its published hash")
    return problems
