"""The error hierarchy of docs/architecture.md §6."""

from __future__ import annotations

import pickle

import degcore
from degcore.errors import (
    DegcoreError,
    FieldError,
    Ineligible,
    IneligibleReason,
    InvalidInput,
    NonCanonical,
    Rule,
    RuleViolation,
    StorageError,
    UnsupportedFormat,
    VerificationFailed,
)


def test_hierarchy() -> None:
    for cls in (InvalidInput, VerificationFailed, Ineligible, RuleViolation, StorageError):
        assert issubclass(cls, DegcoreError)
    assert issubclass(InvalidInput, ValueError)
    assert issubclass(NonCanonical, InvalidInput)
    assert issubclass(UnsupportedFormat, InvalidInput)
    assert not issubclass(VerificationFailed, InvalidInput)
    assert not issubclass(DegcoreError, ValueError)


def test_error_payloads() -> None:
    e = InvalidInput("bad form", [FieldError("snils", "checksum", "control number mismatch")])
    assert e.errors[0].code == "checksum"
    v = VerificationFailed("dleq", "trustee-2", "challenge mismatch")
    assert (v.check, v.subject) == ("dleq", "trustee-2")
    assert "trustee-2" in str(v)
    assert Ineligible(IneligibleReason.UNDER_18).reason == "under_18"
    assert RuleViolation(Rule.CREDENTIAL_USED).rule == "credential_used"


def test_top_level_exports_only_version_format_and_errors() -> None:
    assert degcore.FORMAT == "degcore/4"
    assert set(degcore.__all__) == {
        "FORMAT",
        "__version__",
        "DegcoreError",
        "FieldError",
        "Ineligible",
        "InvalidInput",
        "NonCanonical",
        "RuleViolation",
        "StorageError",
        "UnsupportedFormat",
        "WrongPassphrase",
        "VerificationFailed",
    }


def test_errors_keep_their_payload_through_pickle() -> None:
    """Errors raised in worker processes reach the caller intact."""
    cases = [
        InvalidInput("bad form", [FieldError("snils", "checksum", "control number mismatch")]),
        VerificationFailed("dleq", "trustee-2", "challenge mismatch"),
        Ineligible(IneligibleReason.UNDER_18, "too young"),
        RuleViolation(Rule.NOT_ENOUGH_TRUSTEES, "2 of 3"),
        degcore.WrongPassphrase("no"),
    ]
    for error in cases:
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert vars(copy) == vars(error)
