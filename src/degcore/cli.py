"""The ``degcore`` command (thin: parses arguments, calls library functions, prints results)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

from degcore import __version__
from degcore.demo import ABSENT, DemoSummary, demo_manifest, run_demo
from degcore.errors import DegcoreError
from degcore.groups import GROUP_NAMES
from degcore.interop.cli import add_parser as add_vmnv_parser
from degcore.parallel import dask_executor
from degcore.record import RecordReader, layout
from degcore.verify import verify_record
from degcore.verify.receipts import BallotStatus, Lookup, check_receipt, find_ballot

__all__ = ["main"]

T = TypeVar("T")


class _Bars:
    """Progress bars on standard error for the demo's long steps (none with --quiet)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, items: Iterable[T], label: str, total: int) -> Iterator[T]:
        yield from tqdm(
            items, desc=f"  {label}", total=total, disable=self.quiet, file=sys.stderr, leave=False
        )


def _print_summary(summary: DemoSummary, out: Path, seconds: float, group: str) -> None:
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
    print(f"  done in {seconds:.1f} s")


def _demo(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="degcore-demo-"))
    if out.exists() and any(out.iterdir()):
        print(f"degcore demo: {out} is not empty; give a new or empty directory", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        summary = run_demo(out, args.voters, group_name=args.group, progress=_Bars(args.quiet))
    except DegcoreError as exc:
        print(f"degcore demo: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        _print_summary(summary, out, time.perf_counter() - started, args.group)
    return 0


#: Exit statuses of ``degcore verify`` and ``degcore find`` (docs/verifier.md §Exit status).
EXIT_OK, EXIT_FAILS, EXIT_USAGE, EXIT_UNREADABLE, EXIT_INFRASTRUCTURE, EXIT_NOT_COUNTED = 0, 1, 2, 3, 4, 5

_EXIT_HELP = """exit status:
  0  the record verifies (with --receipt or find: the ballot is in the log and counted)
  1  the record does not verify (with --receipt or find: the ballot is not where the receipt says,
     or the receipt is forged: keep it, it is evidence)
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
        print(body)


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


def _answer(args: argparse.Namespace, command: str, lookup_of: Callable[[], Lookup]) -> int:
    """Run a voter's lookup and report it; an unreadable record or receipt exits 3."""
    try:
        lookup = lookup_of()
    except DegcoreError as exc:
        print(f"degcore {command}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    _emit(args, _lookup_text(lookup), lookup.to_json())
    return _lookup_exit(lookup)


def _verify(args: argparse.Namespace) -> int:
    if args.receipt:
        return _receipt(args)
    try:
        reader = RecordReader(args.record)
        lines = reader.index().get("lines", {})
        total = lines.get(layout.LOG, 0) if isinstance(lines, dict) else 0
    except DegcoreError as exc:
        print(f"degcore verify: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps({"record": str(args.record), "ok": False, "error": str(exc)}))
        return EXIT_UNREADABLE
    bar = tqdm(
        total=total,
        desc="  log entries",
        disable=args.quiet or args.json or not sys.stderr.isatty(),
        file=sys.stderr,
        leave=False,
    )
    try:
        with contextlib.ExitStack() as stack:
            try:
                executor = (
                    stack.enter_context(dask_executor(args.dask_scheduler)) if args.dask_scheduler else None
                )
            except (DegcoreError, OSError, TimeoutError) as exc:
                print(f"degcore verify: cannot reach the Dask scheduler: {exc}", file=sys.stderr)
                return EXIT_INFRASTRUCTURE
            report = verify_record(args.record, executor=executor, advance=bar.update)
    finally:
        bar.close()
    text = report.to_text()
    expected = (args.expect_sha256 or "").strip().lower()
    mismatch = bool(expected) and expected != report.record_sha256
    if mismatch:
        text += f"\n  RECORD SHA-256 {report.record_sha256} IS NOT THE EXPECTED {expected}"
    obj = report.to_json()
    if expected:
        obj["expected_sha256"], obj["sha256_matches"] = expected, not mismatch
    _emit(args, text, obj)
    return EXIT_OK if report.ok and not mismatch else EXIT_FAILS


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
    demo.add_argument("--out", help="directory for the SQLite files (default: a new temporary directory)")
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
    verify.add_argument("--dask-scheduler", metavar="ADDRESS", help="run the ballot checks on a Dask cluster")
    verify.add_argument(
        "--expect-sha256",
        metavar="HEX",
        help="the record's SHA-256 as the authority published it elsewhere: fail if the record differs",
    )
    verify.add_argument(
        "--receipt", metavar="FILE", help="check a voter's receipt against the record instead (fast)"
    )
    verify.add_argument(
        "--quiet", action="store_true", help="no progress bar, no report: only the exit status"
    )
    add_vmnv_parser(sub)
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
    return int(args.run(args))  # degcore vmnv (degcore.interop.cli sets run)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
