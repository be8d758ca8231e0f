"""Reading an election record strictly and in streams (docs/record.md).

JSON files are small and read whole; the box log is read line by line, so memory stays flat as the
record grows. Every object must carry ``"format": "degcore/2"``; elements are decoded with their
membership checks by the codecs of their types.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from degcore.ballot import ElectionContext, Manifest
from degcore.elgamal.dkg import CeremonyConfig, CeremonyResult, Complaint, ComplaintAnswer, TrusteeCommitment
from degcore.elgamal.threshold import PartialDecryption
from degcore.encoding import from_hex, read_record
from degcore.errors import InvalidInput
from degcore.mixnet.cascade import MixStage
from degcore.record import layout
from degcore.tally import EncryptedTally, tally_from_json
from degcore.tally.mixed import stage_from_json

__all__ = ["RecordReader"]


class RecordReader:
    """One record directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not (self.root / layout.INDEX).is_file():
            raise InvalidInput(f"{self.root} is not a degcore record: {layout.INDEX} is missing")

    def path(self, name: str) -> Path:
        """The absolute path of a record file."""
        return self.root / name

    def load(self, name: str) -> object:
        """Parse one JSON file."""
        try:
            return json.loads(self.path(name).read_bytes())
        except FileNotFoundError:
            raise InvalidInput(f"record file {name} is missing") from None
        except ValueError as exc:
            raise InvalidInput(f"record file {name} is not JSON: {exc}") from None

    def lines(self, name: str) -> Iterator[bytes]:
        """The raw lines of a JSON Lines file, streamed."""
        try:
            with self.path(name).open("rb") as stream:
                yield from (line for line in stream if line.strip())
        except FileNotFoundError:
            raise InvalidInput(f"record file {name} is missing") from None

    def index(self) -> dict[str, object]:
        """``record.json``: files with their SHA-256 and stream line counts."""
        return read_record(self.load(layout.INDEX), "record", {"election_id", "files", "lines"})

    def file_hash(self, name: str) -> str:
        """The SHA-256 of a file as it is now (streamed)."""
        digest = hashlib.sha256()
        with self.path(name).open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def manifest(self) -> Manifest:
        """``manifest.json``."""
        return Manifest.from_json(self.load(layout.MANIFEST))

    def ceremony_config(self) -> CeremonyConfig:
        """``ceremony/config.json``."""
        return CeremonyConfig.from_json(self.load(layout.CONFIG))

    def ceremony_messages(
        self, config: CeremonyConfig
    ) -> tuple[list[TrusteeCommitment], list[Complaint], list[ComplaintAnswer]]:
        """The published round-1, complaint and answer messages."""
        return (
            [
                TrusteeCommitment.from_json(config, json.loads(line))
                for line in self.lines(layout.COMMITMENTS)
            ],
            [Complaint.from_json(config, json.loads(line)) for line in self.lines(layout.COMPLAINTS)],
            [ComplaintAnswer.from_json(config, json.loads(line)) for line in self.lines(layout.ANSWERS)],
        )

    def ceremony_result(self, config: CeremonyConfig) -> CeremonyResult:
        """``ceremony/result.json`` as published."""
        return CeremonyResult.from_json(config, self.load(layout.DKG_RESULT))

    def issuer_keys(self) -> dict[str, rsa.RSAPublicKey]:
        """The issuer's public key per ballot style."""
        obj = read_record(self.load(layout.ISSUER_KEYS), "issuer-keys", {"keys"})
        keys = obj["keys"]
        if not isinstance(keys, dict):
            raise InvalidInput("issuer-keys: keys must be an object")
        out = {}
        for style, pem in keys.items():
            try:
                key = serialization.load_pem_public_key(str(pem).encode())
            except ValueError as exc:
                raise InvalidInput(f"issuer key for {style}: {exc}") from None
            if not isinstance(key, rsa.RSAPublicKey):
                raise InvalidInput(f"issuer key for {style} is not an RSA key")
            out[str(style)] = key
        return out

    def box(self) -> tuple[bytes, str]:
        """The box's Ed25519 public key and its policy."""
        obj = read_record(self.load(layout.BOX), "box", {"public_key", "policy"})
        return from_hex(obj["public_key"], 32, "box public_key"), str(obj["policy"])

    def encrypted_tally(self, context: ElectionContext) -> EncryptedTally:
        """``tally/encrypted_tally.json``."""
        return tally_from_json(context, self.load(layout.ENCRYPTED_TALLY))

    def partials(self, config: CeremonyConfig) -> list[PartialDecryption]:
        """Every ``tally/partials/<trustee>.json``, in roster order."""
        folder = self.path(layout.PARTIALS)
        found = sorted(folder.glob("*.json")) if folder.is_dir() else []
        partials = [PartialDecryption.from_json(config, json.loads(p.read_bytes())) for p in found]
        order = {t: i for i, t in enumerate(config.trustees)}
        return sorted(partials, key=lambda p: order.get(p.trustee_id, len(order)))

    def mix_stages(self, context: ElectionContext, contest_id: str) -> list[MixStage]:
        """A mix-net contest's stages in order (stage-1, stage-2, …; none if nobody voted)."""
        stages: list[MixStage] = []
        while (self.path(layout.mix_stage_file(contest_id, len(stages) + 1))).is_file():
            name = layout.mix_stage_file(contest_id, len(stages) + 1)
            found, stage = stage_from_json(context, self.load(name))
            if found != contest_id:
                raise InvalidInput(f"{name} belongs to contest {found!r}")
            stages.append(stage)
        return stages

    def mix_partials(self, config: CeremonyConfig, contest_id: str) -> list[PartialDecryption]:
        """Every trustee's partial decryption of a mix-net contest's last output, in roster order."""
        folder = self.path(layout.mix_partial_file(contest_id, "x")).parent
        found = sorted(folder.glob("*.json")) if folder.is_dir() else []
        partials = [PartialDecryption.from_json(config, json.loads(p.read_bytes())) for p in found]
        order = {t: i for i, t in enumerate(config.trustees)}
        return sorted(partials, key=lambda p: order.get(p.trustee_id, len(order)))

    def result(self) -> object:
        """``tally/result.json`` as published (compared with the recomputed result)."""
        return self.load(layout.RESULT)
