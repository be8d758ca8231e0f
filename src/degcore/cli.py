"""The ``degcore`` command (thin: parses arguments, calls library functions, prints results)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from degcore import __version__
from degcore.ballot import Manifest
from degcore.ballot.cosign import parse_pins
from degcore.errors import DegcoreError, InvalidInput
from degcore.groups import GROUP_NAMES
from degcore.interop.verificatum.cli import add_parser as add_vmnv_parser
from degcore.observe.cli import add_observe_parsers, observed_check
from degcore.parallel import SERIAL, dask_executor, process_pool, start_workers
from degcore.record import RecordReader, layout
from degcore.tools.trustee import add_parser as add_trustee_parser
from degcore.verify import verify_record
from degcore.verify.receipts import BallotStatus, Lookup, check_receipt, find_ballot
from degcore.verify.report import Outcome, Report, with_dependencies
from degcore.verify.voter import VoterLookup, VoterStatus, find_voter

if TYPE_CHECKING:
    from degcore.demo import DemoSummary

__all__ = ["main"]

T = TypeVar("T")


class _Bars:
    """Progress bars on standard error for the demo's long steps (none with --quiet)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, items: Iterable[T], label: str, total: int) -> Iterator[T]:
        # On a terminal only: a log file or a pipe gets no carriage-return frames.
        bar = _bar(total, f"  {label}", shown=not self.quiet and sys.stderr.isatty())
        try:
            for item in items:
                yield item
                bar.update(1)
        finally:
            bar.close()


def _print_summary(summary: DemoSummary, out: Path, seconds: float, group: str) -> None:
    from degcore.demo import ABSENT, demo_manifest  # noqa: PLC0415 - see _demo

    result = summary.result
    if result is None:  # pragma: no cover - run_demo always sets it
        raise TypeError("demo finished without a result")
    manifest = demo_manifest(group, bytes(32))
    names = {o.option_id: o.name for c in manifest.contests for o in c.options}
    contests = {c.contest_id: c.name for c in manifest.contests}
    print(f"degcore {__version__}: a complete election over {group}, files in {out}")
    print(
        f"  voters {summary.voters}: {summary.applications_approved} approved for remote voting, "
        f"{summary.applications_rejected} rejected automatically (under 18 on election day)"
    )
    print(f"  credentials issued (blind RSA, one key per ballot style): {summary.credentials}")
    print(f"  ballots cast {summary.cast}, challenged and opened (Benaloh) {summary.challenged}")
    print("  refused for cause, with nothing logged:")
    for label, why in summary.refused.items():
        print(f"    - {label}: {why}")
    print("  checked:")
    for check in summary.checks:
        print(f"    - {check}")
    print(f"  result (decrypted by {', '.join(result.trustees)}; {ABSENT} absent):")
    for contest_id, contest_name in contests.items():
        counts = result.totals[contest_id]
        print(f"    {contest_name}")
        for option_id, count in sorted(counts.items(), key=lambda kv: -kv[1]):
            print(f"      {names[option_id]:<32}{count:>8}")
    print(f"  the election record is in {summary.record}; check it with: degcore verify {summary.record}")
    if summary.receipts:
        kept = summary.receipts[0]
        print(f"  {len(summary.receipts)} voters' receipts are in {kept.parent}; a voter checks hers with:")
        print(f"    degcore verify {summary.record} --receipt {kept}")
        print(f"    degcore find {summary.record} {kept.stem}")
    if summary.enrollment_receipts:
        enrolled = summary.enrollment_receipts[0]
        print(
            f"  the same voters' signed enrollment receipts are in {enrolled.parent}; each checks hers with:"
        )
        print(f"    degcore find-voter {summary.record} {enrolled}")
    if summary.site:
        page = (summary.site / "index.html").resolve().as_uri()
        print(f"  the election's public site is in {summary.site}; open {page}")
        print(f"    (or serve it: python3 -m http.server -d {summary.site})")
    print(f"  done in {seconds:.1f} s")


def _unusable_folder(out: Path) -> str:
    """Why ``out`` cannot take the demo's files ('' if it can): checked before any work starts."""
    if out.exists() and not out.is_dir():
        return "is a file, not a directory"
    try:
        if out.is_dir() and any(out.iterdir()):
            return "is not empty"
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".degcore-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"cannot be written ({exc.strerror or exc})"
    return ""


def _new_demo_folder() -> Path:
    """``./degcore-demo``, or the first ``./degcore-demo-N`` not taken: the demo's output is kept.

    Not the temporary folder: the record is what the reader is meant to open and re-verify, and a
    command that leaves files there fills it on every run (issue 27).
    """
    candidate, n = Path("degcore-demo"), 1
    while candidate.exists():
        n += 1
        candidate = Path(f"degcore-demo-{n}")
    return candidate.resolve()


def _demo(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else _new_demo_folder()
    problem = _unusable_folder(out)
    if problem:
        print(f"degcore demo: {out} {problem}; give a new or empty directory", file=sys.stderr)
        return EXIT_USAGE
    # Imported here: the demo brings the registry and its validators, which `degcore verify` never needs.
    from degcore.demo import run_demo  # noqa: PLC0415

    started = time.perf_counter()
    try:
        summary = run_demo(
            out, args.voters, group_name=args.group, progress=_Bars(args.quiet), observe=args.observe
        )
    except DegcoreError as exc:
        print(f"degcore demo: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the disk filled up, or the folder went away, during the run
        print(f"degcore demo: cannot write in {out}: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        _print_summary(summary, out, time.perf_counter() - started, args.group)
    return 0


#: Exit statuses of ``degcore verify`` and ``degcore find`` (docs/verifier.md §Exit status).
EXIT_OK, EXIT_FAILS, EXIT_USAGE, EXIT_UNREADABLE, EXIT_INFRASTRUCTURE, EXIT_NOT_COUNTED = 0, 1, 2, 3, 4, 5

_EXIT_HELP = """exit status:
  0  the record verifies (with --receipt or find: the ballot is in the log and counted)
  1  the record does not verify (with --receipt or find: the ballot is not where the receipt says,
     or the receipt is forged: keep it, it is evidence; with --observed: the log lacks or changed
     an entry the observer saw, named by its position)
  2  usage error
  3  not a readable degcore record
  4  infrastructure: the Dask scheduler could not be reached
  5  with --receipt or find: the ballot is in the log but not counted (superseded or challenged)
"""


def _emit(args: argparse.Namespace, text: str, obj: Mapping[str, object]) -> None:
    body = json.dumps(obj, ensure_ascii=False, indent=2) if args.json else text
    if getattr(args, "output", None):
        Path(args.output).write_text(body + "\n", encoding="utf-8")
    elif not args.quiet:
        try:
            print(body, flush=True)
        except BrokenPipeError:  # the reader left (``| head``): the exit status still says what was found
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _output_problem(args: argparse.Namespace) -> str:
    """Why ``--output`` cannot be written ('' if it can), found before the verifier runs for minutes."""
    output = getattr(args, "output", None)
    if not output:
        return ""
    path = Path(output)
    if path.is_dir():
        return f"--output {path} is a directory"
    if not path.parent.is_dir():
        return f"--output {path}: the folder {path.parent} does not exist"
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"--output {path} cannot be written"
    return ""


def _lookup_exit(lookup: Lookup) -> int:
    if not lookup.ok:
        return EXIT_FAILS
    return EXIT_OK if lookup.status is BallotStatus.COUNTED else EXIT_NOT_COUNTED


def _lookup_text(lookup: Lookup) -> str:
    where = f" at position {lookup.position}" if lookup.position else ""
    lines = [f"ballot {lookup.tracking_code}: {lookup.status}{where}"]
    lines += [f"  PROBLEM: {p}" for p in lookup.problems]
    if not lookup.ok:
        lines.append("  keep your receipt: it is evidence that the box did not log your ballot as it signed")
    return "\n".join(lines)


def _receipt(args: argparse.Namespace) -> int:
    try:
        receipt = json.loads(Path(args.receipt).read_bytes())
    except (OSError, ValueError) as exc:
        print(f"degcore verify: cannot read the receipt {args.receipt}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return _answer(args, "verify", lambda: check_receipt(args.record, receipt))


def _find(args: argparse.Namespace) -> int:
    code = args.tracking_code.strip().lower()
    if len(code) != 64 or any(c not in "0123456789abcdef" for c in code):
        print("degcore find: a tracking code is 64 hexadecimal digits", file=sys.stderr)
        return EXIT_USAGE
    return _answer(args, "find", lambda: find_ballot(args.record, code))


#: Exit statuses of ``degcore find-voter`` beyond the common ones (docs/verifier.md §Exit status).
EXIT_NOT_ISSUED = 6

_FIND_VOTER_HELP = """exit status:
  0  you are on the published enrollment list with your key, and a credential was issued to you
     under your own signature
  1  your entry is missing, carries another key or style, or a credential was issued under your
     reference without your signature: keep your enrollment receipt, it is the registry's signed
     word against its published list
  2  usage error
  3  the record or the receipt is not readable (or the receipt is not this election registry's)
  6  you are on the list with your key; no credential was issued to you
"""


def _voter_text(lookup: VoterLookup) -> str:
    where = f" (issuance log positions {', '.join(map(str, lookup.positions))})" if lookup.positions else ""
    lines = [f"voter reference {lookup.voter_ref.hex()}: {lookup.status}{where}"]
    if lookup.detail:
        lines.append(f"  {lookup.detail}")
    if lookup.evidence:
        lines.append(
            "  keep your enrollment receipt: signed by the registry, it is evidence against the published"
            " list and the issuance log"
        )
    return "\n".join(lines)


def _find_voter(args: argparse.Namespace) -> int:
    try:
        receipt = json.loads(Path(args.receipt).read_bytes())
    except (OSError, ValueError) as exc:
        print(f"degcore find-voter: cannot read the receipt {args.receipt}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        lookup = find_voter(args.record, receipt)
    except DegcoreError as exc:
        print(f"degcore find-voter: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    _emit(args, _voter_text(lookup), lookup.to_json())
    if lookup.evidence:
        return EXIT_FAILS
    return EXIT_OK if lookup.status is VoterStatus.ISSUED else EXIT_NOT_ISSUED


def _answer(args: argparse.Namespace, command: str, lookup_of: Callable[[], Lookup]) -> int:
    """Run a voter's lookup and report it; an unreadable record or receipt exits 3."""
    try:
        lookup = lookup_of()
    except DegcoreError as exc:
        print(f"degcore {command}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    _emit(args, _lookup_text(lookup), lookup.to_json())
    return _lookup_exit(lookup)


class _Bar(Protocol):
    """What degcore's commands use of a progress bar."""

    def update(self, n: int = 1) -> object:
        """Count ``n`` more items done."""
        ...

    def close(self) -> None:
        """Clear the bar."""
        ...


class _NoBar:
    """A progress bar that is not shown (with --quiet, --json or off a terminal): tqdm not imported."""

    def update(self, n: int = 1) -> None:
        """Nothing to draw."""

    def close(self) -> None:
        """Nothing to clear."""


def _bar(total: int, desc: str, *, shown: bool) -> _Bar:
    """A progress bar on standard error, or none: tqdm (30 ms to import) only for one that is shown."""
    if not shown:
        return _NoBar()
    from tqdm import tqdm  # noqa: PLC0415 - see the docstring

    return tqdm(total=total, desc=desc, file=sys.stderr, leave=False)


def _checked(args: argparse.Namespace, command: str) -> Report | int:
    """Run the verifier as ``degcore verify`` does: the report, or the exit status if it could not run."""
    if problem := _output_problem(args):
        print(f"degcore {command}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    checks = None
    if getattr(args, "checks", None):
        try:
            checks = with_dependencies(args.checks.split(","))
        except DegcoreError as exc:
            print(f"degcore {command}: {exc}", file=sys.stderr)
            return EXIT_USAGE
    try:
        pins = _pins(args)
    except (DegcoreError, OSError) as exc:
        print(f"degcore {command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        reader = RecordReader(args.record)
        index = reader.index()
        lines = index.get("lines", {})
        total = lines.get(layout.LOG, 0) if isinstance(lines, dict) else 0
    except (DegcoreError, OSError) as exc:  # OSError: a file vanished or went unreadable while read
        return _unreadable(args, command, exc)
    bar = _bar(total, "  log entries", shown=not (args.quiet or args.json) and sys.stderr.isatty())
    try:
        with contextlib.ExitStack() as stack:
            try:
                executor = _executor(args, stack)
            except (DegcoreError, OSError, TimeoutError) as exc:
                print(f"degcore {command}: cannot reach the Dask scheduler: {exc}", file=sys.stderr)
                return EXIT_INFRASTRUCTURE
            report = verify_record(
                args.record, executor=executor, advance=bar.update, checks=checks, pins=pins
            )
    finally:
        bar.close()
    if not report.ok:
        # A torn copy (a file missing or cut short) fails its checks but is unreadable: exit 3 naming
        # the file, not 1 (issue 27, tests/test_torn_record.py). Looked for only after a failure,
        # so an honest record's files are not read and hashed once more.
        try:
            reader.check_complete(index)
        except (DegcoreError, OSError) as exc:
            return _unreadable(args, command, exc)
    return report


def _unreadable(args: argparse.Namespace, command: str, exc: Exception) -> int:
    """Say why the record cannot be read (and in ``--json``, too); the exit status for it."""
    print(f"degcore {command}: {exc}", file=sys.stderr)
    if args.json:
        print(json.dumps({"record": str(args.record), "ok": False, "error": str(exc)}))
    return EXIT_UNREADABLE


def _add_executor_options(parser: argparse.ArgumentParser) -> None:
    """``--dask-scheduler`` and ``--workers``: where the ballot checks run (read by :func:`_executor`)."""
    parser.add_argument("--dask-scheduler", metavar="ADDRESS", help="run the ballot checks on a Dask cluster")
    parser.add_argument(
        "--workers",
        type=_positive,
        metavar="N",
        help="worker processes for the ballot checks (default: one per usable CPU, or $DEGCORE_WORKERS)",
    )


def _executor(args: argparse.Namespace, stack: contextlib.ExitStack) -> Executor | None:
    """The cluster of ``--dask-scheduler``, a pool of ``--workers`` processes, or the default pool."""
    if args.dask_scheduler:
        return stack.enter_context(dask_executor(args.dask_scheduler))
    if args.workers == 1:
        return SERIAL
    if args.workers:
        pool = stack.enter_context(process_pool(args.workers))
        start_workers(pool)  # while the parent reads the record's first files
        return pool
    return None


def _pins(args: argparse.Namespace) -> dict[str, str]:
    """``--pin ROLE=FINGERPRINT`` (repeatable) and ``--pins FILE``: role → fingerprint (V19)."""
    pins = parse_pins(getattr(args, "pin", None) or [])
    if file := getattr(args, "pins", None):
        from_file = parse_pins(Path(file).read_text(encoding="utf-8").splitlines(), where=str(file))
        for role, value in from_file.items():
            if pins.setdefault(role, value) != value:
                raise InvalidInput(f"{role} is pinned to two different fingerprints (--pin and {file})")
    return pins


def _verify(args: argparse.Namespace) -> int:
    if args.receipt:
        return _receipt(args)
    report = _checked(args, "verify")
    if isinstance(report, int):
        return report
    text = report.to_text()
    expected = (args.expect_sha256 or "").strip().lower()
    mismatch = bool(expected) and expected != report.record_sha256
    if mismatch:
        text += f"\n  RECORD SHA-256 {report.record_sha256} IS NOT THE EXPECTED {expected}"
    obj = report.to_json()
    if expected:
        obj["expected_sha256"], obj["sha256_matches"] = expected, not mismatch
    if args.observed:  # the published log holds every entry an observer saw (docs/verifier.md)
        observed, observed_text, obj["observed"] = observed_check(args.record, args.observed)
        text += f"\n  {observed_text}"
        mismatch = mismatch or not observed
    _emit(args, text, obj)
    return EXIT_OK if report.ok and not mismatch else EXIT_FAILS


_SITE_HELP = """exit status:
  0  the record verifies: its site (result, charts, checks, lookup, documents) is in OUT
  1  the record does not verify: OUT holds pages that say so, with the checks and no result
  2  usage error (OUT is a file, not empty and not a site degcore wrote, or inside the record)
  3  not a readable degcore record: nothing is written
  4  infrastructure: the Dask scheduler could not be reached
"""


def _add_site_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    site = sub.add_parser(
        "site",
        help="verify a record, then write its public site (static files: result, checks, voters' lookup)",
        epilog=_SITE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    site.add_argument("record", help="the record directory")
    site.add_argument("out", help="the site's folder (new, empty, or a site degcore wrote: replaced)")
    _add_executor_options(site)
    site.add_argument("--quiet", action="store_true", help="no progress bar, no output: only the exit status")
    site.set_defaults(json=False, run=_site)


def _site(args: argparse.Namespace) -> int:
    """Verify the record as ``degcore verify`` does, then write its static site (docs/site.md)."""
    from degcore.site import build_site  # noqa: PLC0415 - only this command writes a site
    from degcore.site import check_target as check_site_target  # noqa: PLC0415

    for check, status in ((lambda: RecordReader(args.record), EXIT_UNREADABLE),
                          (lambda: check_site_target(args.record, args.out), EXIT_USAGE)):  # fmt: skip
        try:
            check()
        except DegcoreError as exc:
            print(f"degcore site: {exc}", file=sys.stderr)
            return status
    report = _checked(args, "site")
    if isinstance(report, int):
        return report
    try:
        site = build_site(args.record, args.out, report=report)
    except DegcoreError as exc:
        print(f"degcore site: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    except OSError as exc:
        print(f"degcore site: cannot write {args.out}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.quiet:
        verdict = "the record verifies" if site.verified else "THE RECORD DOES NOT VERIFY: no result shown"
        print(f"degcore site {args.record}: {verdict}; site written to {site.out}")
        print(
            f"  open {(site.out / 'index.html').resolve().as_uri()} or serve the folder from any web server"
        )
    return EXIT_OK if site.verified else EXIT_FAILS


def _result(args: argparse.Namespace) -> int:
    """Verify the whole record, then print its result; an unverified one only with --unverified."""
    report = _checked(args, "result")
    if isinstance(report, int):
        return report
    failing = [c for c, r in report.checks.items() if r.outcome in {Outcome.FAIL, Outcome.ERROR}]
    obj: dict[str, object] = {
        "record": str(args.record),
        "verifier": f"degcore {__version__}",
        "record_sha256": report.record_sha256,
        "election_id": report.election_id,
        "verified": report.ok,
        "failing_checks": failing,
    }
    head = [f"degcore result {args.record}  (degcore {__version__})"]
    head.append(f"  record SHA-256 {report.record_sha256}, election {report.election_id}")
    if not report.ok:
        head.append(f"  THE RECORD DOES NOT VERIFY: {', '.join(failing)} (see degcore verify)")
        if not args.unverified:
            head.append("  no result is shown for a record that does not verify (--unverified shows it)")
            _emit(args, "\n".join(head), obj)
            return EXIT_FAILS
    try:
        reader = RecordReader(args.record)
        published, manifest = reader.result(), reader.manifest()
    except DegcoreError as exc:
        print(f"degcore result: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    obj["result"] = published
    head.append("  UNVERIFIED RESULT, AS PUBLISHED:" if not report.ok else "  verified result:")
    _emit(args, "\n".join(head + _result_lines(manifest, published)), obj)
    return EXIT_OK if report.ok else EXIT_FAILS


def _result_lines(manifest: Manifest, published: object) -> list[str]:
    totals = published.get("totals", {}) if isinstance(published, dict) else {}
    trustees = published.get("trustees", []) if isinstance(published, dict) else []
    lines = [f"  decrypted by {', '.join(map(str, trustees))}"]
    for contest in manifest.contests:
        counts = totals.get(contest.contest_id, {}) if isinstance(totals, dict) else {}
        lines.append(f"    {contest.name}")
        for option in sorted(contest.options, key=lambda o: -_count(counts, o.option_id)):
            lines.append(f"      {option.name:<32}{_count(counts, option.option_id):>8}")
    return lines


def _count(counts: object, option_id: str) -> int:
    value = counts.get(option_id, 0) if isinstance(counts, dict) else 0
    return value if isinstance(value, int) else 0


def _positive(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError("must be between 1 and 1,000,000")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``degcore`` command."""
    parser = argparse.ArgumentParser(
        prog="degcore", description="degcore: cryptographic core of remote e-voting"
    )
    parser.add_argument("--version", action="version", version=f"degcore {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="run a complete synthetic election: registry, key ceremony, credentials, ballots, box, tally",
    )
    demo.add_argument("--voters", type=_positive, default=100, help="number of voters (default 100)")
    demo.add_argument(
        "--out", help="folder for the SQLite files and the record (default: ./degcore-demo[-N])"
    )
    demo.add_argument("--group", choices=GROUP_NAMES, default="ristretto255", help="the election group")
    demo.add_argument(
        "--quiet", action="store_true", help="no progress bars and no report; only the exit status"
    )
    verify = sub.add_parser(
        "verify",
        help="re-check an election record from scratch, check by check (or check a voter's receipt)",
        epilog=_EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("record", help="the record directory (e.g. DIR/record written by 'degcore demo')")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.add_argument("--output", metavar="FILE", help="write the report to FILE instead of printing it")
    _add_executor_options(verify)
    verify.add_argument(
        "--expect-sha256",
        metavar="HEX",
        help="the record's SHA-256 as the authority published it elsewhere: fail if the record differs",
    )
    verify.add_argument(
        "--checks",
        metavar="V1,V5,…",
        help="run only these checks and those they depend on; the others are reported as skipped",
    )
    verify.add_argument(
        "--receipt", metavar="FILE", help="check a voter's receipt against the record instead (fast)"
    )
    verify.add_argument(
        "--pin",
        action="append",
        metavar="ROLE=FINGERPRINT",
        help="fail (V19) unless the setup names this key for ROLE (repeatable; roles: docs/verifier.md)",
    )
    verify.add_argument(
        "--pins", metavar="FILE", help="pins from FILE, one ROLE=FINGERPRINT a line, # comments"
    )
    verify.add_argument(
        "--quiet", action="store_true", help="no progress bar, no report: only the exit status"
    )
    result = sub.add_parser(
        "result",
        help="verify a record from scratch, then print its result (none if it does not verify)",
        epilog=_EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    result.add_argument("record", help="the record directory")
    result.add_argument("--json", action="store_true", help="print the result as JSON")
    result.add_argument("--output", metavar="FILE", help="write it to FILE instead of printing it")
    _add_executor_options(result)
    result.add_argument(
        "--unverified",
        action="store_true",
        help="show the published result even if the record does not verify (marked UNVERIFIED; exit 1)",
    )
    result.add_argument(
        "--quiet", action="store_true", help="no progress bar, no output: only the exit status"
    )
    _add_site_parser(sub)
    add_vmnv_parser(sub)
    add_trustee_parser(sub)
    add_observe_parsers(sub, demo, verify)  # observe, board serve, demo --observe, verify --observed
    find = sub.add_parser(
        "find",
        help="a voter's lookup: is the ballot with this tracking code in the record's log, and counted?",
        epilog=_EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    find.add_argument("record", help="the record directory")
    find.add_argument("tracking_code", help="the ballot's tracking code (64 hex digits)")
    find.add_argument("--json", action="store_true", help="print the answer as JSON")
    find.add_argument("--quiet", action="store_true", help="only the exit status")
    find_voter_parser = sub.add_parser(
        "find-voter",
        help="a voter's check of her enrollment: is my key on the published list, and was my credential"
        " asked for with it?",
        epilog=_FIND_VOTER_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    find_voter_parser.add_argument("record", help="the record directory")
    find_voter_parser.add_argument("receipt", help="the registry's signed enrollment receipt (a JSON file)")
    find_voter_parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    find_voter_parser.add_argument("--quiet", action="store_true", help="only the exit status")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    if args.command == "demo":
        return _demo(args)
    if args.command == "verify":
        return _verify(args)
    if args.command == "find":
        return _find(args)
    if args.command == "find-voter":
        return _find_voter(args)
    if args.command == "result":
        return _result(args)
    return int(args.run(args))  # degcore site, vmnv and trustee (their parsers set run)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
