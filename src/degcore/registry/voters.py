"""The voter list: loading the register extract, and the eligibility rules (REQUIREMENTS.md §1.1, C2, C3).

The extract is CSV (UTF-8, comma-separated, a header row) with exactly these columns:

| column | content |
|---|---|
| ``voter_id`` | the register's id of the person (letters, digits, ``.``, ``_``, ``-``; ≤ 64) |
| ``full_name`` | ФИО as in the passport (Cyrillic, :func:`degcore.registry.fields.fio`) |
| ``birth_date`` | ДД.ММ.ГГГГ |
| ``citizenship`` | ``RU`` for a citizen of the Russian Federation, any other ISO code or ``none`` otherwise |
| ``district`` | the electoral district of the place of permanent registration (an id) |
| ``disenfranchised`` | ``0``/``1`` (also ``нет``/``да``, ``false``/``true``) |

Every row is checked; any bad row fails the whole import with an InvalidInput listing each
problem as ``FieldError("row N: column", code, message)``; nothing is half-imported.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from degcore.errors import FieldError, IneligibleReason, InvalidInput
from degcore.ids import ID_PATTERN
from degcore.registry import fields
from degcore.registry.schedule import Schedule
from degcore.storage import Transaction

__all__ = ["COLUMNS", "SELECT_VOTER", "VoterRecord", "age_on", "assess", "import_rows", "parse_rows"]

COLUMNS = ("voter_id", "full_name", "birth_date", "citizenship", "district", "disenfranchised")
_FLAGS = {"0": False, "1": True, "false": False, "true": True, "нет": False, "да": True}
#: Above this many bad rows the report stops listing them (the file is plainly wrong).
MAX_REPORTED_ERRORS = 1000
#: The query :meth:`VoterRecord.from_row` reads.
SELECT_VOTER = (
    "SELECT voter_id, full_name, birth_date, citizen, district, disenfranchised, channel, voted_on_paper,"
    " claimed_style FROM voters WHERE voter_id = ?"
)


@dataclass(frozen=True, slots=True)
class VoterRecord:
    """One person on the voter list, their channel (``paper`` by default, or ``remote``), their claim.

    ``credential_style`` is the ballot style of the credential the voter claimed, if any.
    """

    voter_id: str
    full_name: str
    birth_date: date
    citizen: bool
    district: str
    disenfranchised: bool
    channel: str = "paper"
    voted_on_paper: bool = False
    credential_style: str | None = None

    @classmethod
    def from_row(cls, row: Sequence[object]) -> VoterRecord:
        """From a row of :data:`SELECT_VOTER`."""
        vid, name, born, citizen, district, disenfranchised, channel, paper, claimed = row
        return cls(
            str(vid), str(name), date.fromisoformat(str(born)), bool(citizen), str(district),
            bool(disenfranchised), str(channel), bool(paper), None if claimed is None else str(claimed),
        )  # fmt: skip


def _parse_row(number: int, row: dict[str, str], errors: list[FieldError]) -> tuple[object, ...] | None:
    before = len(errors)

    def bad(column: str, code: str) -> None:
        en, ru = fields.MESSAGES.get(code, (code, code))
        errors.append(FieldError(f"row {number}: {column}", code, en, ru))

    voter_id = row.get("voter_id") or ""
    if not ID_PATTERN.fullmatch(voter_id):
        bad("voter_id", "bad_id")
    district = row.get("district") or ""
    if not ID_PATTERN.fullmatch(district):
        bad("district", "bad_id")
    parsed: dict[str, object] = {}
    for column, check in (("full_name", fields.fio), ("birth_date", fields.date_ru)):
        try:
            parsed[column] = check(row.get(column))
        except fields.BadField as exc:
            bad(column, exc.code)
    citizenship = (row.get("citizenship") or "").strip()
    if not citizenship:
        bad("citizenship", "required")
    flag = _FLAGS.get((row.get("disenfranchised") or "").strip().lower())
    if flag is None:
        bad("disenfranchised", "not_a_flag")
    if len(errors) > before:
        return None
    return (
        voter_id,
        parsed["full_name"],
        str(parsed["birth_date"]),  # date.__str__ is ISO 8601
        int(citizenship.upper() == "RU"),
        district,
        int(bool(flag)),
    )


def parse_rows(source: str | Iterable[str]) -> list[tuple[object, ...]]:
    """Parse and check a whole extract; raise InvalidInput listing every bad row (row 1 is the header)."""
    lines = io.StringIO(source) if isinstance(source, str) else source
    reader = csv.DictReader(lines)
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise InvalidInput(
            f"the voter list must have the columns {', '.join(COLUMNS)}; got {reader.fieldnames}"
        )
    errors: list[FieldError] = []
    rows: list[tuple[object, ...]] = []
    seen: set[str] = set()
    for number, row in enumerate(reader, start=2):
        if None in row or any(v is None for v in row.values()):
            errors.append(FieldError(f"row {number}", "column_count", "wrong number of columns"))
            continue
        parsed = _parse_row(number, row, errors)
        if parsed is not None:
            if parsed[0] in seen:
                errors.append(FieldError(f"row {number}: voter_id", "duplicate", "voter_id appears twice"))
            seen.add(str(parsed[0]))
            rows.append(parsed)
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
    if errors:
        raise InvalidInput(f"voter list: {len(errors)} problem(s), nothing imported", errors)
    return rows


def import_rows(
    conn: Transaction,
    rows: Sequence[tuple[object, ...]],
    integrity_errors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,),
) -> int:
    """Insert parsed rows (inside the caller's transaction); a voter already on the list is an error."""
    try:
        conn.executemany(
            "INSERT INTO voters (voter_id, full_name, birth_date, citizen, district, disenfranchised)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
    except integrity_errors as exc:
        raise InvalidInput(
            f"voter list: a voter_id is already on the list ({exc}); nothing imported"
        ) from None
    return len(rows)


def age_on(born: date, day: date) -> int:
    """Full years of age on ``day`` (someone born on 29 February turns a year older on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def assess(
    voter: VoterRecord | None,
    *,
    district: str,
    schedule: Schedule,
    remote_districts: frozenset[str],
    now: datetime | None = None,
) -> tuple[IneligibleReason, ...]:
    """Every eligibility rule the voter fails for remote voting in ``district`` (empty: eligible).

    E1 18+ on the election day, E2 citizen, E3 on the list of that district, E5 not disenfranchised,
    E8 remote voting offered in the district, E4 not voted on paper, and, if ``now`` is given, the
    registration window at ``now``. Nothing else decides eligibility (C2).
    """
    if voter is None:
        return (IneligibleReason.NOT_ON_LIST,)
    reasons = []
    if age_on(voter.birth_date, schedule.election_day) < 18:
        reasons.append(IneligibleReason.UNDER_18)
    if not voter.citizen:
        reasons.append(IneligibleReason.NOT_CITIZEN)
    if voter.district != district:
        reasons.append(IneligibleReason.WRONG_DISTRICT)
    if voter.disenfranchised:
        reasons.append(IneligibleReason.DISENFRANCHISED)
    if district not in remote_districts:
        reasons.append(IneligibleReason.REMOTE_NOT_OFFERED)
    if voter.voted_on_paper:
        reasons.append(IneligibleReason.VOTED_ON_PAPER)
    if now is not None and not schedule.registration_open(now):
        reasons.append(IneligibleReason.OUTSIDE_REGISTRATION_WINDOW)
    return tuple(reasons)
