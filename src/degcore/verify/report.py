"""The verifier's report: one result per numbered check, with the failing items and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from degcore import __version__
from degcore.encoding import JsonValue, record_header
from degcore.errors import InvalidInput

__all__ = ["CATALOGUE", "DEPENDS", "CheckResult", "Outcome", "Report", "with_dependencies"]

#: Check id → title. The numbering is stable: docs/verifier.md explains each check.
CATALOGUE: dict[str, str] = {
    "V1": "Record files: the authority's signed index, every file regular, present and matching",
    "V2": "Manifest and parameters: group, election, ceremony configuration",
    "V3": "Key ceremony: every message signed by its trustee, every commitment proof, QUAL, joint key",
    "V4": "Issuer keys: one RSA key of at least 2048 bits per ballot style",
    "V5": "Ballot box log: positions, hash chain, box signatures, times, closing entry",
    "V6": "Ballots: credential, ballot signature, every proof, voting window",
    "V7": "One counted ballot per credential (the box's policy)",
    "V8": "Challenged ballots open correctly and are never cast",
    "V9": "Encrypted tally equals the product of the counted ballots",
    "V10": "Partial decryptions: signed by their trustees, every Chaum-Pedersen proof, trustees in QUAL",
    "V11": "Result equals the Lagrange combination and discrete logs of the partials",
    "V12": "Mix-net: every stage's shuffle proof, from the counted ballots to the last output",
    "V13": "Mix-net: every partial decryption of the last output signed and proved, trustees in QUAL",
    "V14": "Election setup: signed by the authority, bound to the manifest and the ceremony",
    "V15": "Eligibility: the registry's signed enrollment list and the issuer's signed issuance log",
    "V16": "Accounting per ballot style: issued <= remote list, counted <= issued",
    "V17": "Co-signed setup: every party the setup names signs its hash with that key",
    "V18": "Voter-authorised issuance: every credential issued was signed for by an enrolled voter's key",
    "V19": "Pinned keys: the setup names the pinned key of every pinned role",
}
#: Check id → the checks whose inputs it needs (``verify --checks`` runs these too).
DEPENDS: dict[str, tuple[str, ...]] = {
    "V1": ("V2",), "V2": (), "V3": ("V2",), "V4": ("V14",), "V5": ("V4",), "V6": ("V5",),
    "V7": ("V5",), "V8": ("V5",), "V9": ("V7",), "V10": ("V3", "V9", "V12"), "V11": ("V10",),
    "V12": ("V7",), "V13": ("V3", "V12"), "V14": ("V2",), "V15": ("V14",), "V16": ("V7", "V15"),
    "V17": ("V14",), "V18": ("V15",), "V19": ("V14",),
}  # fmt: skip
#: How many failing items a check lists (all are counted).
MAX_LISTED = 100


def with_dependencies(checks: Iterable[str]) -> frozenset[str]:
    """``checks`` and every check they depend on; InvalidInput names an unknown check id."""
    wanted = [c.strip().upper() for c in checks if c.strip()]
    unknown = [c for c in wanted if c not in CATALOGUE]
    if unknown:
        raise InvalidInput(f"unknown check {', '.join(unknown)}: the checks are {', '.join(CATALOGUE)}")
    out: set[str] = set()
    while wanted:
        check = wanted.pop()
        if check not in out:
            out.add(check)
            wanted.extend(DEPENDS[check])
    return frozenset(out)


class Outcome(StrEnum):
    """What happened to one check."""

    PASS = "pass"  # noqa: S105 - not a password
    FAIL = "fail"
    ERROR = "error"  # the check could not run (its input is missing or unreadable)
    SKIP = "skip"  # nothing to examine, or an input it depends on could not be built


@dataclass
class CheckResult:
    """One check: how many items it looked at and which failed, and why."""

    check_id: str
    items: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    failure_count: int = 0
    outcome: Outcome = Outcome.PASS
    note: str = ""

    @property
    def title(self) -> str:
        """The check's title from the catalogue."""
        return CATALOGUE[self.check_id]

    def fail(self, item: str, reason: str) -> None:
        """Record one failing item."""
        self.failure_count += 1
        self.outcome = Outcome.FAIL
        if len(self.failures) < MAX_LISTED:
            self.failures.append((item, reason))

    def to_json(self) -> dict[str, JsonValue]:
        """The JSON object of this check."""
        out: dict[str, JsonValue] = {
            "id": self.check_id,
            "title": self.title,
            "outcome": str(self.outcome),
            "items": self.items,
            "failures": self.failure_count,
            "failed_items": [{"item": i, "reason": r} for i, r in self.failures],
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Report:
    """Every check of one record, in catalogue order."""

    record: str
    checks: dict[str, CheckResult] = field(default_factory=dict)
    #: Checks that ran (the others are reported as skipped).
    checks_run: set[str] = field(default_factory=set)
    #: SHA-256 of ``record.json`` (which fixes every byte of the record), election id, authority key.
    record_sha256: str = ""
    #: The check running now (a failure nobody foresaw is reported as its ERROR).
    current: str = ""
    election_id: str = ""
    authority_key: str = ""
    #: The checks asked for with their dependencies (``verify --checks``); all if None.
    selected: frozenset[str] | None = None
    #: Every party's key fingerprint by role (docs/verifier.md §Fingerprints), from the setup.
    fingerprints: dict[str, str] = field(default_factory=dict)

    def finish(self) -> None:
        """Mark what did not run, what was not asked for, and what ran on nothing, as skipped."""
        for check_id in CATALOGUE:
            result = self.check(check_id)
            if self.selected is not None and check_id not in self.selected:
                self.checks[check_id] = CheckResult(check_id, outcome=Outcome.SKIP, note="not requested")
            elif check_id not in self.checks_run:
                result.outcome = Outcome.SKIP
                result.note = result.note or "not run: an input it needs could not be built"
            elif result.outcome is Outcome.PASS and result.items == 0:
                result.outcome = Outcome.SKIP
                result.note = result.note or "nothing to examine"

    def check(self, check_id: str) -> CheckResult:
        """The result object of ``check_id`` (created on first use)."""
        return self.checks.setdefault(check_id, CheckResult(check_id))

    @property
    def ok(self) -> bool:
        """Whether no check failed or errored (a check with nothing to examine is skipped)."""
        outcomes = [self.check(c).outcome for c in CATALOGUE]
        return Outcome.FAIL not in outcomes and Outcome.ERROR not in outcomes

    def to_json(self) -> dict[str, JsonValue]:
        """The machine-readable report (``degcore verify --json``)."""
        return {
            **record_header("verification-report"),
            "record": self.record,
            "verifier": f"degcore {__version__}",
            "record_sha256": self.record_sha256,
            "election_id": self.election_id,
            "authority_key": self.authority_key,
            "fingerprints": dict(self.fingerprints),
            "ok": self.ok,
            "selected": [c for c in CATALOGUE if c in self.selected] if self.selected else "all",
            "checks": [self.check(c).to_json() for c in CATALOGUE],
        }

    def to_text(self) -> str:
        """The human report."""
        lines = [
            f"degcore verify {self.record}  (degcore {__version__})",
            f"  record SHA-256 {self.record_sha256 or '(unreadable)'}",
            f"  election {self.election_id or '(unknown)'},"
            f" authority key {self.authority_key or '(unknown)'}",
        ]
        if self.selected is not None:
            chosen = ", ".join(c for c in CATALOGUE if c in self.selected)
            lines.append(f"  checks asked for, with what they depend on: {chosen}")
        for check_id in CATALOGUE:
            result = self.check(check_id)
            mark = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "skip": "SKIP"}[result.outcome]
            lines.append(f"  {check_id:<4} {mark:<5} {result.title} ({result.items} items)")
            if result.note:
                lines.append(f"             {result.note}")
            for item, reason in result.failures:
                lines.append(f"             - {item}: {reason}")
            if result.failure_count > len(result.failures):
                lines.append(f"             … and {result.failure_count - len(result.failures)} more")
        if self.fingerprints:
            lines.append("  key fingerprints (SHA-256 of each party's public key), by role:")
            lines.extend(f"    {role:<28} {value}" for role, value in self.fingerprints.items())
        lines.append("  ALL CHECKS PASSED" if self.ok else "  THE RECORD DOES NOT VERIFY")
        return "\n".join(lines)
