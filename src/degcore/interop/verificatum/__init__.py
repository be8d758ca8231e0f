"""Verificatum (vmn 3.x) interoperability: byte trees, random oracles, its groups, proofs and runs.

``bytetree`` (vmn's byte trees), ``oracle`` (its random oracles and PRG), ``groups`` (groups as vmn
names and encodes them), ``run`` (protInfo.xml and proof directories), ``transcript`` (the
shuffle proof's commitments), ``verifier`` (:func:`~degcore.interop.verificatum.verifier.verify_run`,
every shuffle proof of a run), ``decryption`` (the threshold decryption proof), ``export`` (degcore's
own runs written in vmn's format), ``report`` and ``cli`` (``degcore vmnv``). docs/verificatum.md.
"""
