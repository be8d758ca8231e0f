"""The trustees' shared folder of messages (docs/trustees.md §The shared folder).

The folder has the election record's layout (docs/record.md), so that what the trustees publish
at the end of the ceremony and of the tally is already where the record wants it. During the
ceremony each trustee's round messages sit in a file of its own under ``ceremony/messages/``:

    ceremony/config.json                          the authority's ceremony configuration
    ceremony/messages/commitments/<id>.json       round 1: one TrusteeCommitment
    ceremony/messages/shares/<dealer>.jsonl       round 2: the dealer's EncryptedShares
    ceremony/messages/complaints/<accuser>.jsonl  round 3: its Complaints (empty: none)
    ceremony/messages/answers/<accused>.jsonl     round 4: its ComplaintAnswers (empty: none)

A round's file exists once its trustee has done the round, so an empty file says "nothing to
report" and a missing one "not yet". Every file holds canonical JSON (one object per line in a
``.jsonl``) and is published atomically: written beside its name, then linked into place, so a
reader never sees half a file and two trustees racing to publish the same shared file (the
ceremony's result) cannot overwrite each other.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from degcore.encoding import JsonValue, canonical_json, parse_canonical
from degcore.errors import InvalidInput
from degcore.trustees.dkg import CeremonyConfig, Complaint, ComplaintAnswer, EncryptedShare, TrusteeCommitment

__all__ = ["ANSWERS", "COMMITMENTS", "COMPLAINTS", "MESSAGES", "SHARES", "Board", "NotReady", "Rounds"]

MESSAGES = "ceremony/messages"
COMMITMENTS, SHARES = f"{MESSAGES}/commitments", f"{MESSAGES}/shares"
COMPLAINTS, ANSWERS = f"{MESSAGES}/complaints", f"{MESSAGES}/answers"


class NotReady(Exception):
    """Messages this step needs are not on the board yet (the others have not done their round)."""


class Board:
    """One shared folder of messages, read and written as canonical JSON."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise InvalidInput(f"the shared folder {self.root} is not a directory")

    def path(self, name: str) -> Path:
        """The path of a board file (names are the layout's, never a trustee's input)."""
        return self.root / name

    def exists(self, name: str) -> bool:
        """Whether ``name`` was published."""
        return self.path(name).is_file()

    def load(self, name: str) -> object:
        """One canonical JSON file."""
        try:
            return parse_canonical(self.path(name).read_bytes(), name)
        except FileNotFoundError:
            raise NotReady(f"{name} is not on the board yet") from None

    def objects(self, name: str) -> list[object]:
        """Every line of a JSON Lines file, each canonical."""
        data = self.path(name).read_bytes()
        return [parse_canonical(line, f"{name} line {i}") for i, line in enumerate(data.splitlines(), 1)]

    def publish(self, name: str, data: bytes) -> bool:
        """Create ``name`` with ``data`` atomically; True if created, False if it already held ``data``.

        Raises InvalidInput if it holds other bytes: nothing published is ever overwritten.
        """
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        temp.write_bytes(data)
        try:
            os.link(temp, path)
            return True
        except FileExistsError:
            if path.read_bytes() != data:
                raise InvalidInput(f"{name} is already on the board with other contents") from None
            return False
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()

    def publish_json(self, name: str, obj: JsonValue) -> bool:
        """Publish one object's canonical bytes."""
        return self.publish(name, canonical_json(obj))

    def publish_lines(self, name: str, objects: Iterable[JsonValue]) -> bool:
        """Publish a JSON Lines file (possibly empty)."""
        return self.publish(name, b"".join(canonical_json(o) + b"\n" for o in objects))

    def published(self, folder: str, suffix: str) -> dict[str, Path]:
        """The trustee ids that published a file ``<id><suffix>`` in ``folder``."""
        path = self.path(folder)
        if not path.is_dir():
            return {}
        return {
            p.name.removesuffix(suffix): p
            for p in sorted(path.iterdir())
            if p.name.endswith(suffix) and not p.name.startswith(".")
        }


@dataclass(frozen=True)
class Rounds:
    """The published round messages, read for one step (``late_ok``: the round's deadline passed)."""

    board: Board
    config: CeremonyConfig
    late_ok: bool

    def files(self, folder: str, suffix: str, expected: list[str]) -> dict[str, Path]:
        """The round's files; NotReady unless every expected trustee published (or it is late)."""
        found = self.board.published(folder, suffix)
        unknown = sorted(set(found) - set(self.config.trustees))
        if unknown:
            raise InvalidInput(f"{folder} holds files of trustees not in the roster: {', '.join(unknown)}")
        missing = [t for t in expected if t not in found]
        if missing and not self.late_ok:
            raise NotReady(f"waiting for {', '.join(missing)} in {folder} (or pass --deadline-passed)")
        return found

    def commitments(self) -> list[TrusteeCommitment]:
        """Round 1, in roster order."""
        config = self.config
        found = self.files(COMMITMENTS, ".json", list(config.trustees))
        out = []
        for who in (t for t in config.trustees if t in found):
            message = TrusteeCommitment.from_json(config, self.board.load(f"{COMMITMENTS}/{who}.json"))
            if message.trustee_id != who:
                raise InvalidInput(f"{COMMITMENTS}/{who}.json holds the commitment of {message.trustee_id}")
            out.append(message)
        return out

    def _lines(self, folder: str, expected: list[str]) -> list[tuple[str, object]]:
        found = self.files(folder, ".jsonl", expected)
        return [
            (who, obj)
            for who in self.config.trustees
            if who in found
            for obj in self.board.objects(f"{folder}/{who}.jsonl")
        ]

    def shares(self, committed: list[str]) -> list[EncryptedShare]:
        """Round 2: every dealer's encrypted shares."""
        out = []
        for who, obj in self._lines(SHARES, committed):
            share = EncryptedShare.from_json(self.config, obj)
            if share.dealer != who:
                raise InvalidInput(f"{SHARES}/{who}.jsonl holds a share dealt by {share.dealer}")
            out.append(share)
        return out

    def complaints(self, committed: list[str]) -> list[Complaint]:
        """Round 3: every trustee's complaints."""
        out = []
        for who, obj in self._lines(COMPLAINTS, committed):
            complaint = Complaint.from_json(self.config, obj)
            if complaint.accuser != who:
                raise InvalidInput(f"{COMPLAINTS}/{who}.jsonl holds a complaint by {complaint.accuser}")
            out.append(complaint)
        return out

    def answers(self, accused: list[str]) -> list[ComplaintAnswer]:
        """Round 4: the answers of every accused trustee."""
        out = []
        for who, obj in self._lines(ANSWERS, accused):
            answer = ComplaintAnswer.from_json(self.config, obj)
            if answer.accused != who:
                raise InvalidInput(f"{ANSWERS}/{who}.jsonl holds an answer of {answer.accused}")
            out.append(answer)
        return out


def write_private(path: Path, data: bytes) -> None:
    """Replace a trustee's own sealed file atomically, readable by its owner only."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(temp, path)


def dumps(obj: object) -> str:
    """Indented JSON for a person to read."""
    return json.dumps(obj, ensure_ascii=False, indent=2)
