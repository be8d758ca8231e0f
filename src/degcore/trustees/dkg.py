"""Pedersen/Feldman distributed key generation, t of n: the public messages and their checks.

docs/architecture.md §2 step 2, docs/protocol.md §6. Trustee i (index i = its 1-based position in the
roster) draws f_i(z) = a_{i,0} + a_{i,1} z + … + a_{i,t−1} z^{t−1} and publishes
A_{i,k} = g^{a_{i,k}} with a Schnorr proof of knowledge of each a_{i,k}. It sends trustee j the
share s_{i,j} = f_i(j), encrypted to j (:mod:`degcore.trustees.trustee`). Trustee j accepts the
share iff g^{s_{i,j}} = ∏_k A_{i,k}^{j^k}; otherwise it publishes a complaint, and the accused
answers by publishing s_{i,j}, which everyone checks the same way.

Everything after the shares is a function of public messages (:func:`finalize`): QUAL is the
trustees whose commitments verify and who answered every complaint against them with a valid
share; the joint key is h = ∏_{i∈QUAL} A_{i,0}; trustee j's share of the joint secret is
x_j = Σ_{i∈QUAL} s_{i,j}, with verification key X_j = g^{x_j} = ∏_{i∈QUAL} ∏_k A_{i,k}^{j^k}.
An auditor re-runs :func:`finalize` on the published messages and must get the same result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from degcore.elgamal import schnorr
from degcore.elgamal._codec import (
    element_from_hex,
    elements_from_hex,
    json_list,
    proofs_from_hex,
    scalar_from_hex,
)
from degcore.elgamal.batch import Batch, verify_each
from degcore.elgamal.keys import PublicKey
from degcore.encoding import JsonValue, canonical_json, from_hex, read_record, record_header
from degcore.errors import InvalidInput, Rule, RuleViolation, VerificationFailed
from degcore.groups import Element, Group, get_group
from degcore.hashing import sha256
from degcore.ids import check_id
from degcore.trustees.signing import check_roster_keys, signature_failures

__all__ = [
    "CeremonyConfig",
    "CeremonyResult",
    "Complaint",
    "ComplaintAnswer",
    "ComplaintReason",
    "EncryptedShare",
    "TrusteeCommitment",
    "check_commitment",
    "check_commitments",
    "check_signatures",
    "finalize",
    "share_matches",
]

#: More trustees than this would make the ceremony's n² messages unwieldy; no election needs it.
MAX_TRUSTEES = 255


@dataclass(frozen=True, slots=True)
class CeremonyConfig:
    """What every trustee agrees on before the ceremony: election, group, threshold t and the roster.

    The roster is the trustees in index order (``trustees``) and each one's Ed25519 public signing
    key (``signing_keys``, same order): every message a trustee publishes is signed with it
    (:mod:`degcore.trustees.signing`). :meth:`of` builds one from a mapping trustee id → key.
    """

    election_id: str
    group: Group
    threshold: int
    trustees: tuple[str, ...]
    signing_keys: tuple[bytes, ...]
    _digest: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_id(self.election_id, "election_id")
        for trustee in self.trustees:
            check_id(trustee, "trustee id")
        if len(set(self.trustees)) != len(self.trustees):
            raise InvalidInput("the roster names a trustee twice")
        if not 1 <= len(self.trustees) <= MAX_TRUSTEES:
            raise InvalidInput(f"a ceremony needs 1 to {MAX_TRUSTEES} trustees, got {len(self.trustees)}")
        if not 1 <= self.threshold <= len(self.trustees):
            raise InvalidInput(f"threshold must be in [1, n = {len(self.trustees)}], got {self.threshold}")
        if len(self.signing_keys) != len(self.trustees):
            raise InvalidInput(f"{len(self.signing_keys)} signing keys for {len(self.trustees)} trustees")
        check_roster_keys(dict(zip(self.trustees, self.signing_keys, strict=True)))
        # Every message and proof binds the digest: compute it once (frozen, hence object.__setattr__).
        object.__setattr__(self, "_digest", sha256(canonical_json(self.to_json())))

    @classmethod
    def of(
        cls, election_id: str, group: Group, threshold: int, roster: Mapping[str, bytes]
    ) -> CeremonyConfig:
        """A configuration from the roster as trustee id → public signing key, in index order."""
        return cls(election_id, group, threshold, tuple(roster), tuple(roster.values()))

    @property
    def n(self) -> int:
        """The number of trustees."""
        return len(self.trustees)

    def index(self, trustee_id: str) -> int:
        """The trustee's share index: its 1-based position in the roster."""
        try:
            return self.trustees.index(trustee_id) + 1
        except ValueError:
            raise InvalidInput(f"{trustee_id!r} is not a trustee of this ceremony") from None

    def signing_key(self, trustee_id: str) -> bytes:
        """The trustee's Ed25519 public signing key: its messages verify under it."""
        return self.signing_keys[self.index(trustee_id) - 1]

    def to_json(self) -> dict[str, JsonValue]:
        """The canonical JSON object of the configuration (the roster as a list, in index order)."""
        return {
            **record_header("ceremony-config"),
            "election_id": self.election_id,
            "group": self.group.name,
            "threshold": self.threshold,
            "trustees": [
                {"id": t, "signing_key": k.hex()}
                for t, k in zip(self.trustees, self.signing_keys, strict=True)
            ],
        }

    @classmethod
    def from_json(cls, obj: object) -> CeremonyConfig:
        """Parse strictly."""
        fields = read_record(obj, "ceremony-config", {"election_id", "group", "threshold", "trustees"})
        threshold = fields["threshold"]
        if not isinstance(threshold, int) or isinstance(threshold, bool):
            raise InvalidInput("ceremony-config: threshold must be an integer")
        ids, keys = [], []
        for i, item in enumerate(json_list(fields["trustees"], "trustees")):
            if not isinstance(item, dict) or set(item) != {"id", "signing_key"}:
                raise InvalidInput(f"ceremony-config: trustees[{i}] must be {{'id', 'signing_key'}}")
            ids.append(str(check_id(item["id"], f"trustees[{i}].id")))
            keys.append(from_hex(item["signing_key"], 32, f"trustees[{i}].signing_key"))
        election_id = str(check_id(fields["election_id"], "election_id"))
        return cls(election_id, _group(fields["group"]), threshold, tuple(ids), tuple(keys))

    def digest(self) -> bytes:
        """SHA-256 of the canonical JSON: every message and proof of the ceremony binds it."""
        return self._digest


def _group(name: object) -> Group:
    if not isinstance(name, str):
        raise InvalidInput("group must be a string")
    return get_group(name)


def coefficient_context(config: CeremonyConfig, trustee_id: str, k: int) -> bytes:
    """The Fiat–Shamir context of the proof for A_{i,k}: ceremony, trustee index, coefficient index."""
    return sha256(
        b"degcore/4/dkg-coefficient",
        config.digest(),
        config.index(trustee_id).to_bytes(4, "big"),
        k.to_bytes(4, "big"),
    )


def ceremony_header(config: CeremonyConfig, record_type: str) -> dict[str, JsonValue]:
    """``format``, ``type`` and the ``ceremony`` digest that every ceremony-bound message starts with."""
    return {**record_header(record_type), "ceremony": config.digest().hex()}


def _signature(fields: Mapping[str, object]) -> bytes:
    return from_hex(fields["signature"], 64, "signature")


def read_ceremony_record(
    config: CeremonyConfig, obj: object, record_type: str, keys: set[str]
) -> dict[str, object]:
    """:func:`read_record` plus the check that the message belongs to this ceremony."""
    fields = read_record(obj, record_type, keys | {"ceremony"})
    if from_hex(fields["ceremony"], 32, f"{record_type}.ceremony") != config.digest():
        raise InvalidInput(f"{record_type} belongs to another ceremony")
    return fields


@dataclass(frozen=True, slots=True)
class TrusteeCommitment:
    """Round 1, public: the commitments A_{i,0..t−1}, their proofs, and the trustee's X25519 key."""

    trustee_id: str
    encryption_key: bytes
    commitments: tuple[Element, ...]
    proofs: tuple[schnorr.SchnorrProof, ...]
    #: The signer's Ed25519 signature on the object without it (:mod:`degcore.trustees.signing`).
    signature: bytes = field(default=b"", repr=False, compare=False)

    @property
    def signer(self) -> str:
        """The trustee that signs it: the committing trustee."""
        return self.trustee_id

    def to_json(self, config: CeremonyConfig) -> dict[str, JsonValue]:
        """The canonical JSON object (``keys/trustee-<id>.json`` in the record)."""
        group = config.group
        return {
            **ceremony_header(config, "dkg-commitment"),
            "trustee": self.trustee_id,
            "encryption_key": self.encryption_key.hex(),
            "commitments": [bytes(a).hex() for a in self.commitments],
            "proofs": [p.to_bytes(group).hex() for p in self.proofs],
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, config: CeremonyConfig, obj: object) -> TrusteeCommitment:
        """Parse strictly; elements are decoded with membership checks (proofs are checked later)."""
        fields = read_ceremony_record(
            config, obj, "dkg-commitment", {"trustee", "encryption_key", "commitments", "proofs", "signature"}
        )
        group, t = config.group, config.threshold
        proofs = proofs_from_hex(schnorr.SchnorrProof, group, fields["proofs"], "proofs", t)
        return cls(
            trustee_id=str(check_id(fields["trustee"], "trustee")),
            encryption_key=from_hex(fields["encryption_key"], 32, "encryption_key"),
            commitments=elements_from_hex(group, fields["commitments"], "commitments", t),
            proofs=proofs,
            signature=_signature(fields),
        )


def _commitment_equations(config: CeremonyConfig, message: TrusteeCommitment, batch: Batch) -> None:
    """The checks of a round-1 message that need no proof, then its t Schnorr equations into ``batch``."""
    group, who = config.group, message.trustee_id
    config.index(who)
    t = config.threshold
    if len(message.commitments) != t or len(message.proofs) != t:
        raise VerificationFailed("dkg-commitment", who, f"expected {t} commitments and {t} proofs")
    try:
        X25519PublicKey.from_public_bytes(message.encryption_key)
    except ValueError:
        raise VerificationFailed("dkg-commitment", who, "encryption key is not an X25519 key") from None
    for k, (a, proof) in enumerate(zip(message.commitments, message.proofs, strict=True)):
        if group.is_identity(a):
            raise VerificationFailed("dkg-commitment", who, f"commitment {k} is the identity")
        try:
            schnorr.equations(group, a, proof, coefficient_context(config, who, k), who, batch)
        except VerificationFailed:
            raise _bad_proof(who, k) from None


def _bad_proof(who: str, k: int) -> VerificationFailed:
    return VerificationFailed(
        "dkg-commitment", who, f"proof of knowledge for coefficient {k} does not verify"
    )


def _name_bad_proof(config: CeremonyConfig, message: TrusteeCommitment) -> None:
    """Check each proof of ``message`` alone and raise for the first that fails (after a failed batch)."""
    who = message.trustee_id
    for k, (a, proof) in enumerate(zip(message.commitments, message.proofs, strict=True)):
        try:
            schnorr.verify(config.group, a, proof, coefficient_context(config, who, k), who)
        except VerificationFailed:
            raise _bad_proof(who, k) from None


def check_commitment(config: CeremonyConfig, message: TrusteeCommitment) -> None:
    """Check a round-1 message; raise VerificationFailed("dkg-commitment") naming the trustee."""
    batch = Batch(config.group)
    _commitment_equations(config, message, batch)
    if not batch.holds():
        _name_bad_proof(config, message)


def check_commitments(
    config: CeremonyConfig, messages: Sequence[TrusteeCommitment]
) -> list[VerificationFailed | None]:
    """Per message, what :func:`check_commitment` raises, or None; all proofs in one batch when all hold."""
    out: list[VerificationFailed | None] = [None] * len(messages)
    batches: dict[int, Batch] = {}
    for i, message in enumerate(messages):
        batch = Batch(config.group)
        try:
            _commitment_equations(config, message, batch)
            batches[i] = batch
        except VerificationFailed as exc:
            out[i] = exc
    for i, failed in zip(batches, verify_each(list(batches.values())), strict=True):
        if failed is not None:
            try:
                _name_bad_proof(config, messages[i])
            except VerificationFailed as exc:
                out[i] = exc
    return out


def evaluate_commitments(group: Group, commitments: Sequence[Element], index: int) -> Element:
    """∏_k A_k^{index^k} by Horner's rule in the exponent (t−1 exponentiations by the small index)."""
    acc = commitments[-1]
    for a in reversed(commitments[:-1]):
        acc = group.exp_vartime(acc, index) * a
    return acc


def share_matches(config: CeremonyConfig, commitments: Sequence[Element], recipient: str, share: int) -> bool:
    """Whether g^share = ∏_k A_k^{j^k} for the recipient's index j (a public check)."""
    group = config.group
    return group.exp_g(share) == evaluate_commitments(group, commitments, config.index(recipient))


@dataclass(frozen=True, slots=True)
class EncryptedShare:
    """Round 2, from dealer to recipient: s_{i,j} under AES-256-GCM with an X25519 + HKDF key."""

    dealer: str
    recipient: str
    nonce: bytes
    ciphertext: bytes

    def to_json(self, config: CeremonyConfig) -> dict[str, JsonValue]:
        """The canonical JSON object (sent to the recipient; not part of the record)."""
        return {
            **ceremony_header(config, "dkg-encrypted-share"),
            "dealer": self.dealer,
            "recipient": self.recipient,
            "nonce": self.nonce.hex(),
            "ciphertext": self.ciphertext.hex(),
        }

    @classmethod
    def from_json(cls, config: CeremonyConfig, obj: object) -> EncryptedShare:
        """Parse strictly."""
        fields = read_ceremony_record(
            config, obj, "dkg-encrypted-share", {"dealer", "recipient", "nonce", "ciphertext"}
        )
        length = config.group.scalar_bytes + 16  # the scalar and the GCM tag
        return cls(
            dealer=str(check_id(fields["dealer"], "dealer")),
            recipient=str(check_id(fields["recipient"], "recipient")),
            nonce=from_hex(fields["nonce"], 12, "nonce"),
            ciphertext=from_hex(fields["ciphertext"], length, "ciphertext"),
        )


class ComplaintReason(StrEnum):
    """Why a recipient complains about a dealer."""

    MISSING = "missing"
    UNDECRYPTABLE = "undecryptable"
    INVALID_SHARE = "invalid_share"


@dataclass(frozen=True, slots=True)
class Complaint:
    """Round 3, public: ``accuser`` received no valid share from ``accused``."""

    accuser: str
    accused: str
    reason: ComplaintReason
    #: The signer's Ed25519 signature on the object without it (:mod:`degcore.trustees.signing`).
    signature: bytes = field(default=b"", repr=False, compare=False)

    @property
    def signer(self) -> str:
        """The trustee that signs it: the accuser."""
        return self.accuser

    def __post_init__(self) -> None:
        if self.accuser == self.accused:
            raise InvalidInput("a trustee cannot complain about itself")

    def to_json(self, config: CeremonyConfig) -> dict[str, JsonValue]:
        """The canonical JSON object (``keys/complaints.json`` in the record lists them)."""
        return {
            **ceremony_header(config, "dkg-complaint"),
            "accuser": self.accuser,
            "accused": self.accused,
            "reason": str(self.reason),
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, config: CeremonyConfig, obj: object) -> Complaint:
        """Parse strictly."""
        fields = read_ceremony_record(
            config, obj, "dkg-complaint", {"accuser", "accused", "reason", "signature"}
        )
        try:
            reason = ComplaintReason(str(fields["reason"]))
        except ValueError:
            raise InvalidInput(f"dkg-complaint: unknown reason {fields['reason']!r}") from None
        return cls(
            str(check_id(fields["accuser"], "accuser")),
            str(check_id(fields["accused"], "accused")),
            reason,
            _signature(fields),
        )


@dataclass(frozen=True, slots=True, repr=False)
class ComplaintAnswer:
    """Round 4, public: the accused reveals the share s_{i,j} it owes the accuser."""

    accused: str
    accuser: str
    share: int
    #: The signer's Ed25519 signature on the object without it (:mod:`degcore.trustees.signing`).
    signature: bytes = field(default=b"", repr=False, compare=False)

    @property
    def signer(self) -> str:
        """The trustee that signs it: the accused."""
        return self.accused

    def __repr__(self) -> str:
        return f"ComplaintAnswer({self.accused} → {self.accuser})"

    def to_json(self, config: CeremonyConfig) -> dict[str, JsonValue]:
        """The canonical JSON object."""
        return {
            **ceremony_header(config, "dkg-answer"),
            "accused": self.accused,
            "accuser": self.accuser,
            "share": config.group.encode_scalar(self.share).hex(),
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, config: CeremonyConfig, obj: object) -> ComplaintAnswer:
        """Parse strictly."""
        fields = read_ceremony_record(config, obj, "dkg-answer", {"accused", "accuser", "share", "signature"})
        return cls(
            str(check_id(fields["accused"], "accused")),
            str(check_id(fields["accuser"], "accuser")),
            scalar_from_hex(config.group, fields["share"], "share"),
            _signature(fields),
        )


@dataclass(frozen=True, slots=True)
class CeremonyResult:
    """The outcome: QUAL, who was disqualified and why, the joint key and each trustee's X_j."""

    config: CeremonyConfig
    qualified: tuple[str, ...]
    disqualified: Mapping[str, str]
    joint_key: PublicKey
    verification_keys: Mapping[str, Element] = field(repr=False)
    #: The public messages it was derived from (for the election record; not part of its JSON).
    commitments: tuple[TrusteeCommitment, ...] = field(default=(), repr=False, compare=False)
    complaints: tuple[Complaint, ...] = field(default=(), repr=False, compare=False)
    answers: tuple[ComplaintAnswer, ...] = field(default=(), repr=False, compare=False)

    def to_json(self) -> dict[str, JsonValue]:
        """The canonical JSON object (``keys/joint_key.json`` in the record)."""
        return {
            **ceremony_header(self.config, "dkg-result"),
            "qualified": list(self.qualified),
            "disqualified": [{"trustee": t, "reason": r} for t, r in sorted(self.disqualified.items())],
            "joint_key": bytes(self.joint_key).hex(),
            "verification_keys": [
                {"trustee": t, "key": bytes(self.verification_keys[t]).hex()} for t in self.qualified
            ],
        }

    @classmethod
    def from_json(cls, config: CeremonyConfig, obj: object) -> CeremonyResult:
        """Parse strictly (to compare with :func:`finalize` of the published messages)."""
        fields = read_ceremony_record(
            config, obj, "dkg-result", {"qualified", "disqualified", "joint_key", "verification_keys"}
        )
        group = config.group
        qualified = tuple(str(check_id(t, "qualified")) for t in json_list(fields["qualified"], "qualified"))
        disqualified: dict[str, str] = {}
        for item in json_list(fields["disqualified"], "disqualified"):
            entry = _pair(item, "reason")
            disqualified[str(check_id(entry["trustee"], "trustee"))] = str(entry["reason"])
        keys = {}
        for i, item in enumerate(json_list(fields["verification_keys"], "verification_keys", len(qualified))):
            entry = _pair(item, "key")
            keys[str(check_id(entry["trustee"], "trustee"))] = element_from_hex(
                group, entry["key"], f"verification_keys[{i}]"
            )
        joint = PublicKey(group, element_from_hex(group, fields["joint_key"], "joint_key"))
        return cls(config, qualified, disqualified, joint, keys)


def _pair(item: object, second: str) -> dict[str, object]:
    if not isinstance(item, dict) or set(item) != {"trustee", second} or not isinstance(item[second], str):
        raise InvalidInput(f"expected {{'trustee', '{second}'}} objects")
    return item


def _valid_commitments(
    config: CeremonyConfig, commitments: Sequence[TrusteeCommitment], disqualified: dict[str, str]
) -> dict[str, TrusteeCommitment]:
    """Each roster trustee's one verifying round-1 message; the others go into ``disqualified``."""
    published: dict[str, list[TrusteeCommitment]] = {}
    for message in commitments:
        config.index(message.trustee_id)
        published.setdefault(message.trustee_id, []).append(message)
    single: dict[str, TrusteeCommitment] = {}
    reasons: dict[str, str] = {}
    for trustee in config.trustees:
        messages = published.get(trustee, [])
        if not messages:
            reasons[trustee] = "published no commitments"
        elif len(set(messages)) > 1:
            reasons[trustee] = "published two different sets of commitments"
        else:
            single[trustee] = messages[0]
    checked = check_commitments(config, list(single.values()))  # one batch for every proof
    for trustee, failed in zip(single, checked, strict=True):
        if failed is not None:
            reasons[trustee] = failed.detail
    valid: dict[str, TrusteeCommitment] = {}
    for trustee in config.trustees:  # roster order, as before
        if trustee in reasons:
            disqualified[trustee] = reasons[trustee]
        elif trustee in single:
            valid[trustee] = single[trustee]
    return valid


def _complaint_verdict(
    config: CeremonyConfig, complaint: Complaint, dealer: TrusteeCommitment, shares: set[int]
) -> str | None:
    """Why the accused is disqualified by this complaint, or None if its public answer clears it."""
    accuser = complaint.accuser
    if not shares:
        return f"did not answer the complaint of {accuser}"
    if len(shares) > 1:
        return f"revealed two different shares for {accuser}"
    if not share_matches(config, dealer.commitments, accuser, next(iter(shares))):
        return f"the share revealed for {accuser} does not match its commitments"
    return None


def check_signatures(
    config: CeremonyConfig,
    commitments: Sequence[TrusteeCommitment],
    complaints: Sequence[Complaint] = (),
    answers: Sequence[ComplaintAnswer] = (),
) -> None:
    """Every message signed by its trustee's roster key; the first that is not raises, naming it."""
    failures = signature_failures(config, [*commitments, *complaints, *answers])
    if failures:
        raise failures[0]


def finalize(
    config: CeremonyConfig,
    commitments: Sequence[TrusteeCommitment],
    complaints: Sequence[Complaint] = (),
    answers: Sequence[ComplaintAnswer] = (),
) -> CeremonyResult:
    """Decide QUAL and derive the joint key from the public messages alone (deterministic).

    Every message must be signed by its trustee's roster key: a message that is not is not that
    trustee's, and the set is refused with VerificationFailed("trustee-signature") naming it.
    Raises RuleViolation(NOT_ENOUGH_TRUSTEES) if fewer than t trustees qualify.
    """
    check_signatures(config, commitments, complaints, answers)
    disqualified: dict[str, str] = {}
    valid = _valid_commitments(config, commitments, disqualified)
    revealed: dict[tuple[str, str], set[int]] = {}
    for answer in answers:
        revealed.setdefault((answer.accused, answer.accuser), set()).add(answer.share)
    for complaint in complaints:
        config.index(complaint.accuser)
        config.index(complaint.accused)
        dealer = valid.get(complaint.accused)
        if dealer is None:
            continue
        shares = revealed.get((complaint.accused, complaint.accuser), set())
        verdict = _complaint_verdict(config, complaint, dealer, shares)
        if verdict is not None:
            disqualified[complaint.accused] = verdict
            del valid[complaint.accused]

    qualified = tuple(t for t in config.trustees if t in valid)
    if len(qualified) < config.threshold:
        raise RuleViolation(
            Rule.NOT_ENOUGH_TRUSTEES,
            f"only {len(qualified)} of {config.n} trustees qualified, threshold is {config.threshold}: "
            + "; ".join(f"{t}: {r}" for t, r in disqualified.items()),
        )
    group = config.group
    combined = [group.product(valid[t].commitments[k] for t in qualified) for k in range(config.threshold)]
    keys = {t: evaluate_commitments(group, combined, config.index(t)) for t in qualified}
    joint = PublicKey(group, combined[0])
    return CeremonyResult(
        config, qualified, disqualified, joint, keys, tuple(commitments), tuple(complaints), tuple(answers)
    )
