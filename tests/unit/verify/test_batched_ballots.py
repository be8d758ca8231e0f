"""The verifier checks a chunk's ballot proofs as one batch; a failed batch still names every bad ballot.

Two voters' devices change a proof after proving and sign the changed ballots with their own
credential keys; the box logs, chains and signs them as it would any ballot. Only V6 may fail,
on exactly those two entries, naming the proof and its false equation.
"""

from __future__ import annotations

import pytest

from degcore.board import CastBallot, sign_ballot
from degcore.board.log import TAG as BOARD_TAG
from degcore.chain import parse_entry_line
from degcore.encoding import canonical_json, member_bytes
from degcore.parallel import SERIAL
from degcore.record import layout
from degcore.verify import CATALOGUE, Outcome, verify_record
from tests.election_fixtures import with_bad_proof
from tests.record_fixtures import BOX_KEY, Built, build_record, lines, write_chain


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_record(tmp_path_factory.mktemp("election"))


def test_every_forged_ballot_of_a_chunk_is_named(built: Built) -> None:
    entries = lines(built.root, layout.LOG)
    forged = {2: "commitment", 5: "response"}  # log positions (1-based) → what the device changed
    for position, part in forged.items():
        entry = entries[position - 1]
        wallet = built.wallets[position - 1]
        cast = CastBallot.from_json(built.context, entry["payload"])
        ballot = with_bad_proof(built.context, cast.ballot, option=0, part=part)
        entry["payload"] = sign_ballot(built.context, ballot, wallet).to_json(built.context)
    write_chain(built.root, layout.LOG, "log-entry", BOARD_TAG, BOX_KEY, entries)
    report = verify_record(built.root, executor=SERIAL)
    v6 = report.check("V6")
    assert v6.outcome is Outcome.FAIL
    assert sorted(item for item, _ in v6.failures) == ["entry 2", "entry 5"]
    for _, reason in v6.failures:
        assert "range: mayor/m0" in reason and "A[0] does not hold" in reason, reason
    for check_id in CATALOGUE:
        if check_id != "V6":
            assert report.check(check_id).outcome in {Outcome.PASS, Outcome.SKIP}, report.to_text()


def test_the_bytes_cut_from_a_log_line_are_the_ones_encoded_again(built: Built) -> None:
    """What the scan hashes without writing it again: every payload, and every ballot's digest bytes."""
    raw = (built.root / layout.LOG).read_bytes().splitlines(keepends=True)
    assert raw
    for line in raw:
        entry, obj = parse_entry_line("log-entry", line, "log line")
        payload = obj["payload"]
        assert entry.payload == canonical_json(payload)  # type: ignore[arg-type]
        if entry.kind == "ballot":
            ballot = member_bytes(entry.payload, "ballot", "credential")
            assert ballot == canonical_json(payload["ballot"])  # type: ignore[index]
