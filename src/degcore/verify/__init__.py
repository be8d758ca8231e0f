"""The auditor's verifier: ``verify_record(path, executor=None)`` re-checks a whole election record.

It depends only on what is published (docs/architecture.md §1): never on the registry or the box's
store. docs/verifier.md lists the checks; the report says, check by check, what holds.
"""

from __future__ import annotations

from degcore.verify.report import CATALOGUE, CheckResult, Outcome, Report
from degcore.verify.verifier import verify_record, verify_tally_inputs

__all__ = ["CATALOGUE", "CheckResult", "Outcome", "Report", "verify_record", "verify_tally_inputs"]
