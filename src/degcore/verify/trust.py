"""The trust roots of a record: the signed index (V1), the signed setup (V14), eligibility (V15, V16, V18).

docs/verifier.md. The authority's key is the manifest's; every other key and rule comes from the
setup it signed. V15 checks what the registry and the issuer published against the keys the setup
names (the enrollment list and the issuance log); V18 checks that every credential issued was
asked for by an enrolled voter with her own key; V16 does the accounting per ballot style:
issued ≤ remote list, counted ≤ issued.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from degcore.ballot import ElectionContext, ElectionSetup, Manifest
from degcore.ballot.cosign import check_cosignatures
from degcore.ballot.setup import check_announcement, file_sha256
from degcore.chain import ChainEntry, verify_chain, verify_object
from degcore.encoding import from_rfc3339
from degcore.errors import DegcoreError, VerificationFailed
from degcore.issuance.enrollment import Enrollment, check_request_signature, parse_enrollment_line
from degcore.issuance.log import ISSUANCE_TAG, Closed, Issued, parse_issuance_line
from degcore.record import RecordReader, layout
from degcore.trustees.dkg import CeremonyConfig
from degcore.verify.report import CheckResult

__all__ = [
    "IssuanceFacts",
    "check_accounting",
    "check_cosigned",
    "check_eligibility",
    "check_index",
    "check_pins",
    "check_setup",
    "check_voter_authorised",
]


def check_index(check: CheckResult, index: Mapping[str, object], manifest: Manifest) -> None:
    """V1, second half: ``record.json`` is signed by the manifest's authority key."""
    try:
        verify_object(index, manifest.authority_key, "index")
    except DegcoreError as exc:
        check.fail(layout.INDEX, f"the authority's signature does not verify ({exc})")
    if index.get("election_id") != manifest.election_id:
        check.fail(layout.INDEX, "names another election than the manifest")


def check_setup(
    reader: RecordReader, check: CheckResult, context: ElectionContext, config: CeremonyConfig
) -> bool:
    """V14: the announcement and the setup, each signed by the authority and bound to what it names."""
    check.items = 2
    manifest = context.manifest
    try:
        check_announcement(reader.announcement(), manifest, config)
    except DegcoreError as exc:
        check.fail(layout.ANNOUNCEMENT, str(exc))
    setup = context.setup
    if setup is None:  # pragma: no cover - the verifier always builds its context with the setup
        check.fail(layout.SETUP, "missing")
        return False
    try:
        setup.check(manifest, context.ceremony)
    except DegcoreError as exc:
        check.fail(layout.SETUP, str(exc))
        return False
    check.note = f"box policy {setup.box_policy}; mix servers per contest: " + (
        ", ".join(f"{c} {len(s)}" for c, s in setup.mix_servers.items()) or "none"
    )
    return True


@dataclass
class IssuanceFacts:
    """What the issuance log says: credentials issued per ballot style (None if it could not be read)."""

    issued: Counter[str] | None = field(default_factory=Counter)
    #: Every ``issued`` entry that parsed, by position (for V18).
    entries: list[tuple[int, Issued]] = field(default_factory=list)
    #: The published enrollment list, voter reference → entry (None if it could not be read).
    enrolled: dict[bytes, Enrollment] | None = None


def check_eligibility(reader: RecordReader, check: CheckResult, setup: ElectionSetup) -> IssuanceFacts:
    """V15: the enrollment list and the issuance log, against the keys of the setup."""
    facts = IssuanceFacts(enrolled=_enrollment_list(reader, check, setup))
    entries: list[tuple[ChainEntry, Issued | Closed]] = []
    try:
        for number, line in enumerate(reader.lines(layout.ISSUANCE_LOG), start=1):
            check.items += 1
            try:
                entries.append(parse_issuance_line(line))
            except DegcoreError as exc:
                check.fail(f"issuance entry {number}", str(exc))
    except DegcoreError as exc:
        check.fail(layout.ISSUANCE_LOG, str(exc))
        facts.issued = None
        return facts
    try:
        verify_chain(
            ISSUANCE_TAG, (e for e, _ in entries), setup.issuance_key, check="V15", item="issuance entry"
        )
    except VerificationFailed as exc:
        check.fail(exc.subject, exc.detail)
    opens, closes = setup.issuance_window
    styles = set(setup.issuer_keys)
    refs: dict[bytes, int] = {}
    closed: Closed | None = None
    issued: Counter[str] = Counter()
    for entry, payload in entries:
        item = f"issuance entry {entry.position}"
        if closed is not None:
            check.fail(item, "an entry after the closing entry")
        if isinstance(payload, Closed):
            closed = payload
            continue
        if payload.ballot_style not in styles:
            check.fail(item, f"ballot style {payload.ballot_style!r} has no issuer key in the setup")
        if not opens <= from_rfc3339(entry.at) < closes:
            check.fail(item, f"issued at {entry.at}, outside the issuance window")
        if payload.voter_ref in refs:
            check.fail(item, f"voter reference already issued at entry {refs[payload.voter_ref]}")
        refs[payload.voter_ref] = entry.position
        issued[payload.ballot_style] += 1
        facts.entries.append((entry.position, payload))
    facts.issued = issued
    if closed is None:
        check.fail(layout.ISSUANCE_LOG, "the issuance log is not closed")
    elif dict(closed.issued) != {s: issued.get(s, 0) for s in sorted(styles)}:
        check.fail("issuance close", f"counts {dict(closed.issued)} differ from the entries")
    return facts


def _enrollment_list(
    reader: RecordReader, check: CheckResult, setup: ElectionSetup
) -> dict[bytes, Enrollment] | None:
    """The signed head, then every line: hash, order, unique keys, counts. The entries by reference."""
    check.items += 1
    try:
        head = reader.remote_list()
        head.verify(setup.registry_key)
    except DegcoreError as exc:
        check.fail(layout.REMOTE_LIST, str(exc))
        return None
    if file_sha256(head.to_json()) != setup.remote_list_sha256:
        check.fail(layout.REMOTE_LIST, "is not the file the setup names")
    if head.election_id != setup.election_id:
        check.fail(layout.REMOTE_LIST, "names another election")
    if dict(head.counts) != setup.remote_list_counts:
        check.fail(layout.REMOTE_LIST, "its counts are not the setup's")
    enrolled: dict[bytes, Enrollment] = {}
    keys: set[bytes] = set()
    digest, per_style, previous, number = hashlib.sha256(), Counter[str](), b"", 0
    try:
        for number, line in enumerate(reader.lines(layout.ENROLLMENT), start=1):
            check.items += 1
            digest.update(line)
            item = f"enrollment line {number}"
            try:
                entry = parse_enrollment_line(line)
            except DegcoreError as exc:
                check.fail(item, str(exc))
                continue
            # Strictly increasing references: one order, so one byte string for one list.
            if entry.voter_ref in enrolled:
                check.fail(item, "a voter reference listed twice")
            elif entry.voter_ref <= previous:
                check.fail(item, "out of voter-reference order")
            if entry.voter_key in keys:
                check.fail(item, "a voter key enrolled twice")
            previous = entry.voter_ref
            keys.add(entry.voter_key)
            enrolled[entry.voter_ref] = entry
            per_style[entry.ballot_style] += 1
    except DegcoreError as exc:
        check.fail(layout.ENROLLMENT, str(exc))
        return None
    if digest.digest() != head.entries_sha256:
        check.fail(layout.ENROLLMENT, "is not the list the registry signed (entries_sha256)")
    if number != head.entries or dict(per_style) != dict(head.counts):
        check.fail(
            layout.ENROLLMENT,
            f"{number} entries {dict(sorted(per_style.items()))}; the head: {head.entries} {head.counts}",
        )
    return enrolled


def check_voter_authorised(check: CheckResult, setup: ElectionSetup, facts: IssuanceFacts) -> None:
    """V18: every ``issued`` entry names an enrolled voter of its style who signed exactly that request."""
    if facts.enrolled is None:
        check.note = "the enrollment list could not be read (V15)"
        return
    for position, payload in facts.entries:
        check.items += 1
        item = f"issuance entry {position}"
        enrollment = facts.enrolled.get(payload.voter_ref)
        if enrollment is None:
            check.fail(item, "its voter reference is not on the enrollment list")
            continue
        if enrollment.ballot_style != payload.ballot_style:
            check.fail(
                item,
                f"ballot style {payload.ballot_style!r}; the voter's is {enrollment.ballot_style!r}",
            )
            continue
        try:
            check_request_signature(
                enrollment, setup.election_id, payload.request_sha256, payload.voter_signature
            )
        except VerificationFailed:
            check.fail(item, "the request is not signed by the voter's enrolled key")


def check_accounting(
    check: CheckResult, setup: ElectionSetup, issued: Counter[str] | None, counted: Iterable[str]
) -> None:
    """V16: per ballot style, credentials issued ≤ voters on the remote list, counted ballots ≤ issued."""
    if issued is None:
        check.note = "the issuance log could not be read (V15)"
        return
    remote = setup.remote_list_counts
    per_style = Counter(counted)
    for style in sorted(setup.issuer_keys):
        check.items += 1
        listed, got, cast = remote.get(style, 0), issued.get(style, 0), per_style.get(style, 0)
        if got > listed:
            check.fail(style, f"{got} credentials issued for {listed} voters on the remote list")
        if cast > got:
            check.fail(style, f"{cast} counted ballots for {got} credentials issued")


def check_cosigned(
    reader: RecordReader, check: CheckResult, setup: ElectionSetup, config: CeremonyConfig
) -> None:
    """V17: every role the setup names co-signs its hash exactly once, with the setup's key for it."""
    try:
        objects = reader.cosignatures()
        problems = check_cosignatures(setup, config, objects)
    except DegcoreError as exc:
        check.fail(layout.COSIGNATURES, str(exc))
        return
    check.items = len(objects)
    for role, why in problems:
        check.fail(role, why)


def check_pins(check: CheckResult, fingerprints: Mapping[str, str], pins: Mapping[str, str]) -> None:
    """V19: each pinned role exists in the setup and the setup names the pinned key for it."""
    if not pins:
        check.note = "no pins given"
        return
    for role, pinned in sorted(pins.items()):
        check.items += 1
        if role not in fingerprints:
            check.fail(role, "the setup names no such role")
        elif fingerprints[role] != pinned:
            check.fail(role, f"the setup names the key {fingerprints[role]}, pinned {pinned}")
