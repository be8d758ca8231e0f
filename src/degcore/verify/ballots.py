"""Checks V5, V6 and V8 in one streaming pass over the box log, the per-line work on an executor.

Workers receive raw lines, so JSON parsing, element decoding, hashes, signatures and every proof
run in parallel. A worker returns, per line, what the parent needs to link the chain and apply the
uniqueness rules, and per chunk the product of the option ciphertexts of its ballot entries (for
V9). Chunks are submitted as the log is read, at most ``BATCH`` in flight, so the parent holds
that many chunks of lines and results at a time, for a log of any length.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from degcore.ballot import ElectionContext, OpenedBallot, ballot_equations, verify_ballot, verify_opened
from degcore.ballot.challenge import opening_equations
from degcore.board.cast import CastBallot, check_cast_deferred
from degcore.board.log import GENESIS, entry_hash
from degcore.chain import ChainEntry, parse_entry_line
from degcore.elgamal import Ciphertext
from degcore.elgamal.batch import Batch, verify_each
from degcore.encoding import from_rfc3339, member_bytes
from degcore.errors import DegcoreError, VerificationFailed
from degcore.groups import Element
from degcore.hashing import sha256
from degcore.parallel import executor_workers, per_chunk_streamed, resolve_executor, worker_count
from degcore.tally.aggregate import Columns, TallyKey, multiply_into

__all__ = ["LogFacts", "LogLine", "scan_log"]

#: Most lines per worker task, and most tasks in flight (submitted, not yet linked by the parent).
CHUNK = 512
BATCH = 16
#: Fewest lines per task on a pool: below this the batch of proofs is too small to pay a round trip.
MIN_CHUNK = 32

Problem = Callable[[str, str, str], None]  # (check id, item, reason)
Products = dict[TallyKey, list[Element]]


@dataclass(slots=True)
class LogLine:
    """What a worker learned from one line."""

    position: int = 0
    kind: str = "unreadable"
    prev: bytes = b""
    hash: bytes = b""
    problems: list[tuple[str, str]] = field(default_factory=list)  # (check id, reason)
    credential: str = ""
    tracking_code: str = ""
    style: str = ""
    summary: object = None  # the close entry's payload
    at: datetime | None = None
    mix_rows: list[tuple[str, tuple[Ciphertext, ...]]] = field(default_factory=list)  # mix-net contests


@dataclass(slots=True)
class Deferred:
    """A line's equations, checked with the rest of its chunk; on failure, who reports it and how."""

    facts: LogLine
    batch: Batch
    check: str
    exactly: Callable[[], None] | None = None  # the exact checks, for their message (else the batch's)

    def report(self, failure: VerificationFailed) -> None:
        """Record the failure under this line's check, in the words of the exact checks if there are any."""
        shown: DegcoreError = failure
        if self.exactly is not None:
            try:
                self.exactly()
            except DegcoreError as exc:
                shown = exc
        self.facts.problems.append((self.check, f"{type(shown).__name__}: {shown}"))


def _keys(issuer_pems: Mapping[str, bytes]) -> dict[str, rsa.RSAPublicKey]:
    keys = {}
    for style, pem in issuer_pems.items():
        key = serialization.load_pem_public_key(pem)
        if isinstance(key, rsa.RSAPublicKey):
            keys[style] = key
    return keys


LineColumns = list[tuple[TallyKey, tuple[Ciphertext, ...]]]


def _check_line(
    context: ElectionContext, keys: Mapping[str, rsa.RSAPublicKey], box: VerifyKey | None, line: bytes
) -> tuple[LogLine, LineColumns, Deferred | None]:
    """The line's facts, its ciphertext columns and, for a ballot, its proofs' equations (unchecked)."""
    facts = LogLine()
    try:
        entry, f = parse_entry_line("log-entry", line, "log line")
        facts.position, facts.kind, at = entry.position, entry.kind, entry.at
        facts.prev, facts.hash = entry.prev, entry.hash
        facts.at = from_rfc3339(at, "at")
    except (DegcoreError, RecursionError) as exc:
        facts.problems.append(("V5", f"unreadable entry: {exc}"))
        return facts, [], None
    if entry_hash(facts.prev, facts.position, facts.kind, entry.payload, at) != facts.hash:
        facts.problems.append(("V5", "hash does not match the entry"))
    try:
        if box is None:  # the box's key is not an Ed25519 key: no signature verifies under it
            raise BadSignatureError
        box.verify(facts.hash, entry.signature)
    except (BadSignatureError, ValueError):
        facts.problems.append(("V5", "box signature does not verify"))
    if facts.kind == "ballot":
        return _ballot(context, keys, f["payload"], entry, facts)
    if facts.kind == "challenge":
        if not context.manifest.voting_open(facts.at):
            facts.problems.append(("V5", f"a challenge at {at}, outside the voting window"))
        return facts, [], _challenge(context, f["payload"], facts)
    if facts.kind == "close":
        facts.summary = f["payload"]
    else:
        facts.problems.append(("V5", f"unknown entry kind {facts.kind!r}"))
    return facts, [], None


def _ballot(
    context: ElectionContext,
    keys: Mapping[str, rsa.RSAPublicKey],
    payload: object,
    entry: ChainEntry,
    facts: LogLine,
) -> tuple[LogLine, LineColumns, Deferred | None]:
    """``payload`` is the entry's payload as parsed; ``entry.payload`` its canonical bytes."""
    try:
        cast = CastBallot.from_json(context, payload)
    except DegcoreError as exc:
        facts.problems.append(("V6", f"cannot read the ballot: {exc}"))
        return facts, [], None
    ballot = cast.ballot
    facts.credential, facts.style = cast.credential.id, ballot.style_id
    try:
        # The payload parsed strictly as a cast ballot (ballot, credential of checked strings, format,
        # signature, type): the ballot's canonical bytes are cut from the payload's, and hashed.
        digest = sha256(b"degcore/4/ballot", member_bytes(entry.payload, "ballot", "credential"))
        # The window is checked at the logged time; the tracking code comes with the checks.
        now = from_rfc3339(entry.at, "at")
        facts.tracking_code, proofs = check_cast_deferred(context, keys, cast, now, digest)
    except DegcoreError as exc:
        facts.problems.append(("V6", f"{type(exc).__name__}: {exc}"))
        facts.tracking_code, deferred = ballot.tracking_code(context), None
    else:
        deferred = Deferred(facts, proofs, "V6")
    return facts, [((ballot.style_id, c.contest_id), c.ciphertexts) for c in ballot.contests], deferred


def _challenge(context: ElectionContext, payload: object, facts: LogLine) -> Deferred | None:
    """The opened ballot's proofs and openings as equations for the chunk's batch (None: failed now)."""
    try:
        opened = OpenedBallot.from_json(context, payload)
        facts.tracking_code = opened.ballot.tracking_code(context)
        batch = ballot_equations(context, opened.ballot)
        opening_equations(context, opened, batch)
    except DegcoreError as exc:
        facts.problems.append(("V8", f"{type(exc).__name__}: {exc}"))
        return None

    def exactly() -> None:  # the one-by-one checks, which name the first false one
        verify_ballot(context, opened.ballot)
        verify_opened(context, opened)

    return Deferred(facts, batch, "V8", exactly)


def _check_chunk(
    context: ElectionContext, issuer_pems: Mapping[str, bytes], box_key: bytes, lines: Sequence[bytes]
) -> tuple[list[LogLine], Products]:
    keys = _keys(issuer_pems)
    try:  # once a chunk: building the key checks its point
        box: VerifyKey | None = VerifyKey(box_key)
    except ValueError:
        box = None
    mixnet = {c.contest_id for c in context.manifest.contests if c.tally == "mixnet"}
    facts: list[LogLine] = []
    products = Columns()
    deferred: list[Deferred] = []
    for line in lines:
        fact, columns, proofs = _check_line(context, keys, box, line)
        facts.append(fact)
        if proofs is not None:
            deferred.append(proofs)
        for key, cts in columns:
            if key[1] in mixnet:  # a row for the mix-net (V12), not a term of the encrypted tally (V9)
                fact.mix_rows.append((key[1], cts))
            else:
                products.add(key, [e for ct in cts for e in (ct.a, ct.b)])
    # Every proof and opening of the chunk as one batch; if it fails, each line's alone names the bad ones.
    for line_deferred, failure in zip(deferred, verify_each([d.batch for d in deferred]), strict=True):
        if failure is not None:
            line_deferred.report(failure)
    return facts, products.products(context.group)


@dataclass
class LogFacts:
    """What the pass collected for the parent's checks."""

    entries: int = 0
    closed: object = None
    ballots: list[tuple[int, str, str, str]] = field(
        default_factory=list
    )  # position, credential, code, style
    challenged: dict[str, int] = field(default_factory=dict)  # tracking code → position
    challenge_entries: int = 0
    closed_at: datetime | None = None
    last_at: datetime | None = None
    mix_rows: dict[str, list[tuple[int, tuple[Ciphertext, ...]]]] = field(default_factory=dict)
    products: Products = field(default_factory=dict)


def scan_log(
    context: ElectionContext,
    issuer_pems: Mapping[str, bytes],
    box_key: bytes,
    lines: Iterable[bytes],
    problem: Problem,
    *,
    executor: Executor | None = None,
    advance: Callable[[int], object] | None = None,
    facts: LogFacts | None = None,
    prev: bytes = GENESIS,
) -> LogFacts:
    """Stream the log through the workers; link the chain here; report problems through ``problem``.

    ``facts`` and ``prev`` continue an earlier pass (an observer's next batch): the first line is
    then entry ``facts.entries + 1`` and must link to ``prev``; the facts are updated in place.
    """
    facts = LogFacts() if facts is None else facts
    work = functools.partial(_check_chunk, context, issuer_pems, box_key)
    position = facts.entries + 1
    stream = iter(lines)
    # A short log (the first lines tell) in at least two tasks per worker, so none sits idle.
    first = list(islice(stream, CHUNK * 2 * _probe_workers(executor)))
    pool = resolve_executor(executor, len(first))
    workers = executor_workers(pool)
    size = CHUNK if workers == 1 else max(MIN_CHUNK, min(CHUNK, -(-len(first) // (2 * workers))))
    chunks = _chunks(itertools.chain(first, stream), size)
    # BATCH chunks in flight at most: the parent holds that many lines and results at a time.
    for chunk_facts, products in per_chunk_streamed(work, chunks, executor=pool, ahead=BATCH):
        for key, values in products.items():
            multiply_into(context.group, facts.products, key, values)
        for line in chunk_facts:
            prev, position = _link(facts, line, prev, position, problem)
        if advance is not None:
            advance(len(chunk_facts))
    return facts


def _probe_workers(executor: Executor | None) -> int:
    """How many workers the scan may have (to size the first read), without starting a pool."""
    return worker_count() if executor is None else executor_workers(executor)


def _link(facts: LogFacts, line: LogLine, prev: bytes, position: int, problem: Problem) -> tuple[bytes, int]:
    """Check one line's place in the chain, record what it says; the next expected (prev, position)."""
    facts.entries += 1
    item = f"entry {facts.entries}"
    if line.position != position:
        problem("V5", item, f"position {line.position}, expected {position}")
    elif line.prev != prev:
        problem("V5", item, "does not link to the previous entry")
    if facts.closed is not None:
        problem("V5", item, "an entry after the closing entry")
    for check_id, reason in line.problems:
        problem(check_id, item, reason)
    if line.at is not None:
        if facts.last_at is not None and line.at < facts.last_at:
            problem("V5", item, "stamped earlier than the previous entry")
        facts.last_at = max(line.at, facts.last_at or line.at)
    if line.kind == "ballot" and line.credential:
        facts.ballots.append((line.position, line.credential, line.tracking_code, line.style))
        for contest_id, row in line.mix_rows:
            facts.mix_rows.setdefault(contest_id, []).append((line.position, row))
    elif line.kind == "challenge":
        facts.challenge_entries += 1
        if line.tracking_code:
            facts.challenged[line.tracking_code] = line.position
    elif line.kind == "close":
        facts.closed, facts.closed_at = line.summary, line.at
    return line.hash, position + 1


def _chunks(lines: Iterator[bytes], size: int) -> Iterator[list[bytes]]:
    while chunk := list(islice(lines, size)):
        yield chunk
