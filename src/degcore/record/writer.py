"""Writing an election record: canonical bytes, JSON Lines streams, and an index of SHA-256 hashes.

docs/record.md. Every JSON file holds exactly its RFC 8785 canonical bytes (no trailing newline);
every line of a ``.jsonl`` stream is the canonical bytes of one object followed by ``\\n``. The
index ``record.json`` lists every file with its SHA-256, so ``sha256sum`` checks a copy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from degcore.ballot import ElectionContext
from degcore.board import BallotBox, LogEntry
from degcore.elgamal.threshold import PartialDecryption
from degcore.encoding import JsonValue, canonical_json, record_header, to_hex
from degcore.errors import InvalidInput
from degcore.issuance import public_key_pem
from degcore.record import layout
from degcore.tally import EncryptedTally, MixedContest, Result
from degcore.tally.mixed import stage_to_json

__all__ = ["RecordWriter", "log_line", "write_record"]


def log_line(entry: LogEntry) -> dict[str, JsonValue]:
    """The JSON object of one box log entry (its payload embedded as an object)."""
    return {
        **record_header("log-entry"),
        "position": entry.position,
        "kind": entry.kind,
        "at": entry.at,
        "payload": json.loads(entry.payload),
        "prev": to_hex(entry.prev),
        "hash": to_hex(entry.hash),
        "signature": to_hex(entry.signature),
    }


class RecordWriter:
    """Writes files under one directory and remembers their hashes for the index."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if self.root.exists() and any(self.root.iterdir()):
            raise InvalidInput(f"{self.root} is not empty: a record is written into a new directory")
        self.root.mkdir(parents=True, exist_ok=True)
        self.hashes: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def _path(self, name: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def json(self, name: str, obj: JsonValue) -> None:
        """One canonical JSON file."""
        data = canonical_json(obj)
        self._path(name).write_bytes(data)
        self.hashes[name] = hashlib.sha256(data).hexdigest()

    def lines(self, name: str, objects: Iterable[JsonValue]) -> int:
        """A JSON Lines stream, written as it is produced (memory stays flat); returns the line count."""
        digest, count = hashlib.sha256(), 0
        with self._path(name).open("wb") as out:
            for obj in objects:
                line = canonical_json(obj) + b"\n"
                out.write(line)
                digest.update(line)
                count += 1
        self.hashes[name] = digest.hexdigest()
        self.counts[name] = count
        return count

    def index(self, election_id: str) -> None:
        """Write ``record.json`` last: every file and its SHA-256, and the line counts of the streams."""
        self.json(
            layout.INDEX,
            {
                **record_header("record"),
                "election_id": election_id,
                "files": dict(sorted(self.hashes.items())),
                "lines": dict(sorted(self.counts.items())),
            },
        )


def write_record(
    root: str | Path,
    *,
    context: ElectionContext,
    issuer_keys: Mapping[str, rsa.RSAPublicKey],
    box: BallotBox,
    tally: EncryptedTally,
    partials: Sequence[PartialDecryption],
    result: Result,
    mixed: Mapping[str, MixedContest] | None = None,
    mix_partials: Mapping[str, Sequence[PartialDecryption]] | None = None,
) -> Path:
    """Write the whole public record of an election into the new directory ``root``."""
    writer = RecordWriter(root)
    ceremony = context.ceremony
    config = ceremony.config
    writer.json(layout.MANIFEST, context.manifest.to_json())
    writer.json(layout.CONFIG, config.to_json())
    writer.lines(layout.COMMITMENTS, (m.to_json(config) for m in ceremony.commitments))
    writer.lines(layout.COMPLAINTS, (c.to_json(config) for c in ceremony.complaints))
    writer.lines(layout.ANSWERS, (a.to_json(config) for a in ceremony.answers))
    writer.json(layout.DKG_RESULT, ceremony.to_json())
    keys = {style: public_key_pem(key).decode() for style, key in sorted(issuer_keys.items())}
    writer.json(layout.ISSUER_KEYS, {**record_header("issuer-keys"), "keys": keys})
    box_info = {**record_header("box"), "public_key": to_hex(box.public_key), "policy": str(box.policy)}
    writer.json(layout.BOX, box_info)
    writer.lines(layout.LOG, (log_line(entry) for entry in box.log()))
    writer.json(layout.ENCRYPTED_TALLY, tally.to_json())
    for partial in partials:
        writer.json(layout.partial_file(partial.trustee_id), partial.to_json(config))
    for contest_id, mixed_contest in (mixed or {}).items():
        for stage in mixed_contest.stages:
            writer.json(
                layout.mix_stage_file(contest_id, stage.stage), stage_to_json(context, contest_id, stage)
            )
    for contest_id, contest_partials in (mix_partials or {}).items():
        for partial in contest_partials:
            writer.json(layout.mix_partial_file(contest_id, partial.trustee_id), partial.to_json(config))
    writer.json(layout.RESULT, result.to_json())
    writer.index(context.manifest.election_id)
    return Path(root)
