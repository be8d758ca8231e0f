"""A small election for tests: manifest, ceremony, issuer keys and credentials (real crypto throughout)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography.hazmat.primitives.asymmetric import rsa

from degcore.ballot import (
    BallotStyle,
    Contest,
    District,
    ElectionContext,
    EncryptedBallot,
    Manifest,
    Option,
    PlaintextBallot,
)
from degcore.ballot import encrypt_ballot as _encrypt
from degcore.board import CastBallot, sign_ballot
from degcore.groups import Group
from degcore.issuance import VoterCredential, finish_credential, request_credential, rsabssa
from degcore.trustees.threshold import TrusteeShare
from tests.trustee_keys import local_ceremony, test_config

STARTS = datetime(2026, 9, 18, 5, 0, tzinfo=UTC)
ENDS = datetime(2026, 9, 20, 17, 0, tzinfo=UTC)
DURING = STARTS + timedelta(hours=2)
TRUSTEES = ("t1", "t2", "t3", "t4", "t5")


def manifest(group: str) -> Manifest:
    """Two styles: a 1-of-3 contest shared by both, a cumulative contest (up to 2 per option) in style a."""
    return Manifest(
        "e2026",
        "Тестовые выборы",
        group,
        "Europe/Moscow",
        STARTS,
        ENDS,
        bytes(32),
        (
            Contest("mayor", "Мэр", tuple(Option(f"m{i}", f"Кандидат {i}") for i in range(3)), 1, 1),
            Contest("council", "Совет", tuple(Option(f"c{i}", f"Список {i}") for i in range(4)), 0, 3, 2),
        ),
        (BallotStyle("a", ("mayor", "council")), BallotStyle("b", ("mayor",))),
        (District("north", "Северный", "a"), District("south", "Южный", "b")),
    )


@cache
def _issuer_key(style: str) -> rsa.RSAPrivateKey:
    return rsabssa.generate_key(2048)


@dataclass
class Election:
    """A context with its trustees' shares and the issuer keys per style."""

    context: ElectionContext
    shares: dict[str, TrusteeShare]
    issuer: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)

    @property
    def public_keys(self) -> dict[str, rsa.RSAPublicKey]:
        return {style: key.public_key() for style, key in self.issuer.items()}

    def credential(self, style: str, election_id: str | None = None) -> VoterCredential:
        key = self.issuer[style]
        request = request_credential(
            key.public_key(), election_id or self.context.manifest.election_id, style
        )
        return finish_credential(request, rsabssa.blind_sign(key, request.blinded_msg), key.public_key())

    def cast(self, wallet: VoterCredential, selections: dict[str, dict[str, int]]) -> CastBallot:
        plain = PlaintextBallot(wallet.credential.ballot_style, selections)
        ballot, _ = _encrypt(self.context, plain, wallet.credential.public_key)
        return sign_ballot(self.context, ballot, wallet)


@cache
def _ceremony(group: Group) -> tuple[object, dict[str, TrusteeShare]]:
    return local_ceremony(test_config("e2026", group, 3, TRUSTEES))


def election(group: Group) -> Election:
    """The test election over ``group`` (the ceremony is run once per group and reused)."""
    result, shares = _ceremony(group)
    context = ElectionContext(manifest(group.name), result)  # type: ignore[arg-type]
    return Election(context, shares, {"a": _issuer_key("a"), "b": _issuer_key("b")})


def with_bad_proof(
    context: ElectionContext, ballot: EncryptedBallot, *, option: int = 0, part: str = "commitment"
) -> EncryptedBallot:
    """The voter's device changes one range proof of the first contest after proving it.

    ``part``: ``"commitment"`` (A_lo times g) or ``"response"`` (v_lo plus one). The voter then
    signs the changed ballot with its own credential key (``sign_ballot``), as a dishonest device can.
    """
    contest = ballot.contests[0]
    proof = contest.proofs[option]
    if part == "commitment":
        proof = replace(
            proof, commitments=(proof.commitments[0] * context.group.generator(), *proof.commitments[1:])
        )
    else:
        proof = replace(
            proof, responses=((proof.responses[0] + 1) % context.group.order, *proof.responses[1:])
        )
    proofs = (*contest.proofs[:option], proof, *contest.proofs[option + 1 :])
    return replace(ballot, contests=(replace(contest, proofs=proofs), *ballot.contests[1:]))
