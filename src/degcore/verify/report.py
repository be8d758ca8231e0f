"""The verifier's report: one result per numbered check, with the failing items and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from degcore.encoding import JsonValue, record_header

__all__ = ["CATALOGUE", "CheckResult", "Outcome", "Report"]

#: Check id → title. The numbering is stable: docs/verifier.md explains each check.
CATALOGUE: dict[str, str] = {
    "V1": "Record files are present and match the hashes of the index",
    "V2": "Manifest and parameters: group, election, ceremony configuration",
    "V3": "Key ceremony: every commitment proof, QUAL, joint key and verification keys",
    "V4": "Issuer keys: one RSA key of at least 2048 bits per ballot style",
    "V5": "Ballot box log: positions, hash chain, box signatures, closing entry",
    "V6": "Ballots: credential, ballot signature, every proof, voting window",
    "V7": "One counted ballot per credential (the box's policy)",
    "V8": "Challenged ballots open correctly and are never cast",
    "V9": "Encrypted tally equals the product of the counted ballots",
    "V10": "Partial decryptions: every Chaum-Pedersen proof, trustees in QUAL",
    "V11": "Result equals the Lagrange combination and discrete logs of the partials",
    "V12": "Mix-net: every stage's shuffle proof, from the counted ballots to the last output",
    "V13": "Mix-net: every partial decryption of the last output, trustees in QUAL",
}
#: How many failing items a check lists (all are counted).
MAX_LISTED = 100


class Outcome(StrEnum):
    """What happened to one check."""

    PASS = "pass"  # noqa: S105 - not a password
    FAIL = "fail"
    ERROR = "error"  # the check could not run (its input is missing or unreadable)
    SKIP = "skip"  # an earlier check it depends on did not pass


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

    def check(self, check_id: str) -> CheckResult:
        """The result object of ``check_id`` (created on first use)."""
        return self.checks.setdefault(check_id, CheckResult(check_id))

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(self.check(c).outcome is Outcome.PASS for c in CATALOGUE)

    def to_json(self) -> dict[str, JsonValue]:
        """The machine-readable report (``degcore verify --json``)."""
        return {
            **record_header("verification-report"),
            "record": self.record,
            "ok": self.ok,
            "checks": [self.check(c).to_json() for c in CATALOGUE],
        }

    def to_text(self) -> str:
        """The human report."""
        lines = [f"degcore verify {self.record}"]
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
        lines.append("  ALL CHECKS PASSED" if self.ok else "  THE RECORD DOES NOT VERIFY")
        return "\n".join(lines)
