"""The report of ``degcore vmnv``: one :class:`CheckResult` per check, gathered in a :class:`RunReport`."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FAIL", "PASS", "SKIP", "TYPES", "CheckResult", "RunReport"]

PASS, FAIL, SKIP = "pass", "fail", "skip"

#: vmn's session types (``MixNetElGamalSession``: MIX_TYPE, SHUFFLE_TYPE, DECRYPT_TYPE).
TYPES = ("mixing", "shuffling", "decryption")


@dataclass
class CheckResult:
    """One check of the run: an id, its outcome, what failed (and which equation), derived values."""

    id: str
    title: str
    outcome: str
    detail: str = ""
    equation: str = ""
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class RunReport:
    """The verdict on a run and every check behind it."""

    protinfo: str
    proof_dir: str
    kind: str
    width: int
    ciphertexts: int
    values: dict[str, str] = field(default_factory=dict)
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passed (a skipped required check is not a pass)."""
        return bool(self.checks) and all(c.outcome == PASS for c in self.checks)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (``degcore vmnv --json``)."""
        return {
            "format": "degcore/4/vmnv-report",
            "verified": self.ok,
            "protinfo": self.protinfo,
            "proof_dir": self.proof_dir,
            "type": self.kind,
            "width": self.width,
            "ciphertexts": self.ciphertexts,
            "values": self.values,
            "checks": [
                {
                    "id": c.id,
                    "title": c.title,
                    "outcome": c.outcome,
                    "detail": c.detail,
                    "equation": c.equation,
                }
                | ({"values": c.values} if c.values else {})
                for c in self.checks
            ],
        }

    def to_text(self) -> str:
        """A human-readable report."""
        lines = [
            f"Verificatum run {self.proof_dir} "
            f"({self.kind}, {self.ciphertexts} ciphertexts of width {self.width})"
        ]
        for c in self.checks:
            lines.append(
                f"  [{c.outcome.upper():4}] {c.id}: {c.title}" + (f" — {c.detail}" if c.detail else "")
            )
        lines.append("VERIFIED" if self.ok else "NOT VERIFIED")
        return "\n".join(lines)
