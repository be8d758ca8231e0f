"""Every file of an election record, in one place (docs/record.md)."""

from __future__ import annotations

__all__ = [
    "ANNOUNCEMENT",
    "ANSWERS",
    "COMMITMENTS",
    "COMPLAINTS",
    "CONFIG",
    "COSIGNATURES",
    "DKG_RESULT",
    "ENCRYPTED_TALLY",
    "ENROLLMENT",
    "INDEX",
    "ISSUANCE_LOG",
    "LOG",
    "MANIFEST",
    "MIX",
    "PARTIALS",
    "REMOTE_LIST",
    "RESULT",
    "SETUP",
    "mix_partial_file",
    "mix_stage_file",
    "partial_file",
]

INDEX = "record.json"
MANIFEST = "manifest.json"
ANNOUNCEMENT = "setup/announcement.json"
SETUP = "setup/setup.json"
COSIGNATURES = "setup/cosignatures.jsonl"
REMOTE_LIST = "eligibility/remote-list.json"
ENROLLMENT = "eligibility/enrollment.jsonl"
ISSUANCE_LOG = "issuance/log.jsonl"
CONFIG = "ceremony/config.json"
COMMITMENTS = "ceremony/commitments.jsonl"
COMPLAINTS = "ceremony/complaints.jsonl"
ANSWERS = "ceremony/answers.jsonl"
DKG_RESULT = "ceremony/result.json"
LOG = "box/log.jsonl"
ENCRYPTED_TALLY = "tally/encrypted_tally.json"
PARTIALS = "tally/partials"
RESULT = "tally/result.json"
MIX = "mix"


def partial_file(trustee_id: str) -> str:
    """The file of one trustee's partial decryption."""
    return f"{PARTIALS}/{trustee_id}.json"


def mix_stage_file(contest_id: str, stage: int) -> str:
    """Stage ``stage`` (1-based) of a mix-net contest's cascade: output rows and shuffle proof."""
    return f"{MIX}/{contest_id}/stage-{stage}.json"


def mix_partial_file(contest_id: str, trustee_id: str) -> str:
    """One trustee's partial decryption of a mix-net contest's last output (rows flattened)."""
    return f"{MIX}/{contest_id}/partials/{trustee_id}.json"
