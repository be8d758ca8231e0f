"""``verify_record``: re-check an election record from scratch, check by check (docs/verifier.md).

The verifier reads only the published record: no database, no secret, no network. Each check of
:data:`~degcore.verify.report.CATALOGUE` reports how many items it examined and which failed and
why; a check whose input could not be built is an ERROR, one whose prerequisite failed is SKIPPED.
Ballot checks run on ``executor`` (default: a process pool over all cores; a Dask
``Client.get_executor()`` runs them on a cluster).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from degcore.ballot import ElectionContext, ElectionSetup
from degcore.ballot.cosign import fingerprints
from degcore.board.cast import Policy
from degcore.errors import DegcoreError, InvalidInput, VerificationFailed
from degcore.issuance import rsabssa
from degcore.parallel import fewer_collections, is_serial, resolve_executor
from degcore.record import Limits, RecordReader, layout
from degcore.trustees.dkg import CeremonyConfig, CeremonyResult, check_commitments, finalize
from degcore.trustees.signing import SignedMessage, verify_message
from degcore.verify.ballots import LogFacts, Problem, scan_log
from degcore.verify.report import CheckResult, Outcome, Report, with_dependencies
from degcore.verify.tally_checks import MixFiles, check_aggregation, check_decryption, check_mixnet
from degcore.verify.trust import (
    IssuanceFacts,
    check_accounting,
    check_cosigned,
    check_eligibility,
    check_index,
    check_pins,
    check_setup,
    check_voter_authorised,
)

__all__ = ["verify_record", "verify_tally_inputs"]


class _Skip(Exception):
    """A prerequisite of the remaining checks is missing."""


def verify_record(
    path: str | Path,
    *,
    executor: Executor | None = None,
    advance: Callable[[int], object] | None = None,
    limits: Limits | None = None,
    checks: Collection[str] | None = None,
    pins: Mapping[str, str] | None = None,
) -> Report:
    """Run every check on the record at ``path``; ``advance(n)`` is told as log lines are done.

    Whatever the record holds, the answer is a report: a malformed file or line fails or errors the
    check that reads it, naming the file, line and reason. ``checks`` (ids such as ``"V5"``) runs
    only those and the checks they depend on (``DEPENDS``); the others are reported as skipped.
    ``pins`` (role → fingerprint, :func:`degcore.ballot.cosign.parse_pins`) are checked by V19.
    """
    report = Report(str(path))
    report.selected = None if checks is None else with_dependencies(checks)
    try:
        reader = RecordReader(path, limits)
        report.record_sha256 = reader.record_sha256()
    except DegcoreError as exc:
        _error(report, "V1", exc)
        report.finish()
        return report
    try:
        with fewer_collections():
            _run(reader, report, executor, advance, dict(pins or {}))
    except _Skip:
        pass
    except Exception as exc:
        current = report.current or "V1"
        _error(
            report,
            current,
            InvalidInput(f"the record could not be checked here: {type(exc).__name__}: {exc}"),
        )
    report.finish()
    return report


def verify_tally_inputs(path: str | Path, *, executor: Executor | None = None) -> Report:
    """What trustees check before decrypting: V9 and V12 with their inputs, on files with no index yet.

    ``path`` holds the record's files published so far (manifest, ceremony, announcement, setup,
    box log, encrypted tally, mix stages): the tally must be the product of the counted ballots
    and every mix output a proved shuffle of them, or a partial decryption could open one ballot.
    """
    report = Report(str(path))
    report.selected = with_dependencies(["V9", "V12"])
    try:
        _run(RecordReader(path, index=False), report, executor, None, {})
    except _Skip:
        pass
    except DegcoreError as exc:
        _error(report, report.current or "V2", exc)
    report.finish()
    return report


def _run(
    reader: RecordReader,
    report: Report,
    executor: Executor | None,
    advance: Callable[[int], object] | None,
    pins: dict[str, str],
) -> None:
    def wanted(*ids: str) -> bool:
        return report.selected is None or any(i in report.selected for i in ids)

    index = _files(reader, report) if wanted("V1") else None
    context, config, result = _parameters(reader, report)
    manifest = context.manifest
    report.election_id, report.authority_key = manifest.election_id, manifest.authority_key.hex()
    if index is not None:
        check_index(report.check("V1"), index, manifest)
    setup = context.setup
    assert setup is not None  # noqa: S101 - _parameters always reads the setup
    log_lines = _stream_lines(index, layout.LOG)
    ahead = _scan_ahead(reader, report, context, executor, advance, log_lines) if wanted("V5") else None
    if wanted("V14"):
        _start(report, "V14")
        check_setup(reader, report.check("V14"), context, config)
    _parties(reader, report, context, config, pins, wanted("V17"), wanted("V19"))
    if wanted("V3"):
        _ceremony(reader, report, config, result)
    issuance = None
    if wanted("V15"):
        _start(report, "V15")
        issuance = check_eligibility(reader, report.check("V15"), setup)
        if wanted("V18"):
            _start(report, "V18")
            check_voter_authorised(report.check("V18"), setup, issuance)
    if not wanted("V4"):
        return
    # In order when no pool scans ahead: V4 now, the scan when finish() is called.
    ahead = ahead or _prepare_scan(reader, report, context, executor, advance, ahead=False)
    if not wanted("V5"):
        return
    # While a pool scans: the mix-net's files parsed, later stages and the partials' proofs checked.
    mix_files = (
        _mix_files_ahead(reader, context, executor, log_lines) if ahead.scanning and wanted("V12") else None
    )
    try:
        _from_the_scan(reader, report, context, executor, wanted, ahead, issuance, mix_files)
    finally:
        if mix_files is not None:  # what it derived ahead and no check took
            mix_files.close()


def _from_the_scan(  # noqa: PLR0917 - _run's state, handed on
    reader: RecordReader,
    report: Report,
    context: ElectionContext,
    executor: Executor | None,
    wanted: Callable[..., bool],
    ahead: _ScanAhead,
    issuance: IssuanceFacts | None,
    mix_files: MixFiles | None,
) -> None:
    """V5–V13 and V16: the log's scan joined, then what depends on it, in order."""
    setup = context.setup
    assert setup is not None  # noqa: S101 - _parameters always reads the setup
    facts = ahead.finish(report)
    counted = _uniqueness(report, facts, setup.box_policy)
    _close_and_challenges(report, facts, counted, context)
    if issuance is not None and wanted("V16"):
        _start(report, "V16")
        check_accounting(report.check("V16"), setup, issuance.issued, counted.values())
    if not wanted("V9", "V12"):
        return
    _start(report, "V9")
    try:
        tally = check_aggregation(reader, report.check("V9"), context, facts, counted)
    except DegcoreError as exc:
        raise _error(report, "V9", exc) from None
    if not wanted("V10", "V11", "V12", "V13"):
        return
    report.current = "V12"
    mixed = check_mixnet(reader, report, context, facts, counted, executor, mix_files)
    if not wanted("V10", "V11"):
        return
    report.current = "V10"
    check_decryption(reader, report, context, tally, mixed, executor)


def _mix_files_ahead(
    reader: RecordReader, context: ElectionContext, executor: Executor | None, log_lines: int
) -> MixFiles:
    """The mix-net's files parsed, and the checks that need none of the log started on the pool."""
    return MixFiles(reader, context).start(resolve_executor(executor, log_lines))


class _ScanAhead:
    """The log scan (V5–V8) started early on a thread whose only job is to feed the worker pool.

    With a pool the parent otherwise waits while the workers check ballots, and the workers wait
    while the parent checks the index, the ceremony and the issuance log; run side by side, both
    cores stay busy. Problems are held and reported in order when the scan is joined.
    """

    def __init__(
        self, pems: dict[str, bytes] | _Skip, run: Callable[[Problem], LogFacts] | None, *, ahead: bool
    ) -> None:
        self._pems = pems
        self._run = run
        self._problems: list[tuple[str, str, str]] = []
        self._thread: ThreadPoolExecutor | None = None
        self._future: Future[LogFacts] | None = None
        if run is not None and ahead:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="degcore-scan")
            self._future = self._thread.submit(run, lambda *problem: self._problems.append(problem))

    @property
    def scanning(self) -> bool:
        """Whether the scan runs on its thread now."""
        return self._future is not None

    def finish(self, report: Report) -> LogFacts:
        """The scan's facts, its problems now in the report (raises as the scan did, or V4's skip)."""
        _start(report, "V4")
        if isinstance(self._pems, _Skip):
            raise self._pems
        _start(report, "V5")
        assert self._run is not None  # noqa: S101 - set with the pems
        if self._future is None:
            return self._run(_problem(report))
        assert self._thread is not None  # noqa: S101 - set with the future
        try:
            return self._future.result()
        finally:
            self._thread.shutdown()
            problem = _problem(report)
            for item in self._problems:
                problem(*item)


def _stream_lines(index: dict[str, object] | None, name: str) -> int:
    """How many lines the index says stream ``name`` has (0 if unknown)."""
    lines = index.get("lines") if index is not None else None
    count = lines.get(name) if isinstance(lines, dict) else None
    return count if type(count) is int else 0


def _scan_ahead(  # noqa: PLR0917 - the record, the report, the context, how to run, the log's size
    reader: RecordReader,
    report: Report,
    context: ElectionContext,
    executor: Executor | None,
    advance: Callable[[int], object] | None,
    log_lines: int,
) -> _ScanAhead | None:
    """A scan started now when a worker pool will do it (None: scan in order, as on one core)."""
    if is_serial(executor or resolve_executor(None, log_lines)):
        return None
    return _prepare_scan(reader, report, context, executor, advance, ahead=True)


def _prepare_scan(
    reader: RecordReader,
    report: Report,
    context: ElectionContext,
    executor: Executor | None,
    advance: Callable[[int], object] | None,
    *,
    ahead: bool,
) -> _ScanAhead:
    setup = context.setup
    assert setup is not None  # noqa: S101 - _parameters always reads the setup
    try:
        pems = _issuer_keys(report, setup)
    except _Skip as skip:
        return _ScanAhead(skip, None, ahead=False)
    box_key = setup.box_key

    def run(problem: Problem) -> LogFacts:
        lines = reader.lines(layout.LOG)
        return scan_log(context, pems, box_key, lines, problem, executor=executor, advance=advance)

    return _ScanAhead(pems, run, ahead=ahead)


def _parties(  # noqa: PLR0917 - the record, the report, the setup, then what to run
    reader: RecordReader,
    report: Report,
    context: ElectionContext,
    config: CeremonyConfig,
    pins: dict[str, str],
    cosigned: bool,
    pinned: bool,
) -> None:
    """V17 (the co-signatures), the fingerprints of every party's key, V19 (the pins)."""
    setup = context.setup
    assert setup is not None  # noqa: S101 - _parameters always reads the setup
    if cosigned:
        _start(report, "V17")
        check_cosigned(reader, report.check("V17"), setup, config)
    try:
        report.fingerprints = fingerprints(context.manifest, setup, config)
    except DegcoreError as exc:
        if pinned:
            raise _error(report, "V19", exc) from None
        return
    if pinned:
        _start(report, "V19")
        check_pins(report.check("V19"), report.fingerprints, pins)


def _start(report: Report, check_id: str) -> None:
    report.checks_run.add(check_id)
    report.current = check_id


def _problem(report: Report) -> Callable[[str, str, str], None]:
    def problem(check_id: str, item: str, reason: str) -> None:
        report.check(check_id).fail(item, reason)

    return problem


def _error(report: Report, check_id: str, exc: Exception) -> _Skip:
    check = report.check(check_id)
    check.outcome, check.note = Outcome.ERROR, f"{type(exc).__name__}: {exc}"
    report.checks_run.add(check_id)
    return _Skip()


def _files(reader: RecordReader, report: Report) -> dict[str, object] | None:
    """V1: the index lists every file of the record, each a regular file with the listed SHA-256."""
    _start(report, "V1")
    check = report.check("V1")
    try:
        index = reader.index()
        files, lines = index["files"], index["lines"]
        if not isinstance(files, dict) or not isinstance(lines, dict):
            raise InvalidInput("files and lines must be objects")
    except DegcoreError as exc:
        check.outcome, check.note = Outcome.ERROR, f"{type(exc).__name__}: {exc}"
        return None
    counted: dict[str, int] = {}
    for name, expected in sorted(files.items()):
        check.items += 1
        try:
            digest, counted[name] = reader.file_hash_and_lines(name)
            if digest != expected:
                check.fail(name, "SHA-256 differs from the index")
        except DegcoreError as exc:
            check.fail(name, str(exc))
    for name, count in sorted(lines.items()):
        if name not in files or type(count) is not int:
            check.fail(f"{layout.INDEX} lines", f"{name!r}: not a listed stream with an integer count")
        elif name in counted and counted[name] != count:
            check.fail(name, f"{counted[name]} lines, the index says {count}")
    _unlisted(reader, check, set(files) | {layout.INDEX})
    return index


def _unlisted(reader: RecordReader, check: CheckResult, listed: set[str]) -> None:
    """V1: nothing in the record but the listed regular files (and their folders)."""
    try:
        for name, kind in reader.listing():
            if kind == "dir":
                continue
            if kind != "file":
                check.fail(name, f"a {kind} in the record (only regular files and folders are allowed)")
            elif name not in listed:
                check.fail(name, "not listed in the index")
    except (DegcoreError, OSError) as exc:
        check.fail("listing", str(exc))


def _parameters(
    reader: RecordReader, report: Report
) -> tuple[ElectionContext, CeremonyConfig, CeremonyResult]:
    """V2: the manifest, the ceremony configuration and result, the setup: the context of every check."""
    _start(report, "V2")
    check = report.check("V2")
    try:
        manifest = reader.manifest()
        config = reader.ceremony_config()
        check.items = 2
        if config.group.name != manifest.group or config.election_id != manifest.election_id:
            check.fail("ceremony/config.json", "the ceremony's group or election differs from the manifest's")
            raise _Skip
        result = reader.ceremony_result(config)
        setup = reader.setup()
        # V14 reports the setup's signature; the other checks go on with the keys it publishes.
        context = ElectionContext(manifest, result, setup, check_setup=False)
    except DegcoreError as exc:
        raise _error(report, "V2", exc) from None
    check.note = f"group {manifest.group}, base hash {context.base_hash.hex()}"
    return context, config, result


def _ceremony(
    reader: RecordReader, report: Report, config: CeremonyConfig, published: CeremonyResult
) -> None:
    _start(report, "V3")
    check = report.check("V3")
    try:
        commitments, complaints, answers = reader.ceremony_messages(config)
    except DegcoreError as exc:
        raise _error(report, "V3", exc) from None
    check.items = len(commitments) + len(complaints) + len(answers)
    # Every message must be its trustee's: one the roster key does not sign fails, named, and is
    # left out of the recomputation (it is not that trustee's message).
    forged: set[int] = set()
    messages: list[SignedMessage] = [*commitments, *complaints, *answers]
    for message in messages:
        try:
            verify_message(config, message)
        except VerificationFailed as exc:
            check.fail(exc.subject, exc.detail)
            forged.add(id(message))
    commitments = [m for m in commitments if id(m) not in forged]
    complaints = [m for m in complaints if id(m) not in forged]
    answers = [m for m in answers if id(m) not in forged]
    for message, failed in zip(commitments, check_commitments(config, commitments), strict=True):
        if failed is not None and message.trustee_id in published.qualified:
            check.fail(message.trustee_id, failed.detail)
    try:
        again = finalize(config, commitments, complaints, answers)
    except DegcoreError as exc:
        check.fail("QUAL", str(exc))
        return
    if again.qualified != published.qualified:
        check.fail("QUAL", f"recomputed {list(again.qualified)}, published {list(published.qualified)}")
    if again.joint_key != published.joint_key:
        check.fail("joint key", "is not the product of the qualified trustees' constant commitments")
    for trustee, key in again.verification_keys.items():
        if published.verification_keys.get(trustee) != key:
            check.fail(f"verification key of {trustee}", "does not match the commitments")


def _issuer_keys(report: Report, setup: ElectionSetup) -> dict[str, bytes]:
    """V4: the setup's issuer key of every ballot style is an RSA key of at least 2048 bits."""
    _start(report, "V4")
    check = report.check("V4")
    pems: dict[str, bytes] = {}
    try:
        keys = setup.issuer_keys
    except DegcoreError as exc:
        raise _error(report, "V4", exc) from None
    for style, pem in sorted(keys.items()):
        check.items += 1
        try:
            key = serialization.load_pem_public_key(pem.encode())
        except (ValueError, TypeError) as exc:
            check.fail(style, f"not a PEM public key ({exc})")
            continue
        if not isinstance(key, rsa.RSAPublicKey):
            check.fail(style, "not an RSA key")
        elif key.key_size < rsabssa.MIN_MODULUS_BITS:
            check.fail(style, f"{key.key_size}-bit key is below {rsabssa.MIN_MODULUS_BITS}")
        else:
            pems[style] = pem.encode()
    return pems


def _uniqueness(report: Report, facts: LogFacts, policy_name: str) -> dict[int, str]:
    """V7: the counted ballots (position → style) under the setup's box policy."""
    policy = Policy(policy_name) if policy_name in {p.value for p in Policy} else Policy.FIRST
    for check_id in ("V5", "V6", "V7", "V8"):
        report.checks_run.add(check_id)
    report.current = "V7"
    report.check("V5").items = facts.entries
    report.check("V6").items = len(facts.ballots)
    check = report.check("V7")
    check.items = len(facts.ballots)
    check.note = f"policy: {policy}"
    seen: dict[str, int] = {}
    counted: dict[int, str] = {}
    for position, credential, _, style in facts.ballots:
        if credential in seen:
            if policy is Policy.FIRST:
                check.fail(f"entry {position}", f"credential already cast at entry {seen[credential]}")
                continue
            counted.pop(seen[credential], None)  # the last ballot counts
        seen[credential] = position
        counted[position] = style
    return counted


_CLOSE_KEYS = {"type", "counted", "challenged"}


def _close_and_challenges(
    report: Report, facts: LogFacts, counted: dict[int, str], context: ElectionContext
) -> None:
    """V5's closing entry and V8's challenged ballots."""
    v5, v8 = report.check("V5"), report.check("V8")
    summary = facts.closed
    manifest = context.manifest
    if summary is None:
        v5.fail("log", "the box was never closed")
    elif not isinstance(summary, dict) or set(summary) != _CLOSE_KEYS or summary.get("type") != "close":
        v5.fail("closing entry", f"its payload must have exactly the keys {sorted(_CLOSE_KEYS)}")
    elif any(type(summary[k]) is not int for k in ("counted", "challenged")):
        v5.fail("closing entry", "its counts must be integers")
    elif (summary["counted"], summary["challenged"]) != (len(counted), facts.challenge_entries):
        v5.fail("closing entry", "its counts differ from the log's")
    if facts.closed_at is not None and facts.closed_at < manifest.voting_ends:
        v5.fail("closing entry", "closes the box before voting ends")
    v8.items = facts.challenge_entries
    cast_codes = {code: position for position, _, code, _ in facts.ballots}
    for code, position in facts.challenged.items():
        if code in cast_codes:
            v8.fail(f"entry {cast_codes[code]}", f"casts the ballot challenged at entry {position}")
