"""The ``degcore`` command (thin: parses arguments, calls library functions, prints results)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
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


def _verify(args: argparse.Namespace) -> int:
    try:
        reader = RecordReader(args.record)
        lines = reader.index().get("lines", {})
        total = lines.get(layout.LOG, 0) if isinstance(lines, dict) else 0
    except DegcoreError as exc:
        print(f"degcore verify: {exc}", file=sys.stderr)
        return 2
    bar = tqdm(
        total=total, desc="  log entries", disable=args.quiet or args.json, file=sys.stderr, leave=False
    )
    try:
        with contextlib.ExitStack() as stack:
            executor = (
                stack.enter_context(dask_executor(args.dask_scheduler)) if args.dask_scheduler else None
            )
            report = verify_record(args.record, executor=executor, advance=bar.update)
    except DegcoreError as exc:
        print(f"degcore verify: {exc}", file=sys.stderr)
        return 2
    finally:
        bar.close()
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    elif not args.quiet:
        print(report.to_text())
    return 0 if report.ok else 1


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
    verify = sub.add_parser("verify", help="re-check an election record from scratch, check by check")
    verify.add_argument("record", help="the record directory (e.g. DIR/record written by 'degcore demo')")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.add_argument("--dask-scheduler", metavar="ADDRESS", help="run the ballot checks on a Dask cluster")
    verify.add_argument(
        "--quiet", action="store_true", help="no progress bar, no report: only the exit status"
    )
    add_vmnv_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    if args.command == "verify":
        return _verify(args)
    return int(args.run(args))  # degcore vmnv (degcore.interop.cli sets run)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
