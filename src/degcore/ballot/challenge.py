"""Benaloh challenges: the voter opens an encrypted ballot instead of casting it.

docs/protocol.md §8.5. The device reveals the votes and nonces; anyone checks that every
ciphertext is Enc(vote; nonce) under the election key. A challenged ballot is published and
can never be cast (the ballot box refuses its tracking code).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from degcore.ballot.context import ElectionContext
from degcore.ballot.encrypt import BallotNonces, EncryptedBallot
from degcore.elgamal import Ciphertext, verify_opening
from degcore.elgamal._codec import json_list, scalar_from_hex
from degcore.elgamal.batch import Batch
from degcore.encoding import JsonValue, read_record, record_header
from degcore.errors import InvalidInput, VerificationFailed

__all__ = ["OpenedBallot", "open_ballot", "opening_equations", "verify_opened"]


@dataclass(frozen=True, slots=True)
class OpenedBallot:
    """A challenged ballot with its votes and nonces revealed."""

    ballot: EncryptedBallot
    votes: Mapping[str, tuple[int, ...]]
    nonces: Mapping[str, tuple[int, ...]]

    def to_json(self, context: ElectionContext) -> dict[str, JsonValue]:
        """The canonical JSON object (a line of ``challenged.jsonl`` in the record)."""
        group = context.group
        return {
            **record_header("opened-ballot"),
            "ballot": self.ballot.to_json(context),
            "votes": {c: list(v) for c, v in self.votes.items()},
            "nonces": {c: [group.encode_scalar(r).hex() for r in rs] for c, rs in self.nonces.items()},
        }

    @classmethod
    def from_json(cls, context: ElectionContext, obj: object) -> OpenedBallot:
        """Parse strictly."""
        f = read_record(obj, "opened-ballot", {"ballot", "votes", "nonces"})
        group = context.group
        ballot = EncryptedBallot.from_json(context, f["ballot"])
        votes, nonces = f["votes"], f["nonces"]
        if not isinstance(votes, dict) or not isinstance(nonces, dict):
            raise InvalidInput("opened-ballot: votes and nonces are objects keyed by contest")
        return cls(
            ballot,
            {c: tuple(_count(v) for v in json_list(vs, f"votes.{c}")) for c, vs in votes.items()},
            {
                c: tuple(scalar_from_hex(group, r, f"nonces.{c}") for r in json_list(rs, f"nonces.{c}"))
                for c, rs in nonces.items()
            },
        )


def _count(value: object) -> int:
    if type(value) is not int or value < 0:
        raise InvalidInput("opened-ballot: votes are non-negative integers")
    return value


def open_ballot(context: ElectionContext, ballot: EncryptedBallot, nonces: BallotNonces) -> OpenedBallot:
    """The opened form of the voter's own ballot (its votes recovered from the nonces)."""
    votes = {}
    for contest in ballot.contests:
        options = context.manifest.contest(contest.contest_id)
        rs = nonces.nonces[contest.contest_id]
        votes[contest.contest_id] = tuple(
            _recover(context, ct, r, options.max_per_option)
            for ct, r in zip(contest.ciphertexts, rs, strict=True)
        )
    return OpenedBallot(ballot, votes, dict(nonces.nonces))


def _recover(context: ElectionContext, ct: Ciphertext, r: int, bound: int) -> int:
    for m in range(bound + 1):
        try:
            verify_opening(context.public_key, ct, m, r)
            return m
        except VerificationFailed:
            continue
    raise InvalidInput("the nonces do not open this ballot")


def _openings(opened: OpenedBallot) -> Iterator[tuple[str, int, Ciphertext, int, int]]:
    """(contest, index, ciphertext, vote, nonce) for every option; VerificationFailed if any is missing."""
    for contest in opened.ballot.contests:
        votes = opened.votes.get(contest.contest_id)
        nonces = opened.nonces.get(contest.contest_id)
        if votes is None or nonces is None or not len(votes) == len(nonces) == len(contest.ciphertexts):
            raise VerificationFailed("opened-ballot", contest.contest_id, "votes or nonces missing")
        for i, (ct, m, r) in enumerate(zip(contest.ciphertexts, votes, nonces, strict=True)):
            yield contest.contest_id, i, ct, m, r


def opening_equations(context: ElectionContext, opened: OpenedBallot, batch: Batch) -> None:
    """Add a = g^r and b = h^r · g^m for every option to ``batch`` (the votes and nonces are public now).

    What :func:`verify_opened` checks, as equations a verifier checks with many others in one
    multi-exponentiation; raises VerificationFailed at once if votes or nonces are missing.
    """
    g, h = context.group.generator(), context.public_key.h
    for contest_id, i, ct, m, r in _openings(opened):
        subject = f"{contest_id}[{i}]"
        batch.add(("opened-ballot", subject, "a = g^r"), [(ct.a, 1), (g, -r)])
        batch.add(("opened-ballot", subject, "b = h^r · g^m"), [(ct.b, 1), (h, -r), (g, -m)])


def verify_opened(context: ElectionContext, opened: OpenedBallot) -> None:
    """Check that every ciphertext of the opened ballot encrypts the shown vote with the shown nonce."""
    for contest_id, i, ct, m, r in _openings(opened):
        try:
            verify_opening(context.public_key, ct, m, r)
        except VerificationFailed:
            raise VerificationFailed(
                "opened-ballot", f"{contest_id}[{i}]", f"ciphertext does not encrypt {m}"
            ) from None
