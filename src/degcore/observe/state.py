"""An observer's state folder: what it has checked, kept so that a restart checks nothing twice.

docs/integration.md §Following the feed. The folder holds two files:

- ``log.jsonl`` — every feed line the observer checked, byte for byte, in position order (its
  mirror of the box's log: the evidence it compares with other observers and the record);
- ``state.json`` — canonical JSON of an ``observer-state`` object: the election's base hash, the
  box key, the last checked position and that entry's hash, the mirror's length in bytes, what
  the one-ballot-per-credential and challenge rules need (credentials and tracking codes seen),
  the problems found so far, and ``state_sha256``, the SHA-256 of the canonical JSON of all the
  other fields.

Read back strictly (:func:`load_state`): exact keys and types, the hash, the election and box key
of the published setup, and the mirror's length and last line must match the state. The observer
then confirms against the feed that the entry at the state's position is still that line
(:mod:`degcore.observe.follow`), so a state is never trusted blindly.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from degcore.chain import GENESIS, ChainEntry, parse_entry_line
from degcore.encoding import JsonValue, canonical_json, from_hex, parse_canonical, read_record, record_header
from degcore.errors import InvalidInput

__all__ = [
    "MIRROR",
    "STATE",
    "ObserverState",
    "Problem",
    "append_mirror",
    "last_line",
    "load_state",
    "mirror_entries",
    "parse_state",
    "save_state",
]

STATE = "state.json"
MIRROR = "log.jsonl"
_KEYS = {
    "election", "box_key", "position", "hash", "mirror_bytes", "last_at", "closed", "challenge_entries",
    "credentials", "cast", "challenged", "problems", "state_sha256",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad entry: its position, the verifier's check id (docs/verifier.md) and the reason."""

    position: int
    check: str
    reason: str

    def to_json(self) -> dict[str, JsonValue]:
        """``{"position", "check", "reason"}``."""
        return {"position": self.position, "check": self.check, "reason": self.reason}


@dataclass(slots=True)
class ObserverState:
    """What has been checked up to ``position`` (0: nothing yet)."""

    election: bytes
    box_key: bytes
    position: int = 0
    hash: bytes = GENESIS  #: the hash the entry at ``position`` claims (the next must link to it)
    mirror_bytes: int = 0
    last_at: str = ""  #: the latest time stamped so far ("" before the first entry)
    closed: JsonValue | None = None  #: the closing entry's payload, once seen
    challenge_entries: int = 0
    credentials: dict[str, int] = field(default_factory=dict)  #: credential id → position counted
    cast: dict[str, int] = field(default_factory=dict)  #: tracking code → position of its ballot
    challenged: dict[str, int] = field(default_factory=dict)  #: tracking code → position
    problems: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict[str, JsonValue]:
        """The ``observer-state`` object with its ``state_sha256``."""
        body: dict[str, JsonValue] = {
            **record_header("observer-state"),
            "election": self.election.hex(),
            "box_key": self.box_key.hex(),
            "position": self.position,
            "hash": self.hash.hex(),
            "mirror_bytes": self.mirror_bytes,
            "last_at": self.last_at,
            "closed": {"payload": self.closed} if self.closed is not None else {},
            "challenge_entries": self.challenge_entries,
            "credentials": dict(sorted(self.credentials.items())),
            "cast": dict(sorted(self.cast.items())),
            "challenged": dict(sorted(self.challenged.items())),
            "problems": [p.to_json() for p in self.problems],
        }
        return {**body, "state_sha256": hashlib.sha256(canonical_json(body)).hexdigest()}


def _count(value: object, what: str) -> int:
    if type(value) is not int or value < 0:
        raise InvalidInput(f"observer state: {what} must be a non-negative integer")
    return value


def _positions(value: object, what: str) -> dict[str, int]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InvalidInput(f"observer state: {what} must be an object")
    return {k: _count(v, what) for k, v in value.items()}


def _problems(value: object) -> list[Problem]:
    if not isinstance(value, list):
        raise InvalidInput("observer state: problems must be a list")
    out = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"position", "check", "reason"}:
            raise InvalidInput("observer state: a problem must have exactly position, check and reason")
        if not isinstance(item["check"], str) or not isinstance(item["reason"], str):
            raise InvalidInput("observer state: a problem's check and reason must be text")
        out.append(Problem(_count(item["position"], "a problem's position"), item["check"], item["reason"]))
    return out


def parse_state(data: bytes) -> ObserverState:
    """Read ``state.json``'s bytes strictly (canonical JSON, exact keys and types, the hash)."""
    f = read_record(parse_canonical(data, STATE), "observer-state", _KEYS)
    claimed = f.pop("state_sha256")
    if claimed != hashlib.sha256(canonical_json(f)).hexdigest():  # type: ignore[arg-type]
        raise InvalidInput(f"{STATE}: state_sha256 does not match its contents (edited or damaged)")
    text_hash, last_at, closed = f["hash"], f["last_at"], f["closed"]
    if not isinstance(last_at, str) or not isinstance(closed, dict) or set(closed) - {"payload"}:
        raise InvalidInput("observer state: last_at must be text and closed an object")
    return ObserverState(
        election=from_hex(f["election"], 32, "election"),
        box_key=from_hex(f["box_key"], 32, "box_key"),
        position=_count(f["position"], "position"),
        hash=b"" if text_hash == "" else from_hex(text_hash, 32, "hash"),
        mirror_bytes=_count(f["mirror_bytes"], "mirror_bytes"),
        last_at=last_at,
        closed=closed.get("payload"),
        challenge_entries=_count(f["challenge_entries"], "challenge_entries"),
        credentials=_positions(f["credentials"], "credentials"),
        cast=_positions(f["cast"], "cast"),
        challenged=_positions(f["challenged"], "challenged"),
        problems=_problems(f["problems"]),
    )


def load_state(folder: Path, election: bytes, box_key: bytes) -> ObserverState:
    """The state of ``folder`` (a new one if the folder holds none), checked against the mirror.

    A mirror longer than the state says (a stop between appending and saving) is cut back to it:
    those lines were never recorded as checked and will be checked (once) again.
    """
    path, mirror = folder / STATE, folder / MIRROR
    if not path.exists():
        if mirror.exists() and mirror.stat().st_size:
            raise InvalidInput(f"{folder} has a {MIRROR} but no {STATE}: not a state this observer wrote")
        folder.mkdir(parents=True, exist_ok=True)
        return ObserverState(election, box_key)
    state = parse_state(path.read_bytes())
    if state.election != election or state.box_key != box_key:
        raise InvalidInput(f"{folder} is the state of another election or box key than the published setup")
    size = mirror.stat().st_size if mirror.exists() else 0
    if size < state.mirror_bytes:
        raise InvalidInput(f"{mirror} is shorter than the state says ({size} < {state.mirror_bytes} bytes)")
    if size > state.mirror_bytes:
        with mirror.open("r+b") as out:
            out.truncate(state.mirror_bytes)
    if state.position:
        try:
            claimed = _entry(last_line(mirror), f"{MIRROR} line {state.position}").hash
        except InvalidInput:
            claimed = b""  # an unreadable last line: the state then names no hash either
        if claimed != state.hash:
            raise InvalidInput(f"{mirror}'s last line is not the entry the state names")
    elif state.mirror_bytes:
        raise InvalidInput(f"{STATE} names no entry but {MIRROR} holds some")
    return state


def save_state(folder: Path, state: ObserverState) -> None:
    """Write ``state.json`` atomically (a new file renamed over the old)."""
    path = folder / STATE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_bytes(canonical_json(state.to_json()))
    with tmp.open("rb") as done:
        os.fsync(done.fileno())
    os.replace(tmp, path)


def append_mirror(folder: Path, lines: list[bytes]) -> int:
    """Append checked lines to the mirror (synced); the bytes written."""
    data = b"".join(lines)
    with (folder / MIRROR).open("ab") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    return len(data)


def last_line(path: Path) -> bytes:
    """The last line of a non-empty JSON Lines file (read from the end)."""
    with path.open("rb") as f:
        end = f.seek(0, os.SEEK_END)
        step, tail = 4096, b""
        while end > 0:
            start = max(0, end - step)
            f.seek(start)
            tail = f.read(end - start) + tail
            end = start
            if tail.rstrip(b"\n").count(b"\n") >= 1:
                break
    lines = tail.rstrip(b"\n").split(b"\n")
    if not lines or not lines[-1]:
        raise InvalidInput(f"{path} is empty")
    return lines[-1] + b"\n"


def _entry(line: bytes, what: str) -> ChainEntry:
    return parse_entry_line("log-entry", line.rstrip(b"\n"), what)[0]


def mirror_entries(lines: Iterable[bytes], what: str) -> Iterator[tuple[ChainEntry | None, bytes]]:
    """Every line of a mirror, a feed or a record's ``box/log.jsonl`` with its entry (None: unreadable)."""
    for number, line in enumerate(lines, start=1):
        try:
            yield _entry(line, f"{what} line {number}"), line
        except (InvalidInput, RecursionError):
            yield None, line
