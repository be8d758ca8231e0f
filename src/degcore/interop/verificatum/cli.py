"""``degcore vmnv PROTINFO PROOF_DIR``: verify a Verificatum run (hooked into :mod:`degcore.cli`).

Exit codes as ``degcore verify``'s: 0 verified, 1 does not verify, 2 usage, 3 unreadable input
(protInfo.xml, the keys or the input ciphertexts cannot be read, or the run uses a feature this
verifier does not support).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from degcore.errors import DegcoreError
from degcore.interop.verificatum.report import TYPES

__all__ = ["add_parser", "main", "run"]

#: A progress bar is drawn on a terminal only from this many ciphertexts on.
_BAR_FROM = 1000


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add the ``vmnv`` subcommand to ``degcore``'s parser (its runner is :func:`run`)."""
    parser = sub.add_parser(
        "vmnv", help="verify a Verificatum (vmn) run: every proof of a shuffle and the proof of decryption"
    )
    parser.add_argument("protinfo", help="the session's protInfo.xml")
    parser.add_argument("proof_dir", help="the proof directory (vmn's dir/nizkp/<auxsid>)")
    parser.add_argument(
        "--type", choices=TYPES, dest="expected_type",
        help="the type of proof the run must be (vmnv's -mix, -shuffle, -decrypt); default: the run's own",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar, no report: only the exit status"
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``degcore vmnv`` with parsed arguments; returns the exit code."""
    # Imported here: Verificatum's groups (P-256, the modp groups) load libraries no other command needs.
    from tqdm import tqdm  # noqa: PLC0415 - nor does any other command need tqdm at start-up

    from degcore.interop.verificatum.verifier import verify_run  # noqa: PLC0415

    bar = tqdm(
        desc="  ciphertexts", unit="ct", file=sys.stderr, leave=False,
        disable=args.quiet or args.json or not sys.stderr.isatty(),
    )  # fmt: skip
    try:

        def advance(n: int) -> None:
            if n >= _BAR_FROM:
                bar.update(n)

        report = verify_run(args.protinfo, args.proof_dir, advance=advance, expected_type=args.expected_type)
    except DegcoreError as exc:
        print(f"degcore vmnv: {exc}", file=sys.stderr)
        return 3
    finally:
        bar.close()
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    elif not args.quiet:
        print(report.to_text())
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (``python -m degcore.interop.verificatum.cli``)."""
    parser = argparse.ArgumentParser(prog="degcore")
    add_parser(parser.add_subparsers(dest="command", required=True))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return int(args.run(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
