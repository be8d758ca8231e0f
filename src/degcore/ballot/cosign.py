"""The co-signed setup and the parties' key fingerprints (docs/protocol.md §8.6).

The authority signs the setup, but the setup names every other party's key; so that the
authority cannot name keys of its own for them, **every party whose Ed25519 key the setup names
signs the setup's hash with that key**. A co-signature is the signed object

    {"format": FORMAT, "type": "setup-cosignature", "election_id": E,
     "setup_sha256": hex(SHA-256 of setup/setup.json), "role": R, "key": hex(32-byte key),
     "signature": hex(Ed25519 over the canonical JSON of the object without "signature")}

(the :func:`degcore.chain.sign_object` convention), one per role, in ``setup/cosignatures.jsonl``
sorted by role. The roles and their keys (:func:`setup_roles`): ``issuer-log`` (the issuance-log
key), ``box``, ``registry``, ``mix:CONTEST:SERVER`` for each mix server, ``trustee:ID`` for each
trustee of the ceremony configuration the setup names (its roster signing key). The set is
complete when every role appears exactly once, with the setup's key for that role, a valid
signature, this setup's hash and election, and nothing else.

A **fingerprint** is SHA-256 of a public key's bytes: for Ed25519 the 32 raw bytes; for the
issuer's RSA keys (``issuer:STYLE``) the DER SubjectPublicKeyInfo. :func:`fingerprints` lists
every party's, with ``authority`` (the manifest's key): what each party publishes itself so that
an observer can pin it (``degcore verify --pin ROLE=FINGERPRINT``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from cryptography.hazmat.primitives import serialization
from nacl.signing import SigningKey

from degcore.ballot.manifest import Manifest
from degcore.ballot.setup import ElectionSetup, file_sha256
from degcore.chain import sign_object, verify_object
from degcore.encoding import JsonValue, from_hex, read_record, record_header
from degcore.errors import DegcoreError, InvalidInput
from degcore.trustees.dkg import CeremonyConfig

__all__ = ["check_cosignatures", "cosign", "fingerprint", "fingerprints", "parse_pins", "setup_roles"]

_KEYS = {"election_id", "setup_sha256", "role", "key", "signature"}


def setup_roles(setup: ElectionSetup, config: CeremonyConfig) -> dict[str, bytes]:
    """Every co-signing role the setup names → its Ed25519 key, sorted by role."""
    roles: dict[str, bytes] = {
        "issuer-log": setup.issuance_key,
        "box": setup.box_key,
        "registry": setup.registry_key,
    }
    for contest, servers in setup.mix_servers.items():
        for server in servers:
            roles[f"mix:{contest}:{server.server_id}"] = server.key
    for trustee in config.trustees:
        roles[f"trustee:{trustee}"] = config.signing_key(trustee)
    return dict(sorted(roles.items()))


def cosign(key: SigningKey, setup: ElectionSetup, role: str) -> dict[str, JsonValue]:
    """The co-signature of ``setup`` by the party holding ``key`` in ``role``."""
    body: dict[str, JsonValue] = {
        **record_header("setup-cosignature"),
        "election_id": setup.election_id,
        "setup_sha256": file_sha256(setup.to_json()).hex(),
        "role": role,
        "key": bytes(key.verify_key).hex(),
    }
    return sign_object(key, body)


def check_cosignatures(
    setup: ElectionSetup, config: CeremonyConfig, objects: Iterable[object]
) -> list[tuple[str, str]]:
    """Every (role or line, what is wrong) of a set of co-signatures; empty when the set is complete."""
    roles = setup_roles(setup, config)
    digest = file_sha256(setup.to_json()).hex()
    seen: set[str] = set()
    problems: list[tuple[str, str]] = []
    for number, obj in enumerate(objects, start=1):
        try:
            f = read_record(obj, "setup-cosignature", _KEYS)
        except DegcoreError as exc:
            problems.append((f"co-signature {number}", str(exc)))
            continue
        role = f["role"]
        if not isinstance(role, str) or role not in roles:
            problems.append((f"co-signature {number}", f"role {role!r} is not one the setup names"))
            continue
        if role in seen:
            problems.append((role, "co-signed twice"))
            continue
        seen.add(role)
        why = _problem(f, roles[role], digest, setup.election_id)
        if why:
            problems.append((role, why))
    problems.extend((role, "the party did not co-sign the setup") for role in roles if role not in seen)
    return problems


def _problem(f: Mapping[str, object], key: bytes, digest: str, election_id: str) -> str:
    try:
        named = from_hex(f["key"], 32, "key")
    except InvalidInput as exc:
        return str(exc)
    if named != key:
        return "signed with a key other than the one the setup names for this role"
    if f["setup_sha256"] != digest:
        return "co-signs another setup"
    if f["election_id"] != election_id:
        return "names another election"
    try:
        verify_object(f, key, "setup-cosignature")
    except DegcoreError:
        return "signature does not verify"
    return ""


def fingerprint(public_key: bytes) -> str:
    """SHA-256 of a public key's bytes (Ed25519: the raw 32; RSA: the DER SubjectPublicKeyInfo), hex."""
    return hashlib.sha256(public_key).hexdigest()


def _rsa_der(pem: str) -> bytes:
    key = serialization.load_pem_public_key(pem.encode())
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprints(manifest: Manifest, setup: ElectionSetup, config: CeremonyConfig) -> dict[str, str]:
    """Every party's key fingerprint by role, sorted: authority, issuer:STYLE and the co-signing roles."""
    out = {"authority": fingerprint(manifest.authority_key)}
    for style, pem in setup.issuer_keys.items():
        try:
            out[f"issuer:{style}"] = fingerprint(_rsa_der(pem))
        except (ValueError, TypeError):
            out[f"issuer:{style}"] = "(not a PEM public key)"
    out.update({role: fingerprint(key) for role, key in setup_roles(setup, config).items()})
    return dict(sorted(out.items()))


def parse_pins(lines: Iterable[str], where: str = "--pin") -> dict[str, str]:
    """``ROLE=FINGERPRINT`` lines (``#`` starts a comment) → role → hex; InvalidInput names a bad one."""
    pins: dict[str, str] = {}
    for number, raw in enumerate(lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        role, sep, value = text.partition("=")
        role, value = role.strip(), value.strip().lower()
        label = f"{where} line {number}" if where != "--pin" else "--pin"
        if not sep or not role:
            raise InvalidInput(f"{label}: {raw.strip()!r} is not ROLE=FINGERPRINT")
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise InvalidInput(f"{label}: the fingerprint of {role} must be 64 hex digits (SHA-256)")
        if role in pins and pins[role] != value:
            raise InvalidInput(f"{label}: {role} is pinned twice to different fingerprints")
        pins[role] = value
    return pins
