"""The registry's data: the election's settings, an application, its history, the events it emits.

docs/registry.md. ``ElectionSettings`` also fixes the issuance window: by default credentials are
claimed from the close of registration (when the remote list is frozen) until voting ends; an
election may open it earlier with ``issuance_opens`` (withdrawal is then refused once a voter has
claimed her credential).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from degcore.errors import InvalidInput
from degcore.ids import check_id
from degcore.registry import fields
from degcore.registry.schedule import Schedule
from degcore.registry.status import RejectionReason, Status

__all__ = [
    "CONSENT_KINDS",
    "FORM_OPTIONAL",
    "FORM_REQUIRED",
    "Application",
    "ElectionSettings",
    "StatusChanged",
    "Transition",
    "reasons_of",
]

#: The two consents a submission needs (R17): personal-data processing and the remote-voting terms.
CONSENT_KINDS = ("personal_data", "remote_voting_terms")

FORM_REQUIRED: dict[str, fields.Validator] = {
    "full_name": fields.fio,
    "birth_date": fields.birth_date,
    "passport_series": fields.passport_series,
    "passport_number": fields.passport_number,
    "passport_issued": fields.date_ru,
    "passport_issuer": fields.text,
    "snils": fields.snils,
    "phone": fields.phone,
    "district": lambda v: check_id(v, "district"),
    "address": fields.text,
    "voter_key": fields.voter_key,
}
FORM_OPTIONAL: dict[str, fields.Validator] = {
    "division_code": fields.division_code,
    "inn": fields.inn,
    "email": fields.email,
}


@dataclass(frozen=True, slots=True)
class ElectionSettings:
    """What the registry needs to know about the election: id, calendar, where remote voting runs."""

    election_id: str
    schedule: Schedule
    remote_districts: frozenset[str]
    ballot_styles: Mapping[str, str]  # district → ballot style
    consent_versions: Mapping[str, str]  # consent kind → the version the portal shows now
    #: When credentials may first be claimed; None: at the close of registration (the freeze).
    issuance_opens: datetime | None = None

    def __post_init__(self) -> None:
        check_id(self.election_id, "election_id")
        if set(self.consent_versions) != set(CONSENT_KINDS):
            raise InvalidInput(f"consent_versions must name exactly {CONSENT_KINDS}")
        missing = sorted(set(self.remote_districts) - set(self.ballot_styles))
        if missing:
            raise InvalidInput(f"remote districts without a ballot style: {', '.join(missing)}")
        opens = self.issuance_opens
        if opens is not None:
            if not isinstance(opens, datetime):
                raise InvalidInput("issuance_opens must be a datetime")
            if opens.tzinfo is None:  # wall-clock time of the region, as in the schedule
                opens = opens.replace(tzinfo=self.schedule.zone)
                object.__setattr__(self, "issuance_opens", opens)
            if not self.schedule.registration_opens <= opens < self.schedule.voting_ends:
                raise InvalidInput("issuance_opens must lie between registration opening and voting end")

    @property
    def issuance_window(self) -> tuple[datetime, datetime]:
        """[opens, closes): by default from the close of registration until voting ends."""
        opens = self.schedule.closes if self.issuance_opens is None else self.issuance_opens
        return opens, self.schedule.voting_ends


@dataclass(frozen=True, slots=True)
class Application:
    """An application as stored: number, voter, district, status, reasons, link to a rejected one."""

    number: str
    voter_id: str
    district: str
    status: Status
    reasons: tuple[RejectionReason, ...]
    previous: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Transition:
    """One step of an application's history."""

    old: Status | None
    new: Status
    at: datetime
    actor: str
    reasons: tuple[RejectionReason, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """The event a portal turns into a notification."""

    number: str
    voter_id: str
    old: Status | None
    new: Status
    at: datetime
    reasons: tuple[RejectionReason, ...] = ()


def reasons_of(text: str) -> tuple[RejectionReason, ...]:
    """The reasons stored as comma-separated text."""
    return tuple(RejectionReason(r) for r in text.split(",") if r)
