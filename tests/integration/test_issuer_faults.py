"""Issuer faults on both stores (issue 27): racing issuers, a kill after the commit, a racing withdrawal.

Every test runs on a SQLite file and on PostgreSQL (``store_location``; the PostgreSQL half skips
without ``DEGCORE_POSTGRES_URL``). The processes are real ones started fresh (degcore's start
method, never a fork of the test process); each builds its own issuer or registry over the shared
store, and a barrier releases the contenders of every round together. Each test asserts what was
stored (the issuance log and its rows, the registry's voter row, application and audit chain), not
only which error was raised. Every child is joined, and killed if it outlives its bound.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import pytest

from degcore.chain import verify_chain
from degcore.errors import DegcoreError, IneligibleReason, InvalidInput, Rule
from degcore.issuance import Issuer, finish_credential, request_credential, rsabssa, sign_credential_request
from degcore.issuance.log import ISSUANCE_TAG, Issued, parse_payload
from degcore.parallel import mp_context
from degcore.registry import Registry, Status
from tests.conftest import POSTGRES_URL, _with_schema, query
from tests.unit.issuance import common
from tests.unit.registry.conftest import KEY, SCHEDULE, SETTINGS, SIGNING, consented, device_key

STYLE = "district-1"
#: How many times each race is run, each time for a voter nobody asked for before.
ROUNDS = 6
#: Seconds any child may take for its whole job before the test kills it and fails.
BOUND = 120


# --- processes -----------------------------------------------------------------------------------
@contextmanager
def _children(*jobs: tuple[Callable[..., None], tuple[object, ...]]) -> Iterator[list[BaseProcess]]:
    """Start one fresh process per (target, args); at the end join each, killing any still alive."""
    context = mp_context()
    procs = [context.Process(target=target, args=args) for target, args in jobs]
    try:
        for p in procs:
            p.start()
        yield procs
    finally:
        for p in procs:
            if p.pid is not None:
                p.join(BOUND)
                if p.is_alive():  # pragma: no cover - a hung child: no orphan, and the test fails
                    p.kill()
                    p.join()


def _outcome(call: Callable[[], object]) -> tuple[str, str, object]:
    """("ok", "", result) or (error class, its rule or reason, its message): picklable, for the parent."""
    try:
        return "ok", "", call()
    except DegcoreError as exc:
        code = getattr(exc, "rule", None) or getattr(exc, "reason", None) or ""
        return type(exc).__name__, str(code), str(exc)


def _results(out: Any, count: int) -> list[Any]:
    return [out.get(timeout=BOUND) for _ in range(count)]


# --- what was stored ---------------------------------------------------------------------------
def _issued_entries(issuer: Issuer) -> list[Issued]:
    """The ``issued`` payloads of the issuance log, after checking the whole chain and its signatures."""
    entries = list(issuer.log())
    assert verify_chain(ISSUANCE_TAG, entries, issuer.log_public_key) == len(entries)
    payloads = [parse_payload(e.kind, e.payload) for e in entries]
    assert all(isinstance(p, Issued) for p in payloads)
    return payloads  # type: ignore[return-value]


def _bytes(value: object) -> bytes:
    """A BLOB/BYTEA column as read behind the store's back (bytes or a memoryview)."""
    assert isinstance(value, bytes | memoryview), value
    return bytes(value)


def _entries_of(issuer: Issuer, voter_ref: bytes) -> list[Issued]:
    return [p for p in _issued_entries(issuer) if p.voter_ref == voter_ref]


@pytest.fixture
def registry_location(store_location: str, tmp_path: Path) -> Iterator[str]:
    """A second store of the same engine, for the registry beside the issuer's ``store_location``."""
    if not store_location.startswith("postgresql://"):
        yield str(tmp_path / "registry.sqlite")
        return
    import psycopg  # noqa: PLC0415 - store_location skipped already if it is missing

    schema = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield _with_schema(POSTGRES_URL, schema)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


_OPENED: list[Issuer | Registry] = []


@pytest.fixture(autouse=True)
def _close_what_the_test_opened() -> Iterator[None]:
    yield
    while _OPENED:
        _OPENED.pop().close()


def _kept(service: Any) -> Any:
    _OPENED.append(service)
    return service


# --- 1. two issuer processes for one voter -------------------------------------------------------
_RACERS = {f"racer-{i}": STYLE for i in range(ROUNDS)}


def _issue_rounds(location: str, rounds: list[tuple[str, bytes, bytes]], barrier: Any, out: Any) -> None:
    """Child: one issuer; in each round wait for the other process, then ask for the round's voter."""
    issuer = common.make_issuer(location, eligibility=common.eligible(_RACERS))
    try:
        for voter, blinded, signature in rounds:
            barrier.wait(BOUND)
            result = _outcome(
                lambda: issuer.issue(voter, STYLE, blinded, request_signature=signature, now=common.NOW)  # noqa: B023 - called at once
            )
            out.put((voter, blinded, *result))
    finally:
        issuer.close()


def test_two_issuer_processes_for_one_voter_issue_one_credential(store_location: str) -> None:
    common.make_issuer(store_location).close()  # the schema exists before the first race
    key = common.keys()[STYLE]
    pk = key.public_key()
    # Each process has its own device request for the same voter (a second device, a replay with
    # another blinding): identical requests would both get the same answer, which is no race.
    requests = {
        v: (request_credential(pk, common.ELECTION, STYLE), request_credential(pk, common.ELECTION, STYLE))
        for v in _RACERS
    }
    plans = [
        [(v, r[side].blinded_msg, common.signed(v, STYLE, r[side].blinded_msg)) for v, r in requests.items()]
        for side in (0, 1)
    ]
    context = mp_context()
    barrier, out = context.Barrier(2), context.Queue()
    with _children(*[(_issue_rounds, (store_location, plan, barrier, out)) for plan in plans]) as procs:
        results = _results(out, 2 * ROUNDS)
    assert [p.exitcode for p in procs] == [0, 0]

    issuer = _kept(common.make_issuer(store_location, eligibility=common.eligible(_RACERS)))
    winners = {}
    for voter, (first, second) in requests.items():
        mine = [r for r in results if r[0] == voter]
        issued = [r for r in mine if r[2] == "ok"]
        refused = [r for r in mine if r[2] != "ok"]
        assert len(issued) == len(refused) == 1, mine
        _, blinded, _, _, blind = issued[0]
        _, _, error, code, message = refused[0]
        assert (error, code) == ("RuleViolation", str(Rule.ALREADY_ISSUED)), refused
        assert repr(voter) in message and "already received a credential" in message
        # The winner's answer is the one credential, and it is the signature of the request it sent.
        assert blind == rsabssa.blind_sign(key, blinded)
        request = first if first.blinded_msg == blinded else second
        finish_credential(request, blind, pk).credential.verify(pk)
        winners[voter] = blinded
        # Exactly one log entry for her, for the winning request, and her receipt points at it.
        (entry,) = _entries_of(issuer, common.voter_ref(voter))
        assert entry.request_sha256 == common.request_hash(blinded)
        assert issuer.receipt(voter).voter_ref == common.voter_ref(voter)
    assert len(_issued_entries(issuer)) == ROUNDS
    assert issuer.issued_count()[STYLE] == ROUNDS
    rows = query(store_location, "SELECT voter_id, request_sha256 FROM issued ORDER BY voter_id")
    assert [(v, _bytes(h)) for v, h in rows] == [
        (v, common.request_hash(winners[v])) for v in sorted(_RACERS)
    ]


# --- 2. SIGKILL between the issuer's commit and its reply ----------------------------------------
def _issue_and_hang(location: str, blinded: bytes, signature: bytes, committed: Any, answer: Any) -> None:
    """Child: issue for voter-1, but stop for good right after the store's commit, before replying.

    The store's write transaction is wrapped: once it has committed (its context manager exited
    without an error), the child tells the parent and blocks until the parent SIGKILLs it, so the
    answer, which :meth:`Issuer.issue` would return next, never leaves the process.
    """
    issuer = common.make_issuer(location)
    original = issuer._store.write

    @contextmanager
    def write_then_hang() -> Iterator[object]:
        with original() as tx:
            yield tx
        committed.set()
        threading.Event().wait()  # until SIGKILL

    issuer._store.write = write_then_hang  # type: ignore[method-assign]
    answer.send(issuer.issue("voter-1", STYLE, blinded, request_signature=signature, now=common.NOW))


def _issue_once(location: str, voter: str, blinded: bytes, signature: bytes, out: Any) -> None:
    """Child: a new issuer process answering one request."""
    issuer = common.make_issuer(location)
    try:
        out.put(
            _outcome(lambda: issuer.issue(voter, STYLE, blinded, request_signature=signature, now=common.NOW))
        )
    finally:
        issuer.close()


def test_sigkill_after_the_commit_then_the_identical_retry_gets_the_same_signature(
    store_location: str,
) -> None:
    common.make_issuer(store_location).close()
    key = common.keys()[STYLE]
    pk = key.public_key()
    request = request_credential(pk, common.ELECTION, STYLE)
    signature = common.signed("voter-1", STYLE, request.blinded_msg)  # the device keeps it for the retry
    context = mp_context()
    committed = context.Event()
    receiver, sender = context.Pipe(duplex=False)
    with _children(
        (_issue_and_hang, (store_location, request.blinded_msg, signature, committed, sender))
    ) as (child,):
        sender.close()
        assert committed.wait(BOUND), "the child never reached the commit"
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        child.join(BOUND)
        assert child.exitcode == -signal.SIGKILL
    with pytest.raises(EOFError):  # the answer never reached the caller
        receiver.recv()
    receiver.close()

    # What the killed process committed: her row and her one entry, for this request.
    rows = query(store_location, "SELECT voter_id, request_sha256, voter_signature FROM issued")
    assert [(v, _bytes(h), _bytes(s)) for v, h, s in rows] == [
        ("voter-1", common.request_hash(request.blinded_msg), signature)
    ]
    issuer = _kept(common.make_issuer(store_location))
    (entry,) = _entries_of(issuer, common.voter_ref("voter-1"))
    assert (entry.request_sha256, entry.voter_signature) == (
        common.request_hash(request.blinded_msg),
        signature,
    )

    # The voter's device retries the identical request (same blinded message, same signature)
    # against a new issuer process: the same blind signature, and no second entry.
    out = context.Queue()
    with _children((_issue_once, (store_location, "voter-1", request.blinded_msg, signature, out))):
        status, _, blind = out.get(timeout=BOUND)
    assert status == "ok", blind
    assert blind == rsabssa.blind_sign(key, request.blinded_msg)
    finish_credential(request, blind, pk).credential.verify(pk)
    assert len(_issued_entries(issuer)) == 1
    assert issuer.issued_count()[STYLE] == 1

    # A different request for the served voter is refused and changes nothing.
    other = request_credential(pk, common.ELECTION, STYLE).blinded_msg
    with _children(
        (_issue_once, (store_location, "voter-1", other, common.signed("voter-1", STYLE, other), out))
    ):
        refused = out.get(timeout=BOUND)
    assert refused[:2] == ("RuleViolation", str(Rule.ALREADY_ISSUED)), refused
    assert "'voter-1'" in refused[2]
    assert [_bytes(h) for (h,) in query(store_location, "SELECT request_sha256 FROM issued")] == [
        common.request_hash(request.blinded_msg)
    ]
    (entry,) = _entries_of(issuer, common.voter_ref("voter-1"))
    assert len(_issued_entries(issuer)) == 1


# --- 3. a withdrawal racing an issuance ----------------------------------------------------------
#: Issuance opens during registration (docs/registry.md), so a withdrawal and a claim can meet.
EARLY = dataclasses.replace(SETTINGS, issuance_opens=datetime(2026, 8, 5, tzinfo=UTC))
NOW = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)
REGISTRY_STYLE = "style-1"
_WITHDRAWERS = [f"w{i}" for i in range(ROUNDS)]
_NAME, _BORN = "Иванов Иван Иванович", "01.02.1980"


def _snils(i: int) -> str:
    number = f"{112_233_000 + i:09d}"
    control = sum(int(d) * (9 - k) for k, d in enumerate(number)) % 101 % 100
    return f"{number[:3]}-{number[3:6]}-{number[6:]} {control:02d}"


def _form(i: int) -> dict[str, str]:
    return {
        "full_name": _NAME,
        "birth_date": _BORN,
        "passport_series": "4510",
        "passport_number": f"{700_000 + i:06d}",
        "passport_issued": "10.03.2010",
        "passport_issuer": "ОВД Тверского района г. Москвы",
        "snils": _snils(i),
        "phone": f"+7 916 123-45-{i:02d}",
        "district": "d1",
        "address": "125009, Москва, ул. Тверская, д. 1, кв. 1",
        "voter_key": bytes(device_key(_WITHDRAWERS[i]).verify_key).hex(),
    }


def _registry(location: str) -> Registry:
    return Registry(location, EARLY, code_key=KEY, signing_key=SIGNING)


def _issuer_over(issuer_location: str, registry: Registry) -> Issuer:
    """The issuer with the registry as its eligibility oracle; its own window is wide open."""
    return Issuer(
        issuer_location,
        EARLY.election_id,
        {REGISTRY_STYLE: common.keys()[STYLE]},
        registry,
        log_key=common.log_key(),
        window=(SCHEDULE.registration_opens, SCHEDULE.voting_ends),
    )


def _claim_rounds(
    issuer_location: str,
    registry_location: str,
    rounds: list[tuple[str, bytes, bytes]],
    barrier: Any,
    out: Any,
) -> None:
    """Child: the issuer (over the registry); per round, wait for the withdrawer, then issue."""
    registry = _registry(registry_location)
    issuer = _issuer_over(issuer_location, registry)
    try:
        for voter, blinded, signature in rounds:
            barrier.wait(BOUND)
            result = _outcome(
                lambda: issuer.issue(voter, REGISTRY_STYLE, blinded, request_signature=signature, now=NOW)  # noqa: B023 - called at once
            )
            out.put(("issue", voter, *result[:2], result[2] if result[0] != "ok" else ""))
    finally:
        issuer.close()
        registry.close()


def _withdraw_rounds(registry_location: str, numbers: list[tuple[str, str]], barrier: Any, out: Any) -> None:
    """Child: the portal; per round, wait for the issuer, then withdraw the voter's application."""
    registry = _registry(registry_location)
    try:
        for voter, number in numbers:
            barrier.wait(BOUND)
            result = _outcome(lambda: registry.withdraw(number, now=NOW))  # noqa: B023 - called at once
            out.put(("withdraw", voter, *result[:2], result[2] if result[0] != "ok" else ""))
    finally:
        registry.close()


def _confirmed_voters(
    registry: Registry,
) -> tuple[list[tuple[str, str]], list[tuple[str, bytes, bytes, bytes]]]:
    """Put every withdrawer on the remote list (key enrolled); her application and her device's request."""
    rows = [f"{v},{_NAME},{_BORN},RU,d1,0" for v in _WITHDRAWERS]
    header = "voter_id,full_name,birth_date,citizenship,district,disenfranchised\n"
    registry.import_voters(header + "\n".join(rows) + "\n", now=NOW)
    pk = common.keys()[STYLE].public_key()
    numbers, claims = [], []
    for i, voter in enumerate(_WITHDRAWERS):
        number = registry.create(voter, _form(i), now=NOW).number
        consented(registry, number)
        registry.submit(number, now=NOW)
        registry.start_review(number, now=NOW, actor="op")
        registry.approve(number, now=NOW, actor="op")
        registry.confirm(number, registry.issue_code(number, now=NOW), now=NOW)
        ref = registry.enrollment_receipt(number).voter_ref
        blinded = request_credential(pk, EARLY.election_id, REGISTRY_STYLE).blinded_msg
        signature = sign_credential_request(
            device_key(voter), EARLY.election_id, REGISTRY_STYLE, ref, blinded
        )
        numbers.append((voter, number))
        claims.append((voter, blinded, signature, ref))
    return numbers, claims


def _one_audit_entry(audit: list[tuple[Any, ...]], action: str, subject: str) -> tuple[int, str]:
    """The (seq, result) of the one audit entry of ``action`` on ``subject``."""
    (found,) = [(int(seq), str(result)) for seq, a, sub, result in audit if (a, sub) == (action, subject)]
    return found


def _check_round(
    registry: Registry,
    issuer: Issuer,
    audit: list[tuple[Any, ...]],
    *,
    outcome: dict[str, tuple[str, str, str]],
    application: tuple[str, str],
    claim: tuple[str, bytes, bytes, bytes],
) -> str:
    """Assert that exactly one side won one round and that everything stored says so; the winner."""
    voter, number = application
    _, blinded, signature, ref = claim
    issued, withdrawn = outcome["issue"][0] == "ok", outcome["withdraw"][0] == "ok"
    assert issued != withdrawn, outcome  # exactly one wins
    app, record = registry.application(number), registry.voter(voter)
    entries = _entries_of(issuer, ref)
    claim_seq, claim_result = _one_audit_entry(audit, f"claim_credential:{REGISTRY_STYLE}", voter)
    withdraw_seq, withdraw_result = _one_audit_entry(audit, str(Status.WITHDRAWN), number)
    if issued:
        # The claim committed first: the withdrawal is refused, she stays remote with her credential.
        assert outcome["withdraw"][:2] == ("RuleViolation", str(Rule.ALREADY_ISSUED)), outcome
        assert "can no longer be withdrawn" in outcome["withdraw"][2]
        assert (claim_result, withdraw_result) == ("ok", "refused: RuleViolation(already_issued)")
        assert claim_seq < withdraw_seq
        assert app.status is Status.CONFIRMED
        assert (record.channel, record.credential_style) == ("remote", REGISTRY_STYLE)
        assert registry.enrollment_receipt(number).voter_ref == ref
        assert [(e.request_sha256, e.voter_signature) for e in entries] == [
            (common.request_hash(blinded), signature)
        ]
        return "issue"
    # The withdrawal committed first: no claim, no enrollment, no entry; she is back on paper.
    assert outcome["issue"][:2] == ("Ineligible", str(IneligibleReason.NOT_REMOTE_CHANNEL)), outcome
    assert (withdraw_result, claim_result) == ("ok", "refused: Ineligible(not_remote_channel)")
    assert withdraw_seq < claim_seq
    assert app.status is Status.WITHDRAWN
    assert (record.channel, record.credential_style) == ("paper", None)
    with pytest.raises(InvalidInput):
        registry.enrollment_receipt(number)  # un-enrolled
    assert entries == []
    return "withdraw"


def test_a_withdrawal_racing_an_issuance_exactly_one_wins(
    store_location: str, registry_location: str
) -> None:
    issuer_location = store_location
    registry = _kept(_registry(registry_location))
    numbers, claims = _confirmed_voters(registry)
    _issuer_over(issuer_location, registry).close()  # the issuer's schema exists before the race
    context = mp_context()
    barrier, out = context.Barrier(2), context.Queue()
    with _children(
        (_claim_rounds, (issuer_location, registry_location, [c[:3] for c in claims], barrier, out)),
        (_withdraw_rounds, (registry_location, numbers, barrier, out)),
    ) as procs:
        results = _results(out, 2 * ROUNDS)
    assert [p.exitcode for p in procs] == [0, 0]

    issuer = _kept(_issuer_over(issuer_location, registry))
    audit = query(registry_location, "SELECT seq, action, subject, result FROM audit ORDER BY seq")
    winners = [
        _check_round(
            registry,
            issuer,
            audit,
            outcome={r[0]: r[2:] for r in results if r[1] == app[0]},
            application=app,
            claim=claim,
        )
        for app, claim in zip(numbers, claims, strict=True)
    ]
    registry.verify_audit()  # the registry's audit chain holds
    assert issuer.issued_count()[REGISTRY_STYLE] == winners.count("issue") == len(_issued_entries(issuer))
    assert query(issuer_location, "SELECT COUNT(*) FROM issued") == [(winners.count("issue"),)]
