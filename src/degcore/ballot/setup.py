"""The signed election setup: every key and rule the record's checks rely on, fixed before voting.

docs/protocol.md §8.2. The order of documents, each signed before anyone relies on it:

1. the **manifest** (carrying the authority's Ed25519 ``authority_key``) and the **announcement**
   ``election-announcement``: the authority's signature on the manifest's and the ceremony
   configuration's hashes; trustees check it before round 1 of the ceremony;
2. the **ceremony** (its messages are bound to the configuration digest) and the registry's
   signed **enrollment list** at the close of registration (its head carries the remote-list
   counts per ballot style);
3. the **setup** ``election-setup``, signed by the authority once both exist and before the
   issuance window opens: the issuer's RSA key per style and its issuance-log key, the box's key
   and policy, the ceremony (digest, result hash, trustees, threshold, joint key), the mix
   servers of each mix-net contest (at least two), the registry's key, the hash of its signed
   enrollment-list head and the counts in it, and
   the issuance and voting windows.

The election's base hash covers the signed setup, so every proof binds it, and the verifier takes
every key and rule from it and from nowhere else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from nacl.signing import SigningKey

from degcore.ballot.manifest import Manifest
from degcore.chain import sign_object, verify_object
from degcore.encoding import (
    JsonValue,
    canonical_json,
    from_hex,
    from_rfc3339,
    read_record,
    record_header,
    to_rfc3339,
)
from degcore.errors import InvalidInput, VerificationFailed
from degcore.ids import check_id
from degcore.trustees.dkg import CeremonyConfig, CeremonyResult

__all__ = [
    "MIN_MIX_SERVERS",
    "POLICIES",
    "ElectionSetup",
    "MixServer",
    "announcement",
    "check_announcement",
    "file_sha256",
]

#: A mix-net contest is shuffled by at least this many servers, so no single one knows the permutation.
MIN_MIX_SERVERS = 2
#: The box policies (docs/protocol.md §9.1).
POLICIES = ("first", "last")

_SETUP_KEYS = {
    "election_id", "manifest", "ceremony", "issuer", "box", "mix", "registry",
    "issuance_window", "voting_window", "signature",
}  # fmt: skip


def file_sha256(obj: Mapping[str, JsonValue]) -> bytes:
    """Plain SHA-256 of an object's canonical JSON: what ``sha256sum`` prints for its record file."""
    return hashlib.sha256(canonical_json(obj)).digest()


def announcement(authority: SigningKey, manifest: Manifest, config: CeremonyConfig) -> dict[str, JsonValue]:
    """Step 1: the authority's signed statement of the manifest and ceremony configuration."""
    _check_authority(authority, manifest)
    body: dict[str, JsonValue] = {
        **record_header("election-announcement"),
        "election_id": manifest.election_id,
        "manifest": file_sha256(manifest.to_json()).hex(),
        "ceremony_config": file_sha256(config.to_json()).hex(),
    }
    return sign_object(authority, body)


def check_announcement(obj: object, manifest: Manifest, config: CeremonyConfig) -> None:
    """Check an announcement against the manifest and configuration it must name."""
    f = read_record(obj, "election-announcement", {"election_id", "manifest", "ceremony_config", "signature"})
    verify_object(f, manifest.authority_key, "announcement")
    if f["election_id"] != manifest.election_id or f["manifest"] != file_sha256(manifest.to_json()).hex():
        raise VerificationFailed("announcement", "manifest", "names another manifest")
    if f["ceremony_config"] != file_sha256(config.to_json()).hex():
        raise VerificationFailed("announcement", "ceremony_config", "names another ceremony configuration")


def _check_authority(authority: SigningKey, manifest: Manifest) -> None:
    if bytes(authority.verify_key) != manifest.authority_key:
        raise InvalidInput("this signing key is not the manifest's authority_key")


@dataclass(frozen=True, slots=True)
class MixServer:
    """One server of a mix-net cascade: its id and the Ed25519 key that signs its stage."""

    server_id: str
    key: bytes


@dataclass(frozen=True, slots=True)
class ElectionSetup:
    """The signed setup (``setup/setup.json``); build with :meth:`create`, read with :meth:`from_json`."""

    body: Mapping[str, JsonValue]

    # --- building -------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        authority: SigningKey,
        manifest: Manifest,
        ceremony: CeremonyResult,
        *,
        issuer_keys: Mapping[str, str],
        issuance_key: bytes,
        issuance_window: tuple[datetime, datetime],
        box_key: bytes,
        box_policy: str = "first",
        mix_servers: Mapping[str, tuple[MixServer, ...]] | None = None,
        registry_key: bytes,
        remote_list: Mapping[str, JsonValue],
    ) -> ElectionSetup:
        """Sign the setup with the authority key; ``remote_list``: the registry's signed enrollment list."""
        _check_authority(authority, manifest)
        counts = remote_list.get("counts")
        if remote_list.get("type") != "enrollment-list" or not isinstance(counts, Mapping):
            raise InvalidInput("remote_list must be the registry's signed enrollment-list object")
        opens, closes = issuance_window
        config = ceremony.config
        body: dict[str, JsonValue] = {
            **record_header("election-setup"),
            "election_id": manifest.election_id,
            "manifest": file_sha256(manifest.to_json()).hex(),
            "ceremony": {
                "config": file_sha256(config.to_json()).hex(),
                "result": file_sha256(ceremony.to_json()).hex(),
                "trustees": list(config.trustees),
                "threshold": config.threshold,
                "joint_key": bytes(ceremony.joint_key).hex(),
            },
            "issuer": {"keys": dict(sorted(issuer_keys.items())), "log_key": issuance_key.hex()},
            "box": {"key": box_key.hex(), "policy": box_policy},
            "mix": {
                contest: [{"server": s.server_id, "key": s.key.hex()} for s in servers]
                for contest, servers in sorted((mix_servers or {}).items())
            },
            "registry": {
                "key": registry_key.hex(),
                "remote_list": file_sha256(remote_list).hex(),
                "counts": dict(counts),
            },
            "issuance_window": {"opens": to_rfc3339(opens), "closes": to_rfc3339(closes)},
            "voting_window": {
                "starts": to_rfc3339(manifest.voting_starts),
                "ends": to_rfc3339(manifest.voting_ends),
            },
        }
        setup = cls(sign_object(authority, body))
        setup._check_values(manifest)  # bad input is InvalidInput here, before anyone relies on it
        setup.check(manifest, ceremony)
        return setup

    @classmethod
    def from_json(cls, obj: object) -> ElectionSetup:
        """Parse strictly (the exact keys; values are checked by :meth:`check`)."""
        return cls(read_record(obj, "election-setup", _SETUP_KEYS))  # type: ignore[arg-type]

    def to_json(self) -> dict[str, JsonValue]:
        """The signed object (``setup/setup.json``)."""
        return dict(self.body)

    def canonical(self) -> bytes:
        """The canonical bytes the base hash covers."""
        return canonical_json(self.to_json())

    # --- checking -------------------------------------------------------------------------------
    def check(self, manifest: Manifest, ceremony: CeremonyResult) -> None:
        """Signature by the manifest's authority; bindings to the manifest and ceremony; every rule.

        Raises VerificationFailed("setup", <field>, why) naming the first field that is wrong.
        """
        verify_object(self.body, manifest.authority_key, "setup")
        b = self.body
        config = ceremony.config

        def require(ok: bool, where: str, why: str) -> None:
            if not ok:
                raise VerificationFailed("setup", where, why)

        require(b["election_id"] == manifest.election_id, "election_id", "another election")
        require(b["manifest"] == file_sha256(manifest.to_json()).hex(), "manifest", "another manifest")
        expected_ceremony = {
            "config": file_sha256(config.to_json()).hex(),
            "result": file_sha256(ceremony.to_json()).hex(),
            "trustees": list(config.trustees),
            "threshold": config.threshold,
            "joint_key": bytes(ceremony.joint_key).hex(),
        }
        require(b["ceremony"] == expected_ceremony, "ceremony", "differs from the published ceremony")
        window = {"starts": to_rfc3339(manifest.voting_starts), "ends": to_rfc3339(manifest.voting_ends)}
        require(b["voting_window"] == window, "voting_window", "differs from the manifest's")
        try:
            self._check_values(manifest)
        except InvalidInput as exc:
            raise VerificationFailed("setup", "values", str(exc)) from None

    def _check_values(self, manifest: Manifest) -> None:
        styles = {s.style_id for s in manifest.styles}
        keys = self.issuer_keys
        if set(keys) != styles:
            raise InvalidInput(f"issuer keys for styles {sorted(keys)}, the manifest has {sorted(styles)}")
        _ = (self.issuance_key, self.box_key, self.registry_key, self.remote_list_sha256)  # each decodes
        if self.box_policy not in POLICIES:
            raise InvalidInput(f"box policy {self.box_policy!r} is not one of {POLICIES}")
        mixnet = {c.contest_id for c in manifest.contests if c.tally == "mixnet"}
        servers = self.mix_servers
        if set(servers) != mixnet:
            raise InvalidInput(f"mix servers for {sorted(servers)}; mix-net contests: {sorted(mixnet)}")
        for contest, cascade in servers.items():
            if len(cascade) < MIN_MIX_SERVERS:
                raise InvalidInput(f"{contest}: {len(cascade)} mix server(s), at least {MIN_MIX_SERVERS}")
            if len({s.server_id for s in cascade}) != len(cascade) or len({s.key for s in cascade}) != len(
                cascade
            ):
                raise InvalidInput(f"{contest}: a mix server or key appears twice")
        for style, count in self.remote_list_counts.items():
            if style not in styles:
                raise InvalidInput(f"remote-list counts name an unknown style {style!r}")
            if type(count) is not int or count < 0:
                raise InvalidInput(f"remote-list count of {style} is not a non-negative integer")
        opens, closes = self.issuance_window
        if not opens < closes:
            raise InvalidInput("the issuance window ends before it opens")

    # --- what the checks rely on ----------------------------------------------------------------
    def _section(self, name: str) -> Mapping[str, object]:
        value = self.body[name]
        if not isinstance(value, Mapping):
            raise InvalidInput(f"setup: {name} must be an object")
        return value

    @property
    def election_id(self) -> str:
        """The election this setup belongs to."""
        return str(self.body["election_id"])

    @property
    def issuer_keys(self) -> dict[str, str]:
        """Ballot style → the issuer's RSA public key (PEM, SubjectPublicKeyInfo)."""
        keys = self._section("issuer").get("keys")
        if not isinstance(keys, Mapping) or not all(isinstance(v, str) for v in keys.values()):
            raise InvalidInput("setup: issuer.keys must map styles to PEM text")
        return {str(check_id(k, "ballot style")): str(v) for k, v in keys.items()}

    @property
    def issuance_key(self) -> bytes:
        """The Ed25519 key that signs the issuer's issuance log."""
        return from_hex(self._section("issuer").get("log_key"), 32, "setup issuer.log_key")

    @property
    def issuance_window(self) -> tuple[datetime, datetime]:
        """When credentials may be issued: [opens, closes)."""
        w = self._section("issuance_window")
        opens = from_rfc3339(w.get("opens"), "issuance opens")
        return opens, from_rfc3339(w.get("closes"), "issuance closes")

    @property
    def box_key(self) -> bytes:
        """The ballot box's Ed25519 key: log entries and receipts verify under it."""
        return from_hex(self._section("box").get("key"), 32, "setup box.key")

    @property
    def box_policy(self) -> str:
        """``first`` or ``last``: which ballot of a credential counts."""
        return str(self._section("box").get("policy"))

    @property
    def mix_servers(self) -> dict[str, tuple[MixServer, ...]]:
        """Mix-net contest → its cascade of servers, in stage order."""
        out: dict[str, tuple[MixServer, ...]] = {}
        for contest, servers in self._section("mix").items():
            if not isinstance(servers, list):
                raise InvalidInput(f"setup: mix.{contest} must be a list")
            out[str(contest)] = tuple(
                MixServer(
                    str(check_id(s.get("server") if isinstance(s, Mapping) else None, "mix server")),
                    from_hex(s.get("key"), 32, "mix server key"),
                )
                for s in servers
            )
        return out

    @property
    def registry_key(self) -> bytes:
        """The registry's Ed25519 key: the enrollment list verifies under it."""
        return from_hex(self._section("registry").get("key"), 32, "setup registry.key")

    @property
    def remote_list_sha256(self) -> bytes:
        """SHA-256 of the registry's signed enrollment-list head (``eligibility/remote-list.json``)."""
        return from_hex(self._section("registry").get("remote_list"), 32, "setup registry.remote_list")

    @property
    def remote_list_counts(self) -> dict[str, int]:
        """Voters on the frozen remote list per ballot style (a style not listed has none)."""
        counts = self._section("registry").get("counts")
        if not isinstance(counts, Mapping):
            raise InvalidInput("setup: registry.counts must be an object")
        return {str(k): v for k, v in counts.items()}
