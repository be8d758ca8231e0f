"""The voters' lookup index of the public site: one small shard per tracking-code prefix (docs/site.md).

A lookup must load little even for a million ballots, and must work from a page opened from disk
(``file://``), where Chromium refuses ``fetch()``. So the index is split by the first ``p`` hex
digits of the tracking code into ``16^p`` files ``lookup/<prefix>.js``, each a script that hands
its rows to the page (JSONP style: a ``<script>`` tag may load a local file)::

    degcoreShard("3f",[
    ["<tracking code>",<position>,"<status>","<entry hash>","<payload hash>"],
    ...
    ]);

``status`` is ``c`` (counted), ``s`` (superseded: policy ``last``, a later ballot of the same
credential counts) or ``x`` (challenged: opened by its voter, never counted). ``p`` is the
smallest length that keeps the expected shard at or below :data:`TARGET_ROWS` rows (a row is
about 215 bytes), so one shard is about 100 kB at any size; every shard of the range is written,
empty ones included, so a file that does not load is an error and never a "not found". Rows are
buffered and appended to the shards in batches, so memory stays flat over the log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from degcore.encoding import JsonValue, canonical_json, parse_canonical
from degcore.errors import InvalidInput
from degcore.hashing import sha256
from degcore.record import RecordReader, layout

__all__ = ["TARGET_ROWS", "IndexSummary", "LookupRow", "log_rows", "prefix_length", "write_lookup_index"]

#: Rows a shard is sized for on average (≈ 110 kB; a lookup loads one shard).
TARGET_ROWS = 512
#: Rows buffered in memory before they are appended to their shard files.
_BATCH = 20_000
_HEX = "0123456789abcdef"
#: Status letters of the rows, by what the log says of the entry.
COUNTED, SUPERSEDED, CHALLENGED = "c", "s", "x"
#: The domain tag of a ballot's digest, its tracking code (docs/protocol.md §8.3).
_BALLOT_TAG = b"degcore/4/ballot"


@dataclass(frozen=True, slots=True)
class LookupRow:
    """One ballot of the log as the lookup sees it."""

    tracking_code: str
    position: int
    status: str
    entry_hash: str
    payload_hash: str


@dataclass(frozen=True, slots=True)
class IndexSummary:
    """What was written: the prefix length, rows, shards and the largest shard's size."""

    prefix_length: int
    rows: int
    shards: int
    largest_shard_bytes: int
    counted: int
    superseded: int
    challenged: int


def prefix_length(rows: int) -> int:
    """The smallest p ≥ 1 with rows / 16^p ≤ TARGET_ROWS (at most 6: 16.7 million shards)."""
    p = 1
    while rows > TARGET_ROWS * 16**p and p < 6:
        p += 1
    return p


def _shard_name(prefix: str) -> str:
    return f"{prefix}.js"


def write_lookup_index(rows: Iterable[LookupRow], folder: Path, expected_rows: int) -> IndexSummary:
    """Write the shards of ``rows`` into ``folder`` (created), sized for ``expected_rows``."""
    p = prefix_length(expected_rows)
    folder.mkdir(parents=True, exist_ok=True)
    buffered: dict[str, list[str]] = {}
    pending = total = 0
    counts = {COUNTED: 0, SUPERSEDED: 0, CHALLENGED: 0}

    def flush() -> None:
        for prefix, lines in buffered.items():
            with (folder / f"{prefix}.part").open("a", encoding="ascii") as part:
                part.writelines(lines)
        buffered.clear()

    for row in rows:
        code = row.tracking_code
        if not all(map(_is_hash, (code, row.entry_hash, row.payload_hash))) or row.status not in counts:
            raise InvalidInput(f"lookup row {row!r}: not a tracking code, hashes and a status")
        line = json.dumps(
            [code, row.position, row.status, row.entry_hash, row.payload_hash], separators=(",", ":")
        )
        buffered.setdefault(code[:p], []).append(line + ",\n")
        counts[row.status] += 1
        pending += 1
        total += 1
        if pending >= _BATCH:
            flush()
            pending = 0
    flush()
    largest = 0
    for prefix in _prefixes(p):
        part = folder / f"{prefix}.part"
        body = part.read_text(encoding="ascii") if part.exists() else ""
        text = f'degcoreShard("{prefix}",[\n{body}]);\n'
        (folder / _shard_name(prefix)).write_text(text, encoding="ascii")
        largest = max(largest, len(text))
        part.unlink(missing_ok=True)
    return IndexSummary(p, total, 16**p, largest, counts[COUNTED], counts[SUPERSEDED], counts[CHALLENGED])


def _is_hash(text: str) -> bool:
    return len(text) == 64 and all(c in _HEX for c in text)


def _prefixes(p: int) -> Iterator[str]:
    for n in range(16**p):
        yield f"{n:0{p}x}"


def log_rows(reader: RecordReader, policy: str) -> Iterator[LookupRow]:
    """Every ballot and challenge entry of the record's box log as a lookup row (streamed).

    For a record that verified: V5 has checked every entry's hash and the box's signature, V7 the
    policy. Under ``last`` a first pass finds each credential's last ballot; the earlier ones are
    superseded.
    """
    last: dict[str, int] = {}
    if policy == "last":
        for position, kind, _, credential, _ in _entries(reader):
            if kind == "ballot":
                last[credential] = position
    for position, kind, payload, credential, entry_hash in _entries(reader):
        ballot = payload.get("ballot")
        if kind not in ("ballot", "challenge") or not isinstance(ballot, Mapping):
            continue
        code = sha256(_BALLOT_TAG, canonical_json(cast(JsonValue, ballot))).hex()
        if kind == "challenge":
            status = CHALLENGED
        elif policy == "last" and last.get(credential) != position:
            status = SUPERSEDED
        else:
            status = COUNTED
        payload_hash = sha256(canonical_json(cast(JsonValue, payload))).hex()
        yield LookupRow(code, position, status, entry_hash, payload_hash)


def _entries(reader: RecordReader) -> Iterator[tuple[int, str, Mapping[str, object], str, str]]:
    """(position, kind, payload, credential key, entry hash) of every log line."""
    for number, line in enumerate(reader.lines(layout.LOG), start=1):
        obj = parse_canonical(line[:-1], f"{layout.LOG} line {number}")
        if not isinstance(obj, Mapping):
            raise InvalidInput(f"{layout.LOG} line {number} is not an object")
        payload, position = obj.get("payload"), obj.get("position")
        if not isinstance(payload, Mapping) or type(position) is not int:
            raise InvalidInput(f"{layout.LOG} line {number}: no payload or position")
        credential = payload.get("credential")
        key = credential.get("public_key", "") if isinstance(credential, Mapping) else ""
        yield position, str(obj.get("kind")), payload, str(key), str(obj.get("hash"))
