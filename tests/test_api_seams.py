"""One convention at the API's seams: the election context first, verification raises, JSON scope first.

- ``threshold.partial_decrypt`` / ``ThresholdDecryption`` / ``threshold_decrypt`` take the context
  first, as the ballot functions do: an ElectionContext or the bytes its proofs bind; anything
  else (the old argument order above all) is InvalidInput, never a bare TypeError.
- ``BallotBox.verify_log`` returns the entry count or raises VerificationFailed naming the position.
- ``PartialDecryption.to_json`` / ``from_json`` take the scope first: the context or the ceremony's
  configuration give the same bytes.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from degcore.board import BallotBox
from degcore.elgamal import encrypt
from degcore.encoding import canonical_json
from degcore.errors import InvalidInput, VerificationFailed
from degcore.groups import get_group
from degcore.parallel import SERIAL
from degcore.tally import EncryptedTally, aggregate, tally_from_json
from degcore.trustees import threshold
from degcore.trustees.threshold import PartialDecryption, ThresholdDecryption
from tests.record_fixtures import BOX_KEY, DURING, _ceremony, cast, credential, issuer_key, setup_for

GROUP = get_group("ristretto255")


def test_the_context_or_its_base_hash_give_the_same_partial_decryption() -> None:
    context, _ = setup_for(GROUP)
    _, shares = _ceremony(GROUP)
    cts = [encrypt(context.public_key, 1), encrypt(context.public_key, 0)]
    by_context = threshold.partial_decrypt(context, shares["t1"], cts, executor=SERIAL)
    by_bytes = threshold.partial_decrypt(context.base_hash, shares["t2"], cts, executor=SERIAL)
    session = ThresholdDecryption(context, context.ceremony, cts, executor=SERIAL)
    session.add(by_context)
    session.add(by_bytes)  # both bound to the same base hash
    session.add(threshold.partial_decrypt(context, shares["t3"], cts, executor=SERIAL))
    values = session.combine()
    assert values == threshold.threshold_decrypt(
        context.base_hash,
        context.ceremony,
        cts,
        [by_context, by_bytes, session._accepted["t3"]],
        executor=SERIAL,
    )
    assert values[0] == GROUP.generator() and values[1] == GROUP.identity()


def test_the_old_argument_order_is_a_clear_invalid_input() -> None:
    context, _ = setup_for(GROUP)
    _, shares = _ceremony(GROUP)
    cts = [encrypt(context.public_key, 1)]
    with pytest.raises(InvalidInput, match="context must be an ElectionContext or its base hash"):
        threshold.partial_decrypt(shares["t1"], cts, context.base_hash)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="share must be a TrusteeShare"):
        threshold.partial_decrypt(context, cts, shares["t1"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="context must be"):
        ThresholdDecryption(context.ceremony, cts, context.base_hash)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="result must be a CeremonyResult"):
        ThresholdDecryption(context, cts, context.ceremony)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="not str"):
        threshold.partial_decrypt("base hash", shares["t1"], cts)  # type: ignore[arg-type]


def test_a_partial_decryption_travels_with_the_context_or_the_config_as_its_scope() -> None:
    context, _ = setup_for(GROUP)
    _, shares = _ceremony(GROUP)
    partial = threshold.partial_decrypt(
        context, shares["t4"], [encrypt(context.public_key, 1)], executor=SERIAL
    )
    config = context.ceremony.config
    assert canonical_json(partial.to_json(context)) == canonical_json(partial.to_json(config))
    sent = json.loads(json.dumps(partial.to_json(context)))
    assert PartialDecryption.from_json(context, sent) == partial == PartialDecryption.from_json(config, sent)
    with pytest.raises(InvalidInput, match="expected an ElectionContext or a CeremonyConfig"):
        partial.to_json(GROUP)  # type: ignore[arg-type]


def test_verify_log_counts_the_entries_or_raises_naming_the_first_bad_position(tmp_path: Path) -> None:
    context, _ = setup_for(GROUP)
    keys = {s: issuer_key(s).public_key() for s in ("a", "b")}
    store = tmp_path / "box.sqlite"
    with BallotBox(store, context, keys, BOX_KEY) as box:
        for _ in range(3):
            box.cast(cast(context, credential("b"), {"mayor": {"m1": 1}}), now=DURING)
        assert box.verify_log() == 3
    with sqlite3.connect(store) as db:  # an operator with database access rewrites entry 2's link
        db.execute("UPDATE log SET prev = hash WHERE position = 2")
    db.close()
    with BallotBox(store, context, keys, BOX_KEY) as box, pytest.raises(VerificationFailed) as info:
        box.verify_log()
    assert (info.value.check, info.value.subject) == ("box-log", "position 2")
    assert info.value.detail == "does not link to the previous entry"


def test_an_encrypted_tally_travels_with_the_context_as_its_scope() -> None:
    context, _ = setup_for(GROUP)
    ballots = [cast(context, credential("b"), {"mayor": {"m2": 1}}).ballot for _ in range(2)]
    tally = aggregate(context, ballots, executor=SERIAL)
    sent = json.loads(json.dumps(tally.to_json()))
    again = EncryptedTally.from_json(context, sent)
    assert again == tally_from_json(context, sent) == tally
    assert canonical_json(again.to_json()) == canonical_json(tally.to_json())
