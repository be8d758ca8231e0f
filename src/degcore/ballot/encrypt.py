"""Encrypted ballots: per option a ciphertext and a 0..R proof, per contest a proof of the total.

docs/protocol.md §8.3. Every proof's context is
``ElectionContext.proof_context(credential key, contest, option)``: it binds the election's base
hash and the voter's credential key, so a ballot's proofs cannot be copied into another
voter's ballot or another election. The tracking code is the SHA-256 of the ballot's canonical
JSON; the voter's credential key signs it (``degcore.board``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from degcore.ballot.context import ElectionContext
from degcore.ballot.plaintext import PlaintextBallot
from degcore.elgamal import Ciphertext, disjunctive, encrypt_revealable
from degcore.elgamal._codec import json_list
from degcore.encoding import JsonValue, from_hex, plain_canonical_json, read_record, record_header
from degcore.errors import InvalidInput
from degcore.groups import Group
from degcore.hashing import sha256
from degcore.ids import check_id

__all__ = ["BallotNonces", "EncryptedBallot", "EncryptedContest", "encrypt_ballot"]


@dataclass(frozen=True, slots=True)
class EncryptedContest:
    """One contest: a ciphertext and range proof per option, and the proof on their sum."""

    contest_id: str
    ciphertexts: tuple[Ciphertext, ...]
    proofs: tuple[disjunctive.RangeProof, ...]
    sum_proof: disjunctive.RangeProof


@dataclass(frozen=True, slots=True)
class EncryptedBallot:
    """An encrypted ballot of one style, bound to the voter's credential key."""

    election: bytes
    style_id: str
    credential_key: bytes
    contests: tuple[EncryptedContest, ...]

    def to_json(self, context: ElectionContext) -> dict[str, JsonValue]:
        """The canonical JSON object (a line of ``ballots.jsonl`` in the record)."""
        group = context.group
        return {
            **record_header("encrypted-ballot"),
            "election": self.election.hex(),
            "style": self.style_id,
            "credential_key": self.credential_key.hex(),
            "contests": [
                {
                    "contest": c.contest_id,
                    "ciphertexts": [bytes(ct).hex() for ct in c.ciphertexts],
                    "proofs": [p.to_bytes(group).hex() for p in c.proofs],
                    "sum_proof": c.sum_proof.to_bytes(group).hex(),
                }
                for c in self.contests
            ],
        }

    def digest(self, context: ElectionContext) -> bytes:
        """SHA-256 of the canonical JSON: the tracking code, and what the credential key signs."""
        return sha256(b"degcore/4/ballot", plain_canonical_json(self.to_json(context)))

    def tracking_code(self, context: ElectionContext) -> str:
        """The digest in hex, as shown to the voter."""
        return self.digest(context).hex()

    @classmethod
    def from_json(cls, context: ElectionContext, obj: object) -> EncryptedBallot:
        """Parse strictly; every element is decoded with its membership check."""
        f = read_record(obj, "encrypted-ballot", {"election", "style", "credential_key", "contests"})
        try:
            contests = _contests_at_once(context.group, f["contests"])
        except InvalidInput:  # read again one item at a time: the first wrong one is named, in order
            contests = _contests_one_by_one(context.group, f["contests"])
        return cls(
            from_hex(f["election"], 32, "election"),
            str(check_id(f["style"], "style")),
            from_hex(f["credential_key"], 32, "credential_key"),
            contests,
        )


_CONTEST_KEYS = {"contest", "ciphertexts", "proofs", "sum_proof"}


def _contest_item(i: int, item: object) -> dict[str, object]:
    if not isinstance(item, dict) or set(item) != _CONTEST_KEYS:
        raise InvalidInput(f"contests[{i}]: expected contest, ciphertexts, proofs, sum_proof")
    return item


def _contests_one_by_one(group: Group, value: object) -> tuple[EncryptedContest, ...]:
    """The contests, each element decoded as it is read (the first problem raises, in order)."""
    contests = []
    for i, raw in enumerate(json_list(value, "contests")):
        item = _contest_item(i, raw)
        cts = tuple(
            Ciphertext.decode(group, from_hex(c, 2 * group.element_bytes, f"contests[{i}].ciphertexts"))
            for c in json_list(item["ciphertexts"], "ciphertexts")
        )
        proofs = tuple(
            disjunctive.RangeProof.from_bytes(group, _hex(p)) for p in json_list(item["proofs"], "proofs")
        )
        total = disjunctive.RangeProof.from_bytes(group, _hex(item["sum_proof"]))
        contests.append(EncryptedContest(str(check_id(item["contest"], "contest")), cts, proofs, total))
    return tuple(contests)


def _contests_at_once(group: Group, value: object) -> tuple[EncryptedContest, ...]:
    """The same checks as :func:`_contests_one_by_one`, every ciphertext and every proof's
    commitments decoded in two native calls; InvalidInput without naming the item if any fails."""
    shapes: list[tuple[str, int, int]] = []
    ciphertexts: list[bytes] = []
    proofs: list[bytes] = []
    for i, raw in enumerate(json_list(value, "contests")):
        item = _contest_item(i, raw)
        cts = [
            from_hex(c, 2 * group.element_bytes, "ciphertext")
            for c in json_list(item["ciphertexts"], "ciphertexts")
        ]
        ps = [_hex(p) for p in json_list(item["proofs"], "proofs")] + [_hex(item["sum_proof"])]
        shapes.append((str(check_id(item["contest"], "contest")), len(cts), len(ps)))
        ciphertexts += cts
        proofs += ps
    elements = iter(group.decode_many(b"".join(ciphertexts)))
    decoded = iter(disjunctive.RangeProof.many_from_bytes(group, proofs))
    contests = []
    for contest_id, n_cts, n_proofs in shapes:
        cts_ = tuple(Ciphertext(next(elements), next(elements)) for _ in range(n_cts))
        ps_ = [next(decoded) for _ in range(n_proofs)]
        contests.append(EncryptedContest(contest_id, cts_, tuple(ps_[:-1]), ps_[-1]))
    return tuple(contests)


def _hex(value: object) -> bytes:
    if not isinstance(value, str) or len(value) % 2:
        raise InvalidInput("a proof is an even-length hex string")
    return from_hex(value, len(value) // 2, "proof")


@dataclass(frozen=True, slots=True, repr=False)
class BallotNonces:
    """The encryption nonces: secret unless the voter challenges (opens) the ballot."""

    nonces: Mapping[str, tuple[int, ...]]

    def __repr__(self) -> str:
        return "BallotNonces(<secret>)"


def encrypt_ballot(
    context: ElectionContext, plaintext: PlaintextBallot, credential_key: bytes
) -> tuple[EncryptedBallot, BallotNonces]:
    """Check the plaintext against its style, then encrypt it with every proof."""
    if not isinstance(credential_key, bytes) or len(credential_key) != 32:
        raise InvalidInput("the credential key is a 32-byte Ed25519 public key")
    votes = plaintext.votes(context.manifest)
    pk = context.public_key
    contests, nonces = [], {}
    for contest_id, counts in votes.items():
        contest = context.manifest.contest(contest_id)
        pairs = [encrypt_revealable(pk, m) for m in counts]
        proofs = tuple(
            disjunctive.prove(
                pk,
                ct,
                m,
                r,
                hi=contest.max_per_option,
                context=context.proof_context(credential_key, contest_id, option.option_id),
            )
            for (ct, r), m, option in zip(pairs, counts, contest.options, strict=True)
        )
        cts = [ct for ct, _ in pairs]
        total = disjunctive.prove_sum(
            pk, cts, sum(counts), sum(r for _, r in pairs),
            lo=contest.min_selections, hi=contest.max_selections,
            context=context.proof_context(credential_key, contest_id),
        )  # fmt: skip
        contests.append(EncryptedContest(contest_id, tuple(cts), proofs, total))
        nonces[contest_id] = tuple(r for _, r in pairs)
    ballot = EncryptedBallot(context.base_hash, plaintext.style_id, credential_key, tuple(contests))
    return ballot, BallotNonces(nonces)
