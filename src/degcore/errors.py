"""The degcore error tree (docs/architecture.md §1, the bottom layer).

Every error degcore raises on purpose derives from :class:`DegcoreError`, so a caller can tell
bad input (:class:`InvalidInput`) from a failed check (:class:`VerificationFailed`) from a policy
refusal (:class:`Ineligible`, :class:`RuleViolation`) from a storage fault (:class:`StorageError`).
Bugs surface as ordinary ``TypeError``/``AssertionError`` and are never wrapped here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "DegcoreError",
    "FieldError",
    "Ineligible",
    "IneligibleReason",
    "InvalidInput",
    "NonCanonical",
    "Rule",
    "RuleViolation",
    "StorageError",
    "UnsupportedFormat",
    "VerificationFailed",
    "WrongPassphrase",
    "reason_code",
]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of an input: where, a stable machine code, and human messages.

    ``message`` is English; ``message_ru`` is the same in Russian where the form faces Russian
    voters (the registry's validators fill both).
    """

    field: str
    code: str
    message: str
    message_ru: str = ""


class DegcoreError(Exception):
    """Root of every error degcore raises deliberately."""


class InvalidInput(DegcoreError, ValueError):
    """Malformed data: a bad encoding, a value outside its group or range, a failed field check."""

    def __init__(self, message: str, errors: tuple[FieldError, ...] | list[FieldError] = ()) -> None:
        super().__init__(message)
        self.errors: tuple[FieldError, ...] = tuple(errors)

    def __reduce__(self) -> tuple[object, ...]:  # keep the payload across worker processes
        return (type(self), (str(self), self.errors))


class NonCanonical(InvalidInput):
    """Parsed, but not byte-identical to the value's one canonical spelling."""


class UnsupportedFormat(InvalidInput):
    """An unknown format version, group name or record type."""


class WrongPassphrase(InvalidInput):
    """A sealed secret did not open: the passphrase is wrong or the file was altered."""


class VerificationFailed(DegcoreError):
    """A proof, signature, hash chain or equality check did not hold.

    ``check`` names the check (a proof name or a verifier catalogue id) and ``subject`` the object
    that failed it, so a report can say exactly which item is wrong.
    """

    def __init__(self, check: str, subject: str = "", detail: str = "") -> None:
        message = check if not subject else f"{check}: {subject}"
        if detail:
            message = f"{message}: {detail}"
        super().__init__(message)
        self.check = check
        self.subject = subject
        self.detail = detail

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.check, self.subject, self.detail))


class IneligibleReason(StrEnum):
    """Machine-readable reasons why a voter may not take part (stable across versions)."""

    UNDER_18 = "under_18"
    NOT_CITIZEN = "not_citizen"
    NOT_ON_LIST = "not_on_list"
    WRONG_DISTRICT = "wrong_district"
    DISENFRANCHISED = "disenfranchised"
    REMOTE_NOT_OFFERED = "remote_not_offered"
    VOTED_ON_PAPER = "voted_on_paper"
    OUTSIDE_REGISTRATION_WINDOW = "outside_registration_window"
    NOT_REMOTE_CHANNEL = "not_remote_channel"


class Ineligible(DegcoreError):
    """The voter is not eligible; ``reason`` says why in a machine-readable way."""

    def __init__(self, reason: IneligibleReason, message: str = "") -> None:
        super().__init__(message or str(reason))
        self.reason = reason

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.reason, str(self)))


class Rule(StrEnum):
    """Machine-readable names of the protocol's rules (stable across versions)."""

    OUTSIDE_WINDOW = "outside_window"
    CREDENTIAL_USED = "credential_used"
    ILLEGAL_TRANSITION = "illegal_transition"
    ALREADY_ISSUED = "already_issued"
    VOTED_ON_PAPER = "voted_on_paper"
    BALLOT_CHALLENGED = "ballot_challenged"
    BOX_CLOSED = "box_closed"
    NOT_ENOUGH_TRUSTEES = "not_enough_trustees"
    DISQUALIFIED = "disqualified"
    WRONG_CHANNEL = "wrong_channel"
    DUPLICATE_APPLICATION = "duplicate_application"
    CONSENT_REQUIRED = "consent_required"
    CODE_INVALID = "code_invalid"
    CODE_EXPIRED = "code_expired"
    CODE_LOCKED = "code_locked"
    ISSUANCE_CLOSED = "issuance_closed"
    TIME_ORDER = "time_order"
    KEY_IN_USE = "key_in_use"


class RuleViolation(DegcoreError):
    """A well-formed request that the rules forbid; ``rule`` names the rule."""

    def __init__(self, rule: Rule, message: str = "") -> None:
        super().__init__(message or str(rule))
        self.rule = rule

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.rule, str(self)))


class StorageError(DegcoreError):
    """The store failed; always raised ``from`` the underlying exception."""


def reason_code(exc: BaseException) -> str:
    """A refusal's code for an operational log: the rule, the ineligibility reason, the failed check.

    Never the message, which may name a voter or a value: a log must hold no personal data.
    """
    if isinstance(exc, RuleViolation):
        return str(exc.rule)
    if isinstance(exc, Ineligible):
        return str(exc.reason)
    if isinstance(exc, VerificationFailed):
        return exc.check
    return type(exc).__name__
