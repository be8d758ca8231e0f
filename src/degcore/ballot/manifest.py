"""The election manifest: contests, ballot styles, districts, voting window, group, authority key.

docs/architecture.md §2 step 1, docs/protocol.md §8.1. A manifest is checked as a whole: every problem is
reported at once as a :class:`FieldError` (duplicate ids, min > max, unknown group, a style without
contests, references to unknown contests or styles, a window that ends before it starts). Its
canonical JSON (RFC 8785) is what the election's base hash covers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from degcore.encoding import (
    JsonValue,
    canonical_json,
    from_hex,
    from_rfc3339,
    read_record,
    record_header,
    to_rfc3339,
)
from degcore.errors import FieldError, InvalidInput
from degcore.groups import GROUP_NAMES
from degcore.ids import ID_PATTERN

__all__ = ["BallotStyle", "Contest", "District", "Manifest", "Option"]

#: How a contest is counted.
TALLY_METHODS = ("homomorphic", "mixnet")
#: A cumulative contest lets a voter give an option at most this many votes.
MAX_VOTES_PER_OPTION = 16


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of a contest."""

    option_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Contest:
    """Choose between ``min_selections`` and ``max_selections`` votes, at most ``max_per_option`` each.

    ``tally`` is ``homomorphic`` (the option totals are decrypted) or ``mixnet`` (the ballots'
    rows are shuffled by the mix servers and each is decrypted: a published list of anonymous
    ballots, docs/mixnet.md).
    """

    contest_id: str
    name: str
    options: tuple[Option, ...]
    min_selections: int
    max_selections: int
    max_per_option: int = 1
    tally: str = "homomorphic"


@dataclass(frozen=True, slots=True)
class BallotStyle:
    """The contests one group of voters sees (one issuer key per style)."""

    style_id: str
    contests: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class District:
    """An electoral district and the ballot style its voters get."""

    district_id: str
    name: str
    style_id: str


@dataclass(frozen=True, slots=True)
class Manifest:
    """Everything the authority fixes before the key ceremony."""

    election_id: str
    name: str
    group: str
    time_zone: str
    voting_starts: datetime
    voting_ends: datetime
    authority_key: bytes
    contests: tuple[Contest, ...]
    styles: tuple[BallotStyle, ...]
    districts: tuple[District, ...]

    def __post_init__(self) -> None:
        errors = _problems(self)
        if errors:
            raise InvalidInput(f"manifest: {len(errors)} problem(s)", errors)

    def contest(self, contest_id: str) -> Contest:
        """The contest with this id."""
        for contest in self.contests:
            if contest.contest_id == contest_id:
                return contest
        raise InvalidInput(f"no contest {contest_id!r} in the manifest")

    def style(self, style_id: str) -> BallotStyle:
        """The ballot style with this id."""
        for style in self.styles:
            if style.style_id == style_id:
                return style
        raise InvalidInput(f"no ballot style {style_id!r} in the manifest")

    def voting_open(self, now: datetime) -> bool:
        """Whether ``now`` lies in [voting_starts, voting_ends)."""
        return self.voting_starts <= now < self.voting_ends

    def to_json(self) -> dict[str, JsonValue]:
        """The canonical JSON object (``manifest.json`` in the record)."""
        return {
            **record_header("manifest"),
            "election_id": self.election_id,
            "name": self.name,
            "group": self.group,
            "time_zone": self.time_zone,
            "voting_starts": to_rfc3339(self.voting_starts),
            "voting_ends": to_rfc3339(self.voting_ends),
            "authority_key": self.authority_key.hex(),
            "contests": [
                {
                    "contest_id": c.contest_id,
                    "name": c.name,
                    "options": [{"option_id": o.option_id, "name": o.name} for o in c.options],
                    "min_selections": c.min_selections,
                    "max_selections": c.max_selections,
                    "max_per_option": c.max_per_option,
                    "tally": c.tally,
                }
                for c in self.contests
            ],
            "ballot_styles": [{"style_id": s.style_id, "contests": list(s.contests)} for s in self.styles],
            "districts": [
                {"district_id": d.district_id, "name": d.name, "style_id": d.style_id} for d in self.districts
            ],
        }

    def canonical(self) -> bytes:
        """The canonical bytes the base hash covers."""
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, obj: object) -> Manifest:
        """Parse strictly and validate."""
        keys = {"election_id", "name", "group", "time_zone", "voting_starts", "voting_ends", "authority_key"}
        f = read_record(obj, "manifest", keys | {"contests", "ballot_styles", "districts"})
        try:
            contests = tuple(
                Contest(
                    c["contest_id"],
                    c["name"],
                    tuple(Option(o["option_id"], o["name"]) for o in c["options"]),
                    c["min_selections"],
                    c["max_selections"],
                    c["max_per_option"],
                    c["tally"],
                )
                for c in f["contests"]  # type: ignore[attr-defined]
            )
            styles = tuple(BallotStyle(s["style_id"], tuple(s["contests"])) for s in f["ballot_styles"])  # type: ignore[attr-defined]
            districts = tuple(
                District(d["district_id"], d["name"], d["style_id"])
                for d in f["districts"]  # type: ignore[attr-defined]
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInput(f"manifest: malformed contests, styles or districts ({exc!r})") from None
        return cls(
            f["election_id"], f["name"], f["group"], f["time_zone"],  # type: ignore[arg-type]
            from_rfc3339(f["voting_starts"], "voting_starts"), from_rfc3339(f["voting_ends"], "voting_ends"),
            from_hex(f["authority_key"], 32, "authority_key"), contests, styles, districts,
        )  # fmt: skip


def _problems(m: Manifest) -> list[FieldError]:
    errors: list[FieldError] = []

    def bad(field: str, code: str, message: str) -> None:
        errors.append(FieldError(field, code, message))

    _check_id(m.election_id, "election_id", bad)
    _check_name(m.name, "name", bad)
    if m.group not in GROUP_NAMES:
        bad("group", "unknown_group", f"unknown group {m.group!r}; known: {', '.join(GROUP_NAMES)}")
    try:
        ZoneInfo(m.time_zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        bad("time_zone", "unknown_time_zone", f"unknown IANA time zone {m.time_zone!r}")
    aware = all(isinstance(t, datetime) and t.tzinfo is not None for t in (m.voting_starts, m.voting_ends))
    if not aware:
        bad("voting_starts", "naive_time", "voting times must be timezone-aware")
    elif not m.voting_starts < m.voting_ends:
        bad("voting_ends", "window", "voting must end after it starts")
    if not isinstance(m.authority_key, bytes) or len(m.authority_key) != 32:
        bad("authority_key", "bad_key", "the authority key is a 32-byte Ed25519 public key")
    contest_ids = _unique([c.contest_id for c in m.contests], "contests", bad)
    for i, c in enumerate(m.contests):
        _check_contest(c, f"contests[{i}]", bad)
    style_ids = _unique([s.style_id for s in m.styles], "ballot_styles", bad)
    for i, s in enumerate(m.styles):
        _check_id(s.style_id, f"ballot_styles[{i}].style_id", bad)
        if not s.contests:
            bad(f"ballot_styles[{i}].contests", "empty", "a ballot style needs at least one contest")
        _unique(list(s.contests), f"ballot_styles[{i}].contests", bad)
        for contest in s.contests:
            if contest not in contest_ids:
                bad(f"ballot_styles[{i}].contests", "unknown_contest", f"no contest {contest!r}")
    _check_districts(m.districts, style_ids, bad)
    return errors


def _check_districts(districts: tuple[District, ...], style_ids: set[str], bad: Bad) -> None:
    _unique([d.district_id for d in districts], "districts", bad)
    for i, d in enumerate(districts):
        _check_id(d.district_id, f"districts[{i}].district_id", bad)
        _check_name(d.name, f"districts[{i}].name", bad)
        if d.style_id not in style_ids:
            bad(f"districts[{i}].style_id", "unknown_style", f"no ballot style {d.style_id!r}")
    if not districts:
        bad("districts", "empty", "an election needs at least one district")


Bad = Callable[[str, str, str], None]


def _check_id(value: object, field: str, bad: Bad) -> None:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        bad(field, "bad_id", f"{value!r} is not a valid id")


def _check_name(value: object, field: str, bad: Bad) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 200 or not value.isprintable():
        bad(field, "bad_name", "a name is 1 to 200 printable characters")


def _check_contest(c: Contest, at: str, bad: Bad) -> None:
    _check_id(c.contest_id, f"{at}.contest_id", bad)
    _check_name(c.name, f"{at}.name", bad)
    _unique([o.option_id for o in c.options], f"{at}.options", bad)
    for j, o in enumerate(c.options):
        _check_id(o.option_id, f"{at}.options[{j}].option_id", bad)
        _check_name(o.name, f"{at}.options[{j}].name", bad)
    if not c.options:
        bad(f"{at}.options", "empty", "a contest needs at least one option")
    if c.tally not in TALLY_METHODS:
        bad(f"{at}.tally", "unknown_tally", f"tally must be one of {', '.join(TALLY_METHODS)}")
    if not all(type(n) is int for n in (c.min_selections, c.max_selections, c.max_per_option)):
        bad(at, "not_integer", "selection limits must be integers")
        return
    if not 1 <= c.max_per_option <= MAX_VOTES_PER_OPTION:
        bad(f"{at}.max_per_option", "range", f"max_per_option must be in [1, {MAX_VOTES_PER_OPTION}]")
    if c.min_selections < 0 or c.min_selections > c.max_selections:
        bad(f"{at}.min_selections", "min_above_max", "need 0 <= min_selections <= max_selections")
    if c.max_selections > len(c.options) * c.max_per_option or c.max_selections < 1:
        bad(f"{at}.max_selections", "range", "max_selections must be in [1, options × max_per_option]")


def _unique(ids: list[str], field: str, bad: Bad) -> set[str]:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            bad(field, "duplicate_id", f"{value!r} appears twice")
        seen.add(value)
    return seen
