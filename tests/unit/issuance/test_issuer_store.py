"""The issuer on both stores: racing processes, SIGKILL around the commit, and what it keeps.

Each test runs on SQLite and on PostgreSQL (``store_location``). The children start fresh (forkserver) and
build their own issuer, as separate issuing processes would.
"""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from degcore.chain import verify_chain
from degcore.encoding import canonical_json
from degcore.errors import Rule, RuleViolation
from degcore.issuance import (
    Issuer,
    finish_credential,
    issuance_line,
    request_credential,
    rsabssa,
)
from degcore.issuance.log import ISSUANCE_TAG
from degcore.parallel import mp_context
from tests.conftest import query, race
from tests.unit.issuance.common import ELECTION, NOW, eligible, issue, keys, make_issuer, obtain

STYLE = "district-1"


_OPENED: list[Issuer] = []


@pytest.fixture(autouse=True)
def _close_what_the_test_opened() -> Iterator[None]:
    yield
    while _OPENED:
        _OPENED.pop().close()


def _open(location: str, **options: object) -> Issuer:
    """An issuer the test's teardown closes (a PostgreSQL pool must not be left to the collector)."""
    issuer = make_issuer(location, **options)
    _OPENED.append(issuer)
    return issuer


def _verified(issuer: Issuer) -> int:
    return verify_chain(ISSUANCE_TAG, issuer.log(), issuer.log_public_key)


# --- races -------------------------------------------------------------------------------------
def _issue_racing(location: str, voter: str, blinded: bytes, barrier: object, out: object) -> None:
    issuer = make_issuer(location)
    barrier.wait()  # type: ignore[attr-defined]
    try:
        out.put(issue(issuer, voter, STYLE, blinded, now=NOW).hex())  # type: ignore[attr-defined]
    except RuleViolation as exc:
        out.put(str(exc.rule))  # type: ignore[attr-defined]
    issuer.close()


def test_racing_processes_get_one_credential_per_voter(store_location: str) -> None:
    make_issuer(store_location).close()  # the schema exists before the race
    pk = keys()[STYLE].public_key()
    requests = [request_credential(pk, ELECTION, STYLE) for _ in range(4)]
    outcomes = race(_issue_racing, [(store_location, "voter-2", r.blinded_msg) for r in requests])
    assert sorted(o == str(Rule.ALREADY_ISSUED) for o in outcomes) == [False, True, True, True]
    winner = next(o for o in outcomes if o != str(Rule.ALREADY_ISSUED))
    request = next(r for r in requests if rsabssa.blind_sign(keys()[STYLE], r.blinded_msg).hex() == winner)
    finish_credential(request, bytes.fromhex(str(winner)), pk).credential.verify(pk)
    issuer = _open(store_location)
    assert issuer.issued_count() == {"district-1": 1, "district-2": 0}
    assert _verified(issuer) == 1


def test_racing_retries_of_one_request_append_one_entry(store_location: str) -> None:
    make_issuer(store_location).close()
    request = request_credential(keys()[STYLE].public_key(), ELECTION, STYLE)
    outcomes = race(_issue_racing, [(store_location, "voter-1", request.blinded_msg)] * 3)
    assert len(set(outcomes)) == 1  # the same blind signature for all three
    assert _verified(_open(store_location)) == 1


def test_racing_voters_each_get_their_entry_in_one_chain(store_location: str) -> None:
    make_issuer(store_location).close()
    pk = keys()[STYLE].public_key()
    voters = [f"voter-{i}" for i in range(10, 16)]
    jobs = [(store_location, v, request_credential(pk, ELECTION, STYLE).blinded_msg) for v in voters]
    assert all(len(str(o)) > 100 for o in race(_issue_racing, jobs))
    issuer = _open(store_location)
    assert _verified(issuer) == len(voters)
    assert [e.position for e in issuer.log()] == list(range(1, len(voters) + 1))
    assert issuer.issued_count()[STYLE] == len(voters)


# --- crashes -----------------------------------------------------------------------------------
def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _issue_and_die(location: str, blinded: bytes, where: str) -> None:
    """Child: issue for voter-1 and be SIGKILLed just before or just after the commit, or while signing."""
    issuer = make_issuer(location)
    store = issuer._store
    original = store.write

    @contextmanager
    def dying_write() -> Iterator[object]:
        with original() as tx:
            yield tx
            if where == "before-commit":
                _die()
        if where == "after-commit":
            _die()  # committed, but the answer never leaves the process

    store.write = dying_write  # type: ignore[method-assign]
    if where == "while-signing":
        rsabssa.blind_sign = lambda *_: _die()  # type: ignore[assignment, func-returns-value]
    issue(issuer, "voter-1", STYLE, blinded, now=NOW)
    os._exit(0)  # not reached


@pytest.mark.parametrize("where", ["while-signing", "before-commit", "after-commit"])
def test_a_killed_issuer_releases_nothing_without_its_row(store_location: str, where: str) -> None:
    make_issuer(store_location).close()
    pk = keys()[STYLE].public_key()
    request = request_credential(pk, ELECTION, STYLE)
    child = mp_context().Process(target=_issue_and_die, args=(store_location, request.blinded_msg, where))
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    issuer = _open(store_location)
    committed = where == "after-commit"
    assert issuer.issued_count()[STYLE] == int(committed)
    assert _verified(issuer) == int(committed)
    # The voter retries with the same request: one credential, and no second entry.
    blind = issue(issuer, "voter-1", STYLE, request.blinded_msg, now=NOW)
    assert blind == rsabssa.blind_sign(keys()[STYLE], request.blinded_msg)
    finish_credential(request, blind, pk).credential.verify(pk)
    assert _verified(issuer) == 1
    assert issuer.issued_count()[STYLE] == 1
    with pytest.raises(RuleViolation) as refused:
        issue(issuer, "voter-1", STYLE, request_credential(pk, ELECTION, STYLE).blinded_msg, now=NOW)
    assert refused.value.rule is Rule.ALREADY_ISSUED


_MANY = {f"voter-{100 + i}": STYLE for i in range(40)}


def _issue_many(location: str, jobs: list[tuple[str, bytes]], conn: object) -> None:
    """Child: issue for each voter in turn; report a voter only once her signature is released."""
    issuer = make_issuer(location, eligibility=eligible(_MANY))
    for voter, message in jobs:
        issue(issuer, voter, STYLE, message, now=NOW)
        conn.send(voter)  # type: ignore[attr-defined]


def test_every_released_signature_has_its_row_and_entry(store_location: str) -> None:
    """SIGKILL an issuing process at arbitrary moments; everything it answered is recorded."""
    make_issuer(store_location).close()
    pk = keys()[STYLE].public_key()
    jobs = [(voter, request_credential(pk, ELECTION, STYLE).blinded_msg) for voter in _MANY]
    context = mp_context()
    answered: list[str] = []
    for attempt in range(3):
        # What was answered is done; the request in flight when the child died is retried as is.
        todo = [job for job in jobs if job[0] not in answered]
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_issue_many, args=(store_location, todo, sender))
        child.start()
        sender.close()
        answered += [receiver.recv() for _ in range(3 + attempt)]
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        child.join(60)
        while True:
            try:
                answered.append(receiver.recv())
            except EOFError:
                break
    issuer = _open(store_location, eligibility=eligible(_MANY))
    entries = list(issuer.log())
    assert _verified(issuer) == len(entries) == issuer.issued_count()[STYLE]  # each entry has its row
    assert len(entries) >= len(answered) >= 9
    for voter in answered:
        receipt = issuer.receipt(voter)
        assert entries[receipt.position - 1].hash == receipt.hash
    issue(issuer, "voter-139", STYLE, jobs[-1][1], now=NOW)
    assert _verified(issuer) == len(entries) + 1  # the chain continues


# --- what the issuer keeps --------------------------------------------------------------------
def _stored_bytes(location: str) -> bytes:
    """Every byte the store holds: the SQLite files and their rows, or every PostgreSQL row."""
    stored = b""
    if not location.startswith("postgresql://"):
        for f in Path(location).parent.iterdir():
            stored += f.read_bytes()
    for table in ("issued", "log", "state"):
        for row in query(location, f"SELECT * FROM {table}"):  # noqa: S608 - our own table names
            stored += repr(row).encode() + b"".join(
                bytes(v) for v in row if isinstance(v, bytes | memoryview)
            )
    return stored


def test_issuer_learns_and_stores_nothing_linkable(store_location: str) -> None:
    """Scan what the issuer received, answered, stored and published for the credential and its hashes."""
    issuer = _open(store_location)
    pk = issuer.public_keys()[STYLE]
    request = request_credential(pk, ELECTION, STYLE)
    received = b"voter-1" + STYLE.encode() + request.blinded_msg
    answered = issue(issuer, "voter-1", STYLE, request.blinded_msg, now=NOW)
    cred = finish_credential(request, answered, pk).credential
    obtain(issuer, "voter-2", STYLE)
    issuer.close_log(NOW)
    published = b"".join(canonical_json(issuance_line(e)) + b"\n" for e in issuer.log())
    stored = _stored_bytes(store_location)
    needles = []
    for s in [cred.public_key, cred.signature, cred.message(), cred.prefix]:
        digest = hashlib.sha256(s).digest()
        needles += [s, s.hex().encode(), digest, digest.hex().encode()]
    for haystack in (received, answered, stored, published):
        for needle in needles:
            assert needle not in haystack
    for voter in (b"voter-1", b"voter-2"):  # no voter id in clear, nor its plain hash, in the log
        for needle in (voter, hashlib.sha256(voter).hexdigest().encode()):
            assert needle not in published
