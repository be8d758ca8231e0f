"""``degcore observe`` and ``degcore board serve``: the command lines of the feed and its observers.

docs/integration.md §Publishing the feed, §Following the feed; exit statuses in :data:`OBSERVE_HELP`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import Executor
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Never

from degcore.errors import DegcoreError, StorageError, VerificationFailed

if TYPE_CHECKING:
    from tqdm import tqdm

    from degcore.encoding import JsonValue
    from degcore.observe.follow import Event, Observer

# The observer's modules, the feed's HTTP server and tqdm are imported by the commands that use
# them: every `degcore` command builds this module's parsers, and `degcore verify` needs none of it.

__all__ = [
    "EXIT_CLEAN",
    "EXIT_DIVERGED",
    "EXIT_EQUIVOCATION",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "OBSERVE_HELP",
    "add_board_parser",
    "add_observe_parsers",
    "add_parser",
    "observed_check",
]

EXIT_CLEAN, EXIT_PROBLEMS, EXIT_USAGE, EXIT_DIVERGED, EXIT_EQUIVOCATION = 0, 1, 2, 3, 4

OBSERVE_HELP = """exit status:
  0  every entry so far checked and found good (--compare: the two copies agree where both reach)
  1  at least one entry failed a check: each is reported with its position and reason
     (--check-proof: the file is not a valid equivocation proof)
  2  could not run: usage, unreadable published files or feed, a state of another election or damaged
  3  the feed no longer holds what this observer checked (rewritten or truncated history): the first
     position that differs is reported, with an equivocation proof in the state folder if the box
     signed both entries there
  4  equivocation: the box signed two different entries at one position (--compare wrote the proof;
     --check-proof: the proof holds)
"""


def add_observe_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    demo: argparse.ArgumentParser,
    verify: argparse.ArgumentParser,
) -> None:
    """``degcore observe``, ``degcore board serve``, ``demo --observe`` and ``verify --observed``."""
    add_parser(sub)
    add_board_parser(sub)
    demo.add_argument(
        "--observe",
        action="store_true",
        help="an observer follows the box's feed while voting runs (state in OUT/observer)",
    )
    verify.add_argument(
        "--observed",
        metavar="STATE",
        help="also fail unless the log holds every entry this observer's state saw ('degcore observe')",
    )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``degcore observe``."""
    p = sub.add_parser(
        "observe",
        help="follow a ballot box's feed while voting runs and check every entry (or compare observers)",
        epilog=OBSERVE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("feed", nargs="?", help="the box's store (path, sqlite:///, postgresql://) or feed URL")
    p.add_argument("--state", metavar="DIR", help="the observer's state folder (created if new)")
    p.add_argument("--published", metavar="DIR", help="the files published before voting (record layout)")
    p.add_argument("--follow", action="store_true", help="keep polling until the box closes (Ctrl-C stops)")
    p.add_argument("--interval", type=float, default=2.0, metavar="S", help="seconds between polls")
    p.add_argument("--batch", type=int, default=8192, metavar="N", help="most entries checked per batch")
    p.add_argument(
        "--audit-every",
        type=int,
        default=30,
        metavar="N",
        help="with --follow: re-read the whole observed history every N polls (0: only at restart and close)",
    )
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default: one per CPU)")
    p.add_argument("--compare", nargs=2, metavar=("STATE", "OTHER"), help="compare two observers' logs")
    p.add_argument("--proof", metavar="FILE", help="with --compare: where to write a proof")
    p.add_argument("--check-proof", metavar="FILE", help="re-check an equivocation proof")
    p.add_argument("--json", action="store_true", help="machine-readable events, one JSON object a line")
    p.add_argument("--quiet", action="store_true", help="no status line and no report")
    p.set_defaults(run=_observe)


def add_board_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``degcore board serve``."""
    board = sub.add_parser("board", help="the ballot box's public side")
    actions = board.add_subparsers(dest="board_command", required=True)
    s = actions.add_parser("serve", help="serve the box's log as a feed over HTTP (needs degcore[feed])")
    s.add_argument("store", help="the box's store (path, sqlite:///, postgresql://)")
    s.add_argument("--published", metavar="DIR", required=True, help="the files published before voting")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8480, help="port (default 8480; 0: any free port)")
    s.set_defaults(run=_serve)


def _print(args: argparse.Namespace, event: Event) -> None:
    if args.json:
        print(json.dumps(event, sort_keys=True), flush=True)


def _observe(args: argparse.Namespace) -> int:
    from tqdm import tqdm  # noqa: PLC0415 - see the module's imports

    from degcore.observe.feeds import open_feed  # noqa: PLC0415
    from degcore.observe.follow import Observer, load_published  # noqa: PLC0415
    from degcore.parallel import SERIAL, process_pool  # noqa: PLC0415

    if args.check_proof:
        return _check_proof(args)
    if args.compare:
        return _compare(args)
    if not args.feed or not args.state or not args.published:
        print(
            "degcore observe: give FEED --state DIR --published DIR (or --compare / --check-proof)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.batch < 1 or args.interval <= 0 or args.audit_every < 0 or (args.workers or 1) < 1:
        print("degcore observe: --batch, --interval and --workers must be positive", file=sys.stderr)
        return EXIT_USAGE
    bar = tqdm(
        desc="observed",
        unit=" entries",
        disable=args.quiet or args.json or not sys.stderr.isatty(),
        file=sys.stderr,
    )

    def event(e: Event) -> None:
        _print(args, e)
        if e["event"] == "batch":
            bar.set_postfix_str(f"head {e['last']} {str(e['head'])[:12]}… problems {e['problems']}")
        elif e["event"] == "problem" and not bar.disable:  # live, beside the status line
            bar.write(f"  entry {e['position']}: {e['check']} {e['reason']}", file=sys.stderr)

    try:
        with ExitStack() as stack:
            executor: Executor | None = SERIAL if args.workers == 1 else None
            if args.workers and args.workers > 1:
                executor = stack.enter_context(process_pool(args.workers))
            published = load_published(args.published)
            feed = open_feed(args.feed, published.context)
            stack.callback(feed.close)
            observer = Observer(
                published, args.state, feed, executor=executor, on_event=event, batch=args.batch
            )
            _follow(args, observer, bar)
    except (DegcoreError, OSError) as exc:
        bar.close()
        print(f"degcore observe: {type(exc).__name__}: {exc}", file=sys.stderr)
        _print(args, {"event": "error", "error": str(exc)})
        return EXIT_USAGE
    bar.close()
    return _report(args, observer)


def _follow(args: argparse.Namespace, observer: Observer, bar: tqdm[Never]) -> None:
    """Poll (with ``--follow``: until the box closes, a divergence or Ctrl-C), auditing now and then."""
    try:
        polls = 0
        while True:
            try:
                bar.update(observer.poll())
            except StorageError as exc:  # the feed is down for now: a follower waits and asks again
                if not args.follow:
                    raise
                _print(args, {"event": "feed-error", "error": str(exc)})
            if observer.diverged or observer.closed or not args.follow:
                return
            polls += 1
            if args.audit_every and polls % args.audit_every == 0 and observer.audit():
                return
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return


def _report(args: argparse.Namespace, observer: Observer) -> int:
    """The ``end`` event or the text report; the exit status."""
    state = observer.state
    status = EXIT_DIVERGED if observer.diverged else EXIT_PROBLEMS if state.problems else EXIT_CLEAN
    _print(
        args,
        {
            "event": "end",
            "position": state.position,
            "checked": observer.checked,
            "problems": len(state.problems),
            "closed": observer.closed,
            "exit": status,
        },
    )
    if not args.quiet and not args.json:
        print(f"observed {state.position} entries ({observer.checked} checked now), head {state.hash.hex()}")
        for p in state.problems:
            print(f"  entry {p.position}: {p.check} {p.reason}")
        if observer.diverged:
            d = observer.diverged
            print(f"  DIVERGED at position {d.position}: {d.reason}")
        print("  the box is closed" if observer.closed else "  the box is still open")
    return status


def _state_key(path: Path) -> bytes | None:
    from degcore.observe.state import STATE, parse_state  # noqa: PLC0415 - see the module's imports

    folder = path if path.is_dir() else path.parent
    if not (folder / STATE).is_file():
        return None
    return parse_state((folder / STATE).read_bytes()).box_key


def _compare(args: argparse.Namespace) -> int:
    from degcore.observe.forks import compare_logs, read_lines  # noqa: PLC0415 - see the module's imports
    from degcore.observe.state import STATE  # noqa: PLC0415

    ours, other = (Path(p) for p in args.compare)
    try:
        key = _state_key(ours)
        if key is None:
            raise FileNotFoundError(f"{ours} holds no {STATE}")
        theirs = _state_key(other)
        if theirs is not None and theirs != key:
            print("degcore observe: the two states observed different box keys", file=sys.stderr)
            return EXIT_USAGE
        agreed, found = compare_logs(read_lines(ours), read_lines(other), key, str(other))
    except (DegcoreError, OSError) as exc:
        print(f"degcore observe: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if found is None:
        _print(args, {"event": "compared", "agreed": agreed, "fork": None})
        if not args.json and not args.quiet:
            print(f"no fork: the two copies agree on their first {agreed} entries")
        return EXIT_CLEAN
    path = None
    if found.proof is not None:
        target = Path(args.proof) if args.proof else ours / f"equivocation-{found.position}.json"
        path = str(found.proof.write(target))
    _print(
        args,
        {
            "event": "compared",
            "agreed": agreed,
            "fork": found.position,
            "reason": found.reason,
            "proof": path,
        },
    )
    if not args.json and not args.quiet:
        print(
            f"fork at position {found.position}: {found.reason}"
            + (f"; proof written to {path}" if path else "")
        )
    return EXIT_EQUIVOCATION if found.proof is not None else EXIT_PROBLEMS


def _check_proof(args: argparse.Namespace) -> int:
    from degcore.observe.forks import check_proof  # noqa: PLC0415 - see the module's imports

    try:
        proof = check_proof(Path(args.check_proof).read_bytes())
    except OSError as exc:
        print(f"degcore observe: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (DegcoreError, VerificationFailed) as exc:
        _print(args, {"event": "proof", "holds": False, "reason": str(exc)})
        if not args.json and not args.quiet:
            print(f"not a valid equivocation proof: {type(exc).__name__}: {exc}")
        return EXIT_PROBLEMS
    _print(
        args, {"event": "proof", "holds": True, "position": proof.position, "box_key": proof.box_key.hex()}
    )
    if not args.json and not args.quiet:
        print(
            f"the proof holds: box key {proof.box_key.hex()} signed two different entries "
            f"at position {proof.position}"
        )
    return EXIT_EQUIVOCATION


def _serve(args: argparse.Namespace) -> int:
    from degcore.board.feed import serve  # noqa: PLC0415 - see the module's imports
    from degcore.board.reader import BoxReader  # noqa: PLC0415
    from degcore.observe.follow import load_published  # noqa: PLC0415

    try:
        published = load_published(args.published)
        with BoxReader(args.store, published.context) as reader:
            serve(
                reader,
                args.host,
                args.port,
                ready=lambda port: print(f"serving the feed on {args.host}:{port}", flush=True),
            )
    except KeyboardInterrupt:
        return EXIT_CLEAN
    except (DegcoreError, OSError) as exc:
        print(f"degcore board serve: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_CLEAN


def observed_check(record: str | Path, state: str | Path) -> tuple[bool, str, dict[str, JsonValue]]:
    """``degcore verify RECORD --observed STATE``: (holds, text, JSON) of :func:`check_observed`."""
    from degcore.observe.forks import check_observed  # noqa: PLC0415 - see the module's imports
    from degcore.observe.state import STATE, parse_state  # noqa: PLC0415
    from degcore.record import RecordReader, layout  # noqa: PLC0415

    try:
        reader = RecordReader(record)
        found = check_observed(reader.lines(layout.LOG), Path(state), reader.setup().box_key)
    except (DegcoreError, OSError) as exc:
        text = f"cannot compare with the observer's state {state}: {type(exc).__name__}: {exc}"
        return False, text, {"state": str(state), "ok": False, "error": str(exc)}
    if not found:
        observed = parse_state((Path(state) / STATE).read_bytes()).position
        text = f"every entry observed in {state} ({observed}) is in the published log, same position and hash"
        return True, text, {"state": str(state), "ok": True, "observed": observed}
    position, why = found[0]
    text = f"THE PUBLISHED LOG IS NOT WHAT {state} OBSERVED: entry {position}: {why}"
    return False, text, {"state": str(state), "ok": False, "position": position, "reason": why}
