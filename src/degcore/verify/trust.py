"""The trust roots of a record: the signed index (V1), the signed setup (V14), eligibility (V15, V16).

docs/verifier.md. The authority's key is the manifest's; every other key and rule comes from the
setup it signed. V15 checks what the registry and the issuer published against the keys the setup
names; V16 does the accounting per ballot style: issued ≤ remote list, counted ≤ issued.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from degcore.ballot import ElectionContext, ElectionSetup, Manifest
from degcore.ballot.cosign import check_cosignatures
from degcore.ballot.setup import check_announcement, file_sha256
from degcore.chain import ChainEntry, verify_chain, verify_object
from degcore.encoding import from_rfc3339
from degcore.errors import DegcoreError, VerificationFailed
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


def check_eligibility(reader: RecordReader, check: CheckResult, setup: ElectionSetup) -> IssuanceFacts:
    """V15: the remote-list counts and the issuance log, against the keys of the setup."""
    _remote_list(reader, check, setup)
    facts = IssuanceFacts()
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
    facts.issued = issued
    if closed is None:
        check.fail(layout.ISSUANCE_LOG, "the issuance log is not closed")
    elif dict(closed.issued) != {s: issued.get(s, 0) for s in sorted(styles)}:
        check.fail("issuance close", f"counts {dict(closed.issued)} differ from the entries")
    return facts


def _remote_list(reader: RecordReader, check: CheckResult, setup: ElectionSetup) -> None:
    check.items += 1
    try:
        counts = reader.remote_list()
        verify_object(counts, setup.registry_key, "remote-list-counts")
    except DegcoreError as exc:
        check.fail(layout.REMOTE_LIST, str(exc))
        return
    if file_sha256(counts) != setup.remote_list_sha256:  # type: ignore[arg-type]
        check.fail(layout.REMOTE_LIST, "is not the file the setup names")
    if counts["election_id"] != setup.election_id:
        check.fail(layout.REMOTE_LIST, "names another election")


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
