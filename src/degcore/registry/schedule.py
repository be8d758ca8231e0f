"""The election calendar of one region: registration and voting windows in its IANA time zone.

REQUIREMENTS.md §1.4, §3.5, C16, C17. Times may be given as local wall-clock times of the region
(naive ``datetime``) or as aware ones; they are stored aware. The default close of registration
is 24 hours before voting starts (000:L190); the list of remote voters is frozen then, and
withdrawal is possible until that moment (C17). Every check takes ``now`` as a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from degcore.errors import InvalidInput

__all__ = ["DEFAULT_CLOSE_BEFORE_VOTING", "DEFAULT_RETENTION", "Schedule", "require_aware"]

DEFAULT_CLOSE_BEFORE_VOTING = timedelta(hours=24)
#: Personal data is kept this long after voting ends (appeals), then purged.
DEFAULT_RETENTION = timedelta(days=30)


def require_aware(now: datetime, what: str = "now") -> datetime:
    """Refuse naive datetimes: a deadline compared with wall-clock time of an unknown zone is a bug."""
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput(f"{what} must be a timezone-aware datetime")
    return now


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidInput(f"unknown IANA time zone {name!r}") from None


@dataclass(frozen=True, slots=True)
class Schedule:
    """Registration opens ≤ closes ≤ voting starts < voting ends, in the region's time zone."""

    time_zone: str
    registration_opens: datetime
    voting_starts: datetime
    voting_ends: datetime
    registration_closes: datetime | None = None
    retention: timedelta = DEFAULT_RETENTION
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        zone = _zone(self.time_zone)
        object.__setattr__(self, "zone", zone)
        for name in ("registration_opens", "voting_starts", "voting_ends", "registration_closes"):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, datetime):
                raise InvalidInput(f"schedule.{name} must be a datetime")
            if value.tzinfo is None:  # wall-clock time of the region
                object.__setattr__(self, name, value.replace(tzinfo=zone))
        if self.registration_closes is None:
            object.__setattr__(self, "registration_closes", self.voting_starts - DEFAULT_CLOSE_BEFORE_VOTING)
        if not self.registration_opens < self.closes <= self.voting_starts < self.voting_ends:
            raise InvalidInput("schedule: need registration opens < closes <= voting starts < voting ends")
        if self.retention < timedelta(0):
            raise InvalidInput("schedule: retention must not be negative")

    @property
    def closes(self) -> datetime:
        """When registration closes (and the list of remote voters is frozen)."""
        closes = self.registration_closes
        if closes is None:  # pragma: no cover - __post_init__ always sets it
            raise TypeError("schedule without a registration close")
        return closes

    @property
    def election_day(self) -> date:
        """The last day of voting in the region: a voter must be 18 by then (R1)."""
        return (self.voting_ends - timedelta(microseconds=1)).astimezone(self.zone).date()

    def registration_open(self, now: datetime) -> bool:
        """Whether applications are accepted at ``now``."""
        return self.registration_opens <= require_aware(now) < self.closes

    def voting_open(self, now: datetime) -> bool:
        """Whether ``now`` is inside [voting_starts, voting_ends)."""
        return self.voting_starts <= require_aware(now) < self.voting_ends

    def purge_due(self, now: datetime) -> bool:
        """Whether the retention period after voting has passed."""
        return require_aware(now) >= self.voting_ends + self.retention

    def local(self, moment: datetime) -> datetime:
        """``moment`` on the region's wall clock."""
        return require_aware(moment, "moment").astimezone(self.zone)
