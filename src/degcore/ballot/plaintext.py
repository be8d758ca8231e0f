"""A voter's choices, checked against the ballot style before anything is encrypted.

A plaintext that breaks a contest's rules (an unknown contest or option, more votes than an option
allows, a total outside [min, max]) is refused with field errors; nothing is encrypted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from degcore.ballot.manifest import Manifest
from degcore.errors import FieldError, InvalidInput

__all__ = ["PlaintextBallot"]


@dataclass(frozen=True, slots=True)
class PlaintextBallot:
    """Votes per option per contest of one ballot style; options left out get 0."""

    style_id: str
    selections: Mapping[str, Mapping[str, int]]

    def votes(self, manifest: Manifest) -> dict[str, tuple[int, ...]]:
        """Check the ballot against the manifest; the votes of each contest of the style, in option order."""
        style = manifest.style(self.style_id)
        errors: list[FieldError] = []
        for contest_id in self.selections:
            if contest_id not in style.contests:
                errors.append(FieldError(contest_id, "unknown_contest", "not a contest of this ballot style"))
        out: dict[str, tuple[int, ...]] = {}
        for contest_id in style.contests:
            contest = manifest.contest(contest_id)
            chosen = dict(self.selections.get(contest_id, {}))
            option_ids = [o.option_id for o in contest.options]
            for option_id, count in chosen.items():
                where = f"{contest_id}.{option_id}"
                if option_id not in option_ids:
                    errors.append(FieldError(where, "unknown_option", "not an option of this contest"))
                elif (
                    not isinstance(count, int)
                    or isinstance(count, bool)
                    or not 0 <= count <= contest.max_per_option
                ):
                    errors.append(
                        FieldError(where, "votes", f"an option takes 0 to {contest.max_per_option} votes")
                    )
            votes = tuple(chosen.get(o, 0) for o in option_ids)
            total = sum(v for v in votes if isinstance(v, int))
            if not contest.min_selections <= total <= contest.max_selections:
                errors.append(
                    FieldError(
                        contest_id,
                        "selections",
                        f"{total} votes; allowed {contest.min_selections} to {contest.max_selections}",
                    )
                )
            out[contest_id] = votes
        if errors:
            raise InvalidInput(f"ballot breaks the contest rules: {len(errors)} problem(s)", errors)
        return out
