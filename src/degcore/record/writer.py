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

from nacl.signing import SigningKey

from degcore.ballot import ElectionContext, ElectionSetup
from degcore.ballot.cosign import check_cosignatures
from degcore.ballot.setup import check_announcement, file_sha256
from degcore.board import LogEntry
from degcore.chain import ChainEntry, entry_line, sign_object
from degcore.encoding import JsonValue, canonical_json, record_header
from degcore.errors import InvalidInput
from degcore.issuance.enrollment import Enrollment
from degcore.record import layout
from degcore.tally import EncryptedTally, MixedContest, Result
from degcore.trustees.threshold import PartialDecryption

__all__ = ["RecordWriter", "check_inputs", "log_line", "sign_record", "write_record"]


def log_line(entry: LogEntry) -> dict[str, JsonValue]:
    """The JSON object of one box log entry (its payload embedded as an object)."""
    return entry_line("log-entry", ChainEntry(*_fields(entry)))


def _fields(entry: LogEntry | ChainEntry) -> tuple[int, str, bytes, str, bytes, bytes, bytes]:
    return (
        entry.position, entry.kind, bytes(entry.payload), entry.at,
        bytes(entry.prev), bytes(entry.hash), bytes(entry.signature),
    )  # fmt: skip


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

    def chain(self, name: str, record_type: str, entries: Iterable[LogEntry | ChainEntry]) -> list[str]:
        """A signed chain as a JSON Lines stream; returns the kinds of its entries, in order."""
        kinds: list[str] = []

        def lines() -> Iterable[JsonValue]:
            for entry in entries:
                kinds.append(entry.kind)
                yield entry_line(record_type, ChainEntry(*_fields(entry)))

        self.lines(name, lines())
        return kinds

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
    announcement: Mapping[str, JsonValue],
    remote_list: Mapping[str, JsonValue],
    enrollment: Iterable[Enrollment],
    issuance_log: Iterable[ChainEntry],
    box_log: Iterable[LogEntry],
    tally: EncryptedTally,
    partials: Sequence[PartialDecryption],
    result: Result,
    mixed: Mapping[str, MixedContest] | None = None,
    mix_partials: Mapping[str, Sequence[PartialDecryption]] | None = None,
    cosignatures: Sequence[Mapping[str, JsonValue]] = (),
) -> Path:
    """Write the whole public record of an election into the new directory ``root``.

    Every input must be complete (:func:`check_inputs`), with ``cosignatures`` the setup's
    co-signature by every party it names and ``enrollment`` the entries of the enrollment list
    whose signed head is ``remote_list``; the index is left unsigned until the authority signs
    it with :func:`sign_record`.
    """
    mixed, mix_partials = dict(mixed or {}), dict(mix_partials or {})
    setup = check_inputs(
        context,
        announcement=announcement,
        remote_list=remote_list,
        partials=partials,
        mixed=mixed,
        mix_partials=mix_partials,
        cosignatures=cosignatures,
    )
    writer = RecordWriter(root)
    ceremony = context.ceremony
    config = ceremony.config
    writer.json(layout.MANIFEST, context.manifest.to_json())
    writer.json(layout.ANNOUNCEMENT, announcement)
    writer.json(layout.CONFIG, config.to_json())
    writer.lines(layout.COMMITMENTS, (m.to_json(config) for m in ceremony.commitments))
    writer.lines(layout.COMPLAINTS, (c.to_json(config) for c in ceremony.complaints))
    writer.lines(layout.ANSWERS, (a.to_json(config) for a in ceremony.answers))
    writer.json(layout.DKG_RESULT, ceremony.to_json())
    writer.json(layout.REMOTE_LIST, remote_list)
    writer.lines(layout.ENROLLMENT, (e.to_json() for e in sorted(enrollment, key=lambda e: e.voter_ref)))
    if writer.hashes[layout.ENROLLMENT] != remote_list.get("entries_sha256"):
        raise InvalidInput("the enrollment entries are not the ones the signed enrollment list names")
    writer.json(layout.SETUP, setup.to_json())
    ordered = sorted(cosignatures, key=lambda c: str(c.get("role")))  # one line per role, by role
    writer.lines(layout.COSIGNATURES, (dict(c) for c in ordered))
    kinds = writer.chain(layout.ISSUANCE_LOG, "issuance-entry", issuance_log)
    if not kinds or kinds[-1] != "close":
        raise InvalidInput("the issuance log is not closed: close it before writing the record")
    kinds = writer.chain(layout.LOG, "log-entry", box_log)
    if not kinds or kinds[-1] != "close":
        raise InvalidInput("the ballot box is not closed: close it before writing the record")
    writer.json(layout.ENCRYPTED_TALLY, tally.to_json())
    for partial in partials:
        writer.json(layout.partial_file(partial.trustee_id), partial.to_json(config))
    for contest_id, mixed_contest in mixed.items():
        for stage in mixed_contest.stages:
            writer.json(layout.mix_stage_file(contest_id, stage.stage.stage), stage.to_json())
    for contest_id, contest_partials in mix_partials.items():
        for partial in contest_partials:
            writer.json(layout.mix_partial_file(contest_id, partial.trustee_id), partial.to_json(config))
    writer.json(layout.RESULT, result.to_json())
    writer.index(context.manifest.election_id)
    return Path(root)


def check_inputs(
    context: ElectionContext,
    *,
    announcement: Mapping[str, JsonValue],
    remote_list: Mapping[str, JsonValue],
    partials: Sequence[PartialDecryption],
    mixed: Mapping[str, MixedContest],
    mix_partials: Mapping[str, Sequence[PartialDecryption]],
    cosignatures: Sequence[Mapping[str, JsonValue]] = (),
) -> ElectionSetup:
    """Refuse, with InvalidInput, any input of a record that is missing a part: nothing is dropped quietly."""
    setup = context.setup
    if setup is None:
        raise InvalidInput("the context has no signed election setup: a record needs one")
    ceremony = context.ceremony
    published = {m.trustee_id for m in ceremony.commitments}
    if missing := [t for t in ceremony.qualified if t not in published]:
        raise InvalidInput(
            f"the ceremony lacks the round-1 messages of {missing}: rebuild the context with "
            "degcore.record.load_context from the published ceremony files"
        )
    check_announcement(announcement, context.manifest, ceremony.config)
    if problems := check_cosignatures(setup, ceremony.config, cosignatures):
        role, why = problems[0]
        raise InvalidInput(f"the setup's co-signatures are incomplete: {role}: {why}")
    if file_sha256(remote_list) != setup.remote_list_sha256:
        raise InvalidInput("the enrollment list is not the one the setup names")
    if len(partials) < ceremony.config.threshold:
        raise InvalidInput(f"{len(partials)} tally partials; the threshold is {ceremony.config.threshold}")
    servers = setup.mix_servers
    for contest_id, cascade in mixed.items():
        if contest_id not in servers:
            raise InvalidInput(f"{contest_id} is not a mix-net contest of the setup")
        if cascade.rows and len(cascade.stages) != len(servers[contest_id]):
            raise InvalidInput(
                f"{contest_id}: {len(cascade.stages)} stages, the setup names {len(servers[contest_id])}"
            )
        if cascade.rows and len(mix_partials.get(contest_id, ())) < ceremony.config.threshold:
            raise InvalidInput(f"{contest_id}: fewer partial decryptions than the threshold")
    return setup


def sign_record(root: str | Path, authority: SigningKey) -> str:
    """The authority signs the record's index (``record.json``); returns the record's SHA-256 to publish."""
    path = Path(root) / layout.INDEX
    index = json.loads(path.read_bytes())
    if not isinstance(index, dict) or index.get("type") != "record":
        raise InvalidInput(f"{path} is not a record index")
    index.pop("signature", None)
    data = canonical_json(sign_object(authority, index))
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()
