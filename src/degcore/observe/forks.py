"""Evidence of a box that showed two histories: equivocation proofs, comparisons, the record check.

docs/protocol.md §9.5. An ``equivocation-proof`` holds the box key and two log entries at one
position, each with the box's signature on its hash. It holds if both entries are well formed,
name that position, hash as they claim (:func:`degcore.board.log.entry_hash`) and carry valid box
signatures, and the two hashes differ: the box signed two different entries for one place of its
one log. Anyone re-checks it from the file alone (:func:`check_proof`).

Because every hash commits to all the entries before it, two copies of the log that agree at
position n agree everywhere before n; the first position where they differ is where the box
forked them, and both copies hold its signature there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice, zip_longest
from pathlib import Path

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from degcore.board.log import entry_hash
from degcore.chain import ChainEntry, entry_from_line, entry_line
from degcore.encoding import JsonValue, canonical_json, from_hex, parse_canonical, read_record, record_header
from degcore.errors import InvalidInput, VerificationFailed
from degcore.observe.state import MIRROR, STATE, mirror_entries, parse_state

__all__ = [
    "Divergence",
    "EquivocationProof",
    "check_observed",
    "check_proof",
    "compare_logs",
    "diverge",
    "read_lines",
    "signed_entry",
]


def signed_entry(entry: ChainEntry | None, box_key: bytes) -> bool:
    """True if ``entry`` hashes as it claims and carries the box's signature on that hash."""
    if entry is None:
        return False
    if entry_hash(entry.prev, entry.position, entry.kind, entry.payload, entry.at) != entry.hash:
        return False
    try:
        VerifyKey(box_key).verify(entry.hash, entry.signature)
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class EquivocationProof:
    """Two box-signed entries at one position with different hashes."""

    box_key: bytes
    position: int
    first: ChainEntry
    second: ChainEntry

    def to_json(self) -> dict[str, JsonValue]:
        """The ``equivocation-proof`` object (each entry as its ``log-entry`` line object)."""
        return {
            **record_header("equivocation-proof"),
            "box_key": self.box_key.hex(),
            "position": self.position,
            "entries": [entry_line("log-entry", self.first), entry_line("log-entry", self.second)],
        }

    def write(self, path: Path) -> Path:
        """Write the proof's canonical JSON to ``path``."""
        path.write_bytes(canonical_json(self.to_json()))
        return path


def check_proof(data: bytes) -> EquivocationProof:
    """Re-check an equivocation proof from its bytes; VerificationFailed("equivocation") unless it holds."""
    obj = parse_canonical(data, "equivocation proof")
    f = read_record(obj, "equivocation-proof", {"box_key", "position", "entries"})
    box_key = from_hex(f["box_key"], 32, "box_key")
    position, entries = f["position"], f["entries"]
    if type(position) is not int or position < 1:
        raise InvalidInput("equivocation proof: position must be a positive integer")
    if not isinstance(entries, list) or len(entries) != 2:
        raise InvalidInput("equivocation proof: entries must be a list of two log entries")
    first, second = (entry_from_line("log-entry", e) for e in entries)
    for n, entry in enumerate((first, second), start=1):
        if entry.position != position:
            raise VerificationFailed(
                "equivocation", f"entry {n}", f"is at position {entry.position}, not {position}"
            )
        if not signed_entry(entry, box_key):
            raise VerificationFailed(
                "equivocation", f"entry {n}", "its hash or the box's signature does not verify"
            )
    if first.hash == second.hash:
        raise VerificationFailed("equivocation", f"position {position}", "the two entries are the same")
    return EquivocationProof(box_key, position, first, second)


@dataclass(frozen=True, slots=True)
class Divergence:
    """The first position where two copies of a log differ, and the proof if the box signed both."""

    position: int
    reason: str
    proof: EquivocationProof | None


def diverge(
    position: int, ours: ChainEntry | None, theirs: ChainEntry | None, box_key: bytes, what: str
) -> Divergence:
    """What a difference at ``position`` proves: an equivocation if the box signed both entries there."""
    if theirs is None:
        return Divergence(position, f"{what} has no readable entry at position {position}", None)
    if theirs.position != position:
        return Divergence(
            position, f"{what} has no entry at position {position} (next: {theirs.position})", None
        )
    if ours is None or not signed_entry(ours, box_key) or ours.position != position:
        return Divergence(position, f"the entry observed at position {position} is not box-signed", None)
    if not signed_entry(theirs, box_key) or theirs.position != position:
        return Divergence(
            position, f"{what}'s entry at position {position} differs and is not box-signed", None
        )
    proof = EquivocationProof(box_key, position, ours, theirs)
    return Divergence(position, f"the box signed two different entries at position {position}", proof)


def compare_logs(
    ours: Iterable[bytes], theirs: Iterable[bytes], box_key: bytes, what: str
) -> tuple[int, Divergence | None]:
    """Walk two copies in step: how many lines agree, and the first difference (None: a prefix)."""
    agreed = 0
    pairs = zip_longest(mirror_entries(ours, "ours"), mirror_entries(theirs, what))
    for position, (mine, other) in enumerate(pairs, start=1):
        if mine is None or other is None:
            return agreed, None  # one is a prefix of the other: no fork seen
        if mine[1] != other[1]:
            return agreed, diverge(position, mine[0], other[0], box_key, what)
        agreed += 1
    return agreed, None


def read_lines(path: str | Path) -> Iterator[bytes]:
    """The lines of a mirror: a state folder's ``log.jsonl``, or the file itself."""
    path = Path(path)
    target = path / MIRROR if path.is_dir() else path
    if not target.is_file():
        raise InvalidInput(f"{path}: no {MIRROR} here (a state folder or a copy of its log is expected)")
    with target.open("rb") as f:
        yield from f


def check_observed(
    record_lines: Iterable[bytes], state_folder: Path, box_key: bytes
) -> list[tuple[int, str]]:
    """``verify --observed``: every entry the observer saw is in the record, same position, same hash.

    The state is re-read strictly (its hash, the mirror's length and last line, the record's box
    key). Returns (position, what is wrong) for the first entry the record lacks or holds
    differently — every later hash commits to it, so later ones differ too — or nothing.
    """
    state = parse_state((state_folder / STATE).read_bytes())
    mirror = state_folder / MIRROR
    if state.box_key != box_key:
        raise InvalidInput(f"{state_folder} observed another box key than the record's setup names")
    size = mirror.stat().st_size if mirror.exists() else 0
    if size < state.mirror_bytes:
        raise InvalidInput(f"{mirror} is shorter than the observer's state says")
    observed = mirror_entries(islice(read_lines(mirror), state.position), MIRROR)
    published = mirror_entries(record_lines, "box/log.jsonl")
    for position, (seen, line) in enumerate(observed, start=1):
        got = next(published, None)
        if got is None:
            missing = state.position - position + 1
            return [(position, f"the record's log ends before it: {missing} observed entries are missing")]
        if seen is None:  # an unreadable line the observer reported at the time: the same bytes
            if got[1] != line:
                return [(position, "the record's entry differs from the (unreadable) observed line")]
            continue
        if got[0] is None or got[0].hash != seen.hash:
            return [(position, f"the record's entry differs from the observed one (hash {seen.hash.hex()})")]
    return []
