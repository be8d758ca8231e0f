"""Reading an election record strictly and in streams (docs/record.md).

The reader is the record's boundary: it opens only regular files inside the record's root (no
symlinks, devices, FIFOs or directories named as files; no absolute names or ``..``), refuses a
file or line above its size cap, and accepts only the canonical bytes of each object (the same
value spelled another way is another record). JSON files are small and read whole; the logs are
read line by line, so memory stays flat. Elements are decoded with their membership checks by the
codecs of their types.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from degcore.ballot import ElectionContext, ElectionSetup, Manifest
from degcore.encoding import parse_canonical, read_record
from degcore.errors import DegcoreError, InvalidInput
from degcore.issuance.enrollment import EnrollmentList
from degcore.record import layout
from degcore.tally import EncryptedTally, tally_from_json
from degcore.tally.mixed import SignedStage, stage_from_json
from degcore.trustees.dkg import (
    CeremonyConfig,
    CeremonyResult,
    Complaint,
    ComplaintAnswer,
    TrusteeCommitment,
    finalize,
)
from degcore.trustees.threshold import PartialDecryption

__all__ = ["Limits", "RecordReader", "load_context"]

#: A partial decryption file as read: the partial, or why it could not be.
Parsed = PartialDecryption | DegcoreError


def mix_partials_folder(contest_id: str) -> str:
    """The folder of a mix-net contest's partial decryptions."""
    return layout.mix_partial_file(contest_id, "x").rsplit("/", 1)[0]


def parse_partial(config: CeremonyConfig, name: str, obj: object) -> Parsed:
    """The partial decryption of record file ``name`` (named after its trustee), or why it is not one.

    ``obj`` is the file's JSON, or the error of loading it (:meth:`RecordReader.partial_sources`).
    """
    if isinstance(obj, DegcoreError):
        return obj
    try:
        partial = PartialDecryption.from_json(config, obj)
        if name.rsplit("/", 1)[-1] != f"{partial.trustee_id}.json":
            raise InvalidInput(f"{name} holds the partial of {partial.trustee_id!r}")
    except DegcoreError as exc:
        return exc
    return partial


def in_roster_order(config: CeremonyConfig, parsed: list[tuple[str, Parsed]]) -> list[tuple[str, Parsed]]:
    """Parsed partials in the ceremony's roster order; files that failed last, by name."""
    order = {t: i for i, t in enumerate(config.trustees)}
    return sorted(parsed, key=lambda p: (order.get(getattr(p[1], "trustee_id", ""), len(order)), p[0]))


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on what the reader accepts (docs/record.md §Limits); anything above is a failed check."""

    file_bytes: int = 256 << 20  # one JSON file
    line_bytes: int = 16 << 20  # one line of a JSON Lines stream
    files: int = 100_000  # files in the record


class RecordReader:
    """One record directory, read strictly."""

    def __init__(self, root: str | Path, limits: Limits | None = None, *, index: bool = True) -> None:
        """``index=False`` reads a folder of published files that has no ``record.json`` yet."""
        self.root = Path(root)
        self.limits = limits or Limits()
        if not self.root.is_dir():
            raise InvalidInput(f"{self.root} is not a directory")
        if index and not (self.root / layout.INDEX).is_file():
            hint = ""
            if (self.root / "record" / layout.INDEX).is_file():
                hint = f"; did you mean {self.root / 'record'}?"
            raise InvalidInput(f"{self.root} is not a degcore record: {layout.INDEX} is missing{hint}")

    # --- the boundary ------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        """The path of a record file, after checking that the name stays inside the record."""
        pure = PurePosixPath(name)
        if pure.is_absolute() or not pure.parts or any(p in ("..", ".", "") for p in pure.parts):
            raise InvalidInput(f"record file name {name!r} leaves the record or is not normalised")
        if "\\" in name or "\x00" in name:
            raise InvalidInput(f"record file name {name!r} has a backslash or NUL")
        return self.root.joinpath(*pure.parts)

    def regular(self, name: str) -> Path:
        """The path of ``name`` if it and every folder on the way are real (no symlink, no special file)."""
        path = self.path(name)
        current = self.root
        for part in PurePosixPath(name).parts:
            current = current / part
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                raise InvalidInput(f"record file {name} is missing") from None
            except OSError as exc:
                raise InvalidInput(f"record file {name}: {exc.strerror}") from None
            last = current == path
            if stat.S_ISLNK(mode):
                raise InvalidInput(f"record file {name}: {current.relative_to(self.root)} is a symlink")
            if last and not stat.S_ISREG(mode):
                raise InvalidInput(f"record file {name} is not a regular file")
            if not last and not stat.S_ISDIR(mode):
                raise InvalidInput(f"record file {name}: {current.relative_to(self.root)} is not a folder")
        return path

    def exists(self, name: str) -> bool:
        """Whether ``name`` is present (as anything: the strict checks come when it is read)."""
        return os.path.lexists(self.path(name))

    def raw(self, name: str) -> bytes:
        """The bytes of one file, within the file cap."""
        path = self.regular(name)
        cap = self.limits.file_bytes
        with path.open("rb") as stream:
            data = stream.read(cap + 1)
        if len(data) > cap:
            raise InvalidInput(f"record file {name} is larger than the cap of {cap} bytes")
        return data

    def load(self, name: str) -> object:
        """Parse one JSON file, which must hold exactly the canonical bytes of its object."""
        return parse_canonical(self.raw(name), f"record file {name}")

    def lines(self, name: str) -> Iterator[bytes]:
        """The raw lines of a JSON Lines file, streamed, each within the line cap and ending in ``\\n``."""
        path = self.regular(name)
        cap = self.limits.line_bytes
        with path.open("rb") as stream:
            number = 0
            while line := stream.readline(cap + 1):
                number += 1
                if len(line) > cap:
                    raise InvalidInput(f"{name} line {number} is longer than the cap of {cap} bytes")
                if not line.endswith(b"\n"):
                    raise InvalidInput(f"{name} line {number} does not end with a newline")
                yield line

    def objects(self, name: str) -> Iterator[object]:
        """The lines of a JSON Lines file, each parsed as canonical JSON."""
        for number, line in enumerate(self.lines(name), start=1):
            yield parse_canonical(line[:-1], f"{name} line {number}")

    def file_hash(self, name: str) -> str:
        """The SHA-256 of a file as it is now (streamed)."""
        return self.file_hash_and_lines(name)[0]

    def file_hash_and_lines(self, name: str) -> tuple[str, int]:
        """The SHA-256 of a file as it is now and its number of ``\\n`` (streamed)."""
        digest, lines = hashlib.sha256(), 0
        with self.regular(name).open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
                lines += block.count(b"\n")
        return digest.hexdigest(), lines

    def listing(self) -> Iterator[tuple[str, str]]:
        """Every entry below the root as (name, what it is): ``file``, ``dir``, ``symlink`` or ``special``."""
        count = 0
        for folder, dirs, files in os.walk(self.root, followlinks=False):
            for entry in sorted(dirs + files):
                count += 1
                if count > self.limits.files:
                    raise InvalidInput(f"the record holds more than {self.limits.files} files")
                full = Path(folder) / entry
                mode = os.lstat(full).st_mode
                kind = (
                    "symlink" if stat.S_ISLNK(mode)
                    else "dir" if stat.S_ISDIR(mode)
                    else "file" if stat.S_ISREG(mode)
                    else "special"
                )  # fmt: skip
                yield full.relative_to(self.root).as_posix(), kind

    # --- the record's objects ----------------------------------------------------------------
    def index(self) -> dict[str, object]:
        """``record.json``: files with their SHA-256, stream line counts, the authority's signature."""
        obj = self.load(layout.INDEX)
        if isinstance(obj, dict) and "signature" not in obj:
            raise InvalidInput(
                f"{layout.INDEX} is not signed: the authority signs the index of a written record with"
                " degcore.record.sign_record(folder, authority_key) before it is published"
            )
        return read_record(obj, "record", {"election_id", "files", "lines", "signature"})

    def check_complete(self, index: dict[str, object]) -> None:
        """InvalidInput naming the first file the index lists that is missing or cut short.

        A record copied while its writer was being killed (issue 27) is not a record that fails a
        check but one that cannot be read: ``degcore verify`` exits 3 on it, naming the file and,
        in a JSON Lines stream, the line. Cut short means: a stream whose last line has no
        newline or that has fewer lines than the index counts, or a JSON file that does not
        parse (truncated) and whose bytes are not the indexed ones. A complete file with other
        bytes is left to the checks (V1 and the others: tampering, exit 1).
        """
        files, counts = index.get("files"), index.get("lines")
        if not isinstance(files, dict):
            return
        counts = counts if isinstance(counts, dict) else {}
        for name in sorted(files):
            if not isinstance(name, str):
                continue
            if not os.path.lexists(self.path(name)):
                raise InvalidInput(f"record file {name} is missing (the index lists it): an incomplete copy?")
            path = self.regular(name)
            if name.endswith(".jsonl"):
                lines = self.file_hash_and_lines(name)[1]
                size = path.stat().st_size
                if size and _last_byte(path) != b"\n":
                    raise InvalidInput(
                        f"{name} line {lines + 1} is cut short (no newline at the end of the file)"
                    )
                expected = counts.get(name)
                if isinstance(expected, int) and lines < expected:
                    raise InvalidInput(
                        f"{name} is cut short after line {lines}: the index counts {expected} lines"
                    )
            elif name.endswith(".json") and self.file_hash(name) != files[name]:
                try:
                    json.loads(self.raw(name))
                except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
                    raise InvalidInput(f"record file {name} is cut short or is not JSON: {exc}") from None

    def record_sha256(self) -> str:
        """The SHA-256 of ``record.json``: one value that fixes every byte of the record."""
        return hashlib.sha256(self.raw(layout.INDEX)).hexdigest()

    def manifest(self) -> Manifest:
        """``manifest.json``."""
        return Manifest.from_json(self.load(layout.MANIFEST))

    def announcement(self) -> object:
        """``setup/announcement.json`` as published (checked against the manifest and configuration)."""
        return self.load(layout.ANNOUNCEMENT)

    def setup(self) -> ElectionSetup:
        """``setup/setup.json`` (its signature and bindings are checked by ``ElectionSetup.check``)."""
        return ElectionSetup.from_json(self.load(layout.SETUP))

    def cosignatures(self) -> list[object]:
        """``setup/cosignatures.jsonl``: every line parsed (each is checked by ``check_cosignatures``)."""
        return list(self.objects(layout.COSIGNATURES))

    def remote_list(self) -> EnrollmentList:
        """``eligibility/remote-list.json``: the registry's signed enrollment-list head, parsed strictly."""
        return EnrollmentList.from_json(self.load(layout.REMOTE_LIST))

    def ceremony_config(self) -> CeremonyConfig:
        """``ceremony/config.json``."""
        return CeremonyConfig.from_json(self.load(layout.CONFIG))

    def ceremony_messages(
        self, config: CeremonyConfig
    ) -> tuple[list[TrusteeCommitment], list[Complaint], list[ComplaintAnswer]]:
        """The published round-1, complaint and answer messages."""
        return (
            [TrusteeCommitment.from_json(config, obj) for obj in self.objects(layout.COMMITMENTS)],
            [Complaint.from_json(config, obj) for obj in self.objects(layout.COMPLAINTS)],
            [ComplaintAnswer.from_json(config, obj) for obj in self.objects(layout.ANSWERS)],
        )

    def ceremony_result(self, config: CeremonyConfig) -> CeremonyResult:
        """``ceremony/result.json`` as published."""
        return CeremonyResult.from_json(config, self.load(layout.DKG_RESULT))

    def encrypted_tally(self, context: ElectionContext) -> EncryptedTally:
        """``tally/encrypted_tally.json``."""
        return tally_from_json(context, self.load(layout.ENCRYPTED_TALLY))

    def _partials(
        self, folder: str, config: CeremonyConfig
    ) -> list[tuple[str, PartialDecryption | DegcoreError]]:
        """Every partial file of ``folder``, each parsed on its own: one bad file fails only itself."""
        parsed = [(name, parse_partial(config, name, obj)) for name, obj in self.partial_sources(folder)]
        return in_roster_order(config, parsed)

    def partial_sources(self, folder: str) -> list[tuple[str, object]]:
        """Every file of a folder of partials, loaded as JSON (or the error of loading it), by name."""
        if not self.exists(folder):
            return []
        path = self.regular_folder(folder)
        out: list[tuple[str, object]] = []
        for entry in sorted(path.iterdir()):
            name = f"{folder}/{entry.name}"
            try:
                out.append((name, self.load(name)))
            except DegcoreError as exc:
                out.append((name, exc))
        return out

    def regular_folder(self, folder: str) -> Path:
        """The path of a folder of the record that is a real folder (not a symlink)."""
        path = self.path(folder)
        if os.path.islink(path) or not path.is_dir():
            raise InvalidInput(f"{folder} is not a folder")
        return path

    def partial_files(self, config: CeremonyConfig) -> list[tuple[str, PartialDecryption | DegcoreError]]:
        """Every ``tally/partials/<trustee>.json``, in roster order, each parsed or its error."""
        return self._partials(layout.PARTIALS, config)

    def mix_stages(self, context: ElectionContext, contest_id: str) -> list[SignedStage]:
        """A mix-net contest's stages in order (stage-1, stage-2, …; none if nobody voted)."""
        stages: list[SignedStage] = []
        while self.exists(name := layout.mix_stage_file(contest_id, len(stages) + 1)):
            found, stage = stage_from_json(context, self.load(name))
            if found != contest_id or stage.stage.stage != len(stages) + 1:
                raise InvalidInput(f"{name} holds stage {stage.stage.stage} of contest {found!r}")
            stages.append(stage)
        return stages

    def mix_partial_files(
        self, config: CeremonyConfig, contest_id: str
    ) -> list[tuple[str, PartialDecryption | DegcoreError]]:
        """Every trustee's partial decryption of a mix-net contest's last output, each parsed or its error."""
        return self._partials(mix_partials_folder(contest_id), config)

    def result(self) -> object:
        """``tally/result.json`` as published (compared with the recomputed result)."""
        return self.load(layout.RESULT)


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as stream:
        stream.seek(-1, os.SEEK_END)
        return stream.read(1)


def load_context(folder: str | Path) -> ElectionContext:
    """The one way to rebuild an election's context from its published files (a record's layout).

    Reads the manifest, the ceremony configuration, messages and result, and the signed setup;
    re-runs the ceremony's finalisation so the context carries every message (a record written from
    it loses nothing), and checks the setup. A tallier uses this before :func:`write_record`.
    """
    reader = RecordReader(folder, index=False)
    manifest = reader.manifest()
    config = reader.ceremony_config()
    commitments, complaints, answers = reader.ceremony_messages(config)
    ceremony = finalize(config, commitments, complaints, answers)
    published = reader.ceremony_result(config)
    if ceremony.to_json() != published.to_json():
        raise InvalidInput("the published ceremony result is not what its messages give")
    return ElectionContext(manifest, ceremony, reader.setup())
