"""Verifiable re-encryption mix-net with Terelius–Wikström proofs (docs/mixnet.md; architecture.md §2).

:func:`shuffle` permutes and re-encrypts rows of ciphertexts; :func:`prove` / :func:`verify` are
CHVote's GenShuffleProof / CheckShuffleProof; :mod:`degcore.mixnet.cascade` chains k mix servers and
threshold-decrypts the output.
"""

from __future__ import annotations

from degcore.mixnet.proof import ShuffleProof, generators, prove, verify
from degcore.mixnet.shuffle import Row, ShuffleSecrets, permutation, shuffle

__all__ = ["Row", "ShuffleProof", "ShuffleSecrets", "generators", "permutation", "prove", "shuffle", "verify"]
