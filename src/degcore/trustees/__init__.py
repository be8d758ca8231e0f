"""The trustees: the key ceremony and threshold decryption (docs/protocol.md §6, docs/trustees.md).

Modules are imported as modules and read as ``dkg.finalize`` (the ceremony's public messages,
their checks and the finalisation), ``trustee.Trustee`` (one trustee's side of the rounds, its
state sealed at rest) and ``threshold.partial_decrypt`` (partial decryptions and their
combination). The proofs they use are :mod:`degcore.elgamal`'s.
"""

from __future__ import annotations

from degcore.trustees import dkg, threshold, trustee

__all__ = ["dkg", "threshold", "trustee"]
