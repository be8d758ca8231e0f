"""The election context: manifest, ceremony result and signed setup, and the base hash every proof binds.

docs/protocol.md §8.2. ``base_hash = sha256("degcore/4/base-hash", manifest canonical JSON,
ceremony-result canonical JSON, setup canonical JSON)`` (length-prefixed,
:func:`degcore.hashing.sha256`); the ceremony result carries the joint key, QUAL and every
trustee's verification key, and itself binds the ceremony configuration; the setup fixes every
other key and rule. A ballot proof made for one election cannot verify in another.

A context without a setup (the last part left out) serves proofs and ballots outside an election
record, such as unit tests and the mix-net on its own; :func:`degcore.record.write_record`
refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from degcore.ballot.manifest import Manifest
from degcore.ballot.setup import ElectionSetup
from degcore.elgamal import PublicKey
from degcore.encoding import canonical_json
from degcore.errors import InvalidInput
from degcore.groups import Group
from degcore.hashing import sha256
from degcore.trustees.dkg import CeremonyResult

__all__ = ["ElectionContext"]


@dataclass(frozen=True, slots=True)
class ElectionContext:
    """What ballots are encrypted and checked against."""

    manifest: Manifest
    ceremony: CeremonyResult
    setup: ElectionSetup | None = None
    #: Whether to check the setup's signature and bindings (the verifier reports V14 itself and
    #: goes on with the setup as published, so that the other checks still say what they find).
    check_setup: bool = field(default=True, repr=False, compare=False)
    base_hash: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.ceremony.config.group.name != self.manifest.group:
            ran = self.ceremony.config.group.name
            raise InvalidInput(f"the key ceremony ran over {ran}, the manifest names {self.manifest.group}")
        if self.ceremony.config.election_id != self.manifest.election_id:
            raise InvalidInput("the key ceremony belongs to another election")
        if self.setup is not None and self.check_setup:
            self.setup.check(self.manifest, self.ceremony)
        parts = [self.manifest.canonical(), canonical_json(self.ceremony.to_json())]
        if self.setup is not None:
            parts.append(self.setup.canonical())
        digest = sha256(b"degcore/4/base-hash", *parts)
        object.__setattr__(self, "base_hash", digest)

    @property
    def group(self) -> Group:
        """The election's group."""
        return self.ceremony.config.group

    @property
    def public_key(self) -> PublicKey:
        """The joint election key."""
        return self.ceremony.joint_key

    def proof_context(self, credential_key: bytes, contest_id: str, option_id: str = "") -> bytes:
        """The Fiat–Shamir context of one ballot proof: election, voter's credential key, contest, option."""
        return sha256(
            b"degcore/4/ballot-proof", self.base_hash, credential_key, contest_id.encode(), option_id.encode()
        )
