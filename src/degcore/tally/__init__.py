"""Homomorphic tally: aggregate per option, threshold-decrypt with proofs, recover counts.

docs/architecture.md §2 step 6, docs/protocol.md §10. :func:`aggregate` multiplies the ciphertexts of every
option of every (ballot style, contest) over the counted ballots, in chunks on an executor, so a
million ballots never sit in memory. The trustees partially decrypt :meth:`EncryptedTally.ciphertexts`
(:func:`degcore.trustees.threshold.partial_decrypt` with the election's base hash as context);
:func:`decrypt_tally` checks their proofs, combines any t of them and takes the bounded discrete
log, returning a :class:`Result` with counts per contest, per ballot style and per district.
"""

from __future__ import annotations

from degcore.tally.aggregate import EncryptedTally, TallyKey, aggregate, tally_from_json
from degcore.tally.mixed import MixedContest, mix_contests, mixnet_rows
from degcore.tally.results import Result, decrypt_tally

__all__ = [
    "EncryptedTally",
    "MixedContest",
    "Result",
    "TallyKey",
    "aggregate",
    "decrypt_tally",
    "mix_contests",
    "mixnet_rows",
    "tally_from_json",
]
