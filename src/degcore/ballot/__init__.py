"""Manifest, plaintext and encrypted ballots, their checks, Benaloh challenges (docs/architecture.md §2).

Ballots carry only encrypted choices and proofs: no free text (REQUIREMENTS C22). The credential
and the voter's signature are added by :mod:`degcore.board`, which may import ``issuance``.
"""

from __future__ import annotations

from degcore.ballot.challenge import OpenedBallot, open_ballot, verify_opened
from degcore.ballot.check import ballot_equations, verify_ballot
from degcore.ballot.context import ElectionContext
from degcore.ballot.encrypt import BallotNonces, EncryptedBallot, EncryptedContest, encrypt_ballot
from degcore.ballot.manifest import BallotStyle, Contest, District, Manifest, Option
from degcore.ballot.plaintext import PlaintextBallot
from degcore.ballot.setup import ElectionSetup, MixServer

__all__ = [
    "BallotNonces",
    "BallotStyle",
    "Contest",
    "District",
    "ElectionContext",
    "ElectionSetup",
    "EncryptedBallot",
    "EncryptedContest",
    "Manifest",
    "MixServer",
    "OpenedBallot",
    "Option",
    "PlaintextBallot",
    "ballot_equations",
    "encrypt_ballot",
    "open_ballot",
    "verify_ballot",
    "verify_opened",
]
