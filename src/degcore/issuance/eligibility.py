"""The eligibility interface the issuer consults (the registry implements it; DESIGN.md §2).

``issuance`` never imports ``registry``: the registry provides an object satisfying
:class:`EligibilityOracle`. :class:`StaticEligibility` is a small in-memory implementation for
tests and demonstrations.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from degcore.errors import Ineligible, IneligibleReason

__all__ = ["EligibilityOracle", "StaticEligibility"]


class EligibilityOracle(Protocol):
    """Decides whether an authenticated voter may receive a credential for a ballot style."""

    def check_credential_eligibility(
        self, voter_id: str, election_id: str, ballot_style: str, now: datetime
    ) -> None:
        """Return if the voter may get a credential for ``ballot_style`` now; raise Ineligible otherwise."""
        ...


class StaticEligibility:
    """A fixed map voter id → ballot style (everyone listed is eligible for exactly their style)."""

    def __init__(self, styles: Mapping[str, str]) -> None:
        self._styles = dict(styles)

    def check_credential_eligibility(
        self, voter_id: str, election_id: str, ballot_style: str, now: datetime
    ) -> None:
        """Raise Ineligible(NOT_ON_LIST) for unknown voters, (WRONG_DISTRICT) for another style."""
        style = self._styles.get(voter_id)
        if style is None:
            raise Ineligible(IneligibleReason.NOT_ON_LIST, f"voter {voter_id!r} is not on the list")
        if style != ballot_style:
            raise Ineligible(
                IneligibleReason.WRONG_DISTRICT, f"voter {voter_id!r} votes with another ballot style"
            )
