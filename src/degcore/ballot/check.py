"""Checking an encrypted ballot: structure against its style, then every proof.

docs/protocol.md §8.4. :func:`verify_ballot` raises :class:`VerificationFailed` whose ``check``
names the failed rule (``ballot-election``, ``ballot-structure``, ``range``, ``sum``) and whose
``subject`` names the contest and option. :func:`ballot_equations` checks the structure and returns
the proofs' equations unchecked, so that a caller with many ballots checks them as one batch
(:func:`degcore.elgamal.batch.verify_each`).
"""

from __future__ import annotations

from degcore.ballot.context import ElectionContext
from degcore.ballot.encrypt import EncryptedBallot
from degcore.elgamal import disjunctive
from degcore.elgamal.batch import Batch
from degcore.errors import InvalidInput, VerificationFailed

__all__ = ["ballot_equations", "verify_ballot"]


def verify_ballot(context: ElectionContext, ballot: EncryptedBallot) -> None:
    """Check that ``ballot`` is a well-formed ballot of this election; raise VerificationFailed if not."""
    ballot_equations(context, ballot).verify()


def ballot_equations(context: ElectionContext, ballot: EncryptedBallot) -> Batch:
    """Check the ballot's structure (raising VerificationFailed); its proofs' equations, not yet checked."""
    if ballot.election != context.base_hash:
        raise VerificationFailed("ballot-election", ballot.style_id, "made for another election")
    try:
        style = context.manifest.style(ballot.style_id)
    except InvalidInput:
        raise VerificationFailed("ballot-structure", ballot.style_id, "unknown ballot style") from None
    if tuple(c.contest_id for c in ballot.contests) != style.contests:
        raise VerificationFailed("ballot-structure", ballot.style_id, "contests differ from the ballot style")
    pk = context.public_key
    batch = Batch(context.group)
    for encrypted in ballot.contests:
        contest = context.manifest.contest(encrypted.contest_id)
        n = len(contest.options)
        if len(encrypted.ciphertexts) != n or len(encrypted.proofs) != n:
            raise VerificationFailed("ballot-structure", contest.contest_id, f"expected {n} options")
        for ct, proof, option in zip(encrypted.ciphertexts, encrypted.proofs, contest.options, strict=True):
            disjunctive.equations(
                pk, ct, proof, hi=contest.max_per_option,
                context=context.proof_context(ballot.credential_key, contest.contest_id, option.option_id),
                subject=f"{contest.contest_id}/{option.option_id}", batch=batch,
            )  # fmt: skip
        disjunctive.sum_equations(
            pk, encrypted.ciphertexts, encrypted.sum_proof,
            lo=contest.min_selections, hi=contest.max_selections,
            context=context.proof_context(ballot.credential_key, contest.contest_id),
            subject=contest.contest_id, batch=batch,
        )  # fmt: skip
    return batch
