"""``degcore observe`` and ``verify --observed``: the feed over HTTP, forks, exit statuses."""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from degcore.board import BallotBox, BoxReader, feed
from degcore.board.feed import feed_lines, make_server
from degcore.cli import main
from degcore.encoding import canonical_json
from degcore.observe import HttpFeed, Observer, check_observed, load_published
from degcore.observe.cli import EXIT_DIVERGED, EXIT_EQUIVOCATION, EXIT_PROBLEMS
from degcore.parallel import SERIAL
from degcore.record import RecordReader, layout
from tests.record_fixtures import BOX_KEY, DURING, ENDS, build_record, reindex
from tests.unit.observe.conftest import World, log_rows, rewrite, world

__all__ = ["world"]


@pytest.fixture
def feed_server(world: World, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """serve(location) → the URL of its feed on an ephemeral port; every server is closed at the end."""
    running: list[tuple[object, threading.Thread, BoxReader]] = []

    def serve(location: str) -> str:
        reader = BoxReader(location, world.context)
        server = make_server(reader, "127.0.0.1", 0)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        running.append((server, thread, reader))
        return f"http://127.0.0.1:{server.effective_port}"

    yield serve
    for server, thread, reader in running:
        port = server.effective_port  # type: ignore[attr-defined]
        server.close()  # type: ignore[attr-defined]
        thread.join(10)
        reader.close()
        assert not thread.is_alive()
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
            pass


def _box(world: World, location: str) -> BallotBox:
    return BallotBox(location, world.context, world.issuer_keys, BOX_KEY)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, object]]]:
    code = main(argv)
    out = capsys.readouterr().out
    try:
        return code, [json.loads(out)]  # one report (verify --json)
    except json.JSONDecodeError:
        return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_the_feed_over_http_serves_the_record_s_lines(
    world: World, feed_server: Callable[[str], str], tmp_path: Path
) -> None:
    location = str(tmp_path / "box.sqlite")
    with _box(world, location) as box:
        for c in world.casts[:3]:
            box.cast(c, now=DURING)
        url = feed_server(location)
        with urllib.request.urlopen(f"{url}/head", timeout=10) as answer:  # noqa: S310 - our server
            head = json.loads(answer.read())
        with urllib.request.urlopen(f"{url}/log?from=2", timeout=10) as answer:  # noqa: S310 - our server
            lines = answer.read().splitlines(keepends=True)
        with BoxReader(location, world.context) as reader:
            position, digest = reader.head_position()
            assert head == {"position": 3, "hash": digest.hex()} and position == 3
            assert lines == list(feed_lines(reader, 2))
        for bad, status in (
            ("/log?from=0", 400),
            ("/log?from=02", 400),
            ("/log?limit=x", 400),
            ("/other", 404),
        ):
            with pytest.raises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(url + bad, timeout=10)  # noqa: S310 - our server
            assert caught.value.code == status
            caught.value.close()
        # An observer following the URL checks what the box writes next, once each.
        events: list[dict[str, object]] = []
        observer = Observer(
            load_published(world.published),
            tmp_path / "state",
            HttpFeed(url),
            executor=SERIAL,
            on_event=events.append,
        )
        assert observer.poll() == 3
        box.cast(world.casts[3], now=DURING)
        box.close_voting(now=ENDS)
        assert observer.poll() == 2
        assert observer.closed and not observer.state.problems and observer.state.position == 5


def test_a_box_that_shows_two_observers_two_histories_is_proved(
    world: World, feed_server: Callable[[str], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")
    with _box(world, a) as box_a, _box(world, b) as box_b:
        for c in world.casts[:4]:  # the same four entries, byte for byte, in both
            box_a.cast(c, now=DURING)
            box_b.cast(c, now=DURING)
        box_a.cast(world.casts[4], now=DURING)  # position 5: one ballot to one observer,
        box_b.cast(world.casts[5], now=DURING)  # another to the other, both signed by the box
    url = feed_server(a)
    common = ["--published", str(world.published), "--workers", "1", "--json"]
    assert _run(["observe", url, "--state", str(tmp_path / "sa"), *common], capsys)[0] == 0
    assert _run(["observe", b, "--state", str(tmp_path / "sb"), *common], capsys)[0] == 0
    code, events = _run(
        ["observe", "--compare", str(tmp_path / "sa"), str(tmp_path / "sb"), "--json"], capsys
    )
    assert code == EXIT_EQUIVOCATION
    assert events[-1]["fork"] == 5 and events[-1]["agreed"] == 4
    proof = Path(str(events[-1]["proof"]))
    assert proof == tmp_path / "sa" / "equivocation-5.json"
    code, events = _run(["observe", "--check-proof", str(proof), "--json"], capsys)
    assert code == EXIT_EQUIVOCATION and events[-1]["position"] == 5
    # A forged proof (one signature changed) does not hold.
    obj = json.loads(proof.read_bytes())
    sig = obj["entries"][1]["signature"]
    obj["entries"][1]["signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]
    forged = tmp_path / "forged.json"
    forged.write_bytes(canonical_json(obj))
    assert _run(["observe", "--check-proof", str(forged), "--json"], capsys)[0] == EXIT_PROBLEMS
    # The same history seen twice (a copy of one log) is no fork.
    shutil.copytree(tmp_path / "sa", tmp_path / "sa2")
    assert _run(["observe", "--compare", str(tmp_path / "sa"), str(tmp_path / "sa2")], capsys)[0] == 0


def test_observe_exit_statuses(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    location, state = str(tmp_path / "box.sqlite"), str(tmp_path / "state")
    args = [location, "--state", state, "--published", str(world.published), "--workers", "1", "--json"]
    with _box(world, location) as box:
        for c in world.casts[:4]:
            box.cast(c, now=DURING)
    code, events = _run(["observe", *args], capsys)
    assert code == 0 and events[-1] == {
        "event": "end",
        "position": 4,
        "checked": 4,
        "problems": 0,
        "closed": False,
        "exit": 0,
    }
    rows = log_rows(location)
    rewrite(location, [(k, p, a) for _, k, p, a in rows[2:3]], from_position=3)  # entry 4 withdrawn
    code, events = _run(["observe", *args], capsys)
    assert code == EXIT_DIVERGED
    assert next(e for e in events if e["event"] == "diverged")["position"] == 4
    # A fresh observer of the rewritten box that logs a ballot twice: a bad entry, exit 1.
    rewrite(location, [(k, p, a) for _, k, p, a in [rows[2], rows[1]]], from_position=3)
    fresh = [location, "--state", str(tmp_path / "fresh"), *args[3:]]
    code, events = _run(["observe", *fresh], capsys)
    assert code == EXIT_PROBLEMS
    assert [(e["position"], e["check"]) for e in events if e["event"] == "problem"] == [(4, "V7")]
    assert _run(["observe", location, "--state", state], capsys)[0] == 2  # no --published
    assert _run(["observe", location, "--state", state, "--published", str(tmp_path)], capsys)[0] == 2


def test_verify_observed_names_an_entry_the_record_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    built = build_record(tmp_path)
    state = tmp_path / "state"
    args = [
        str(tmp_path / "box.sqlite"),
        "--state",
        str(state),
        "--published",
        str(built.root),
        "--workers",
        "1",
    ]
    assert main(["observe", *args, "--quiet"]) == 0
    code, events = _run(
        ["verify", str(built.root), "--observed", str(state), "--workers", "1", "--json"], capsys
    )
    assert code == 0 and events[-1]["observed"]["ok"] is True
    reader = RecordReader(built.root)
    lines = list(reader.lines(layout.LOG))
    n = len(lines)
    assert check_observed(iter(lines[:-2]), state, bytes(BOX_KEY.verify_key)) == [
        (n - 1, "the record's log ends before it: 2 observed entries are missing")
    ]
    changed = [*lines[:2], lines[3], lines[2], *lines[4:]]
    assert check_observed(iter(changed), state, bytes(BOX_KEY.verify_key))[0][0] == 3
    # The published log cut after the fact (the authority re-signs the index): verify names the entry.
    (built.root / layout.LOG).write_bytes(b"".join(lines[:-1]))
    reindex(built.root)
    code, events = _run(
        ["verify", str(built.root), "--observed", str(state), "--workers", "1", "--json"], capsys
    )
    assert code == 1 and events[-1]["observed"]["position"] == n


def test_board_serve_on_an_ephemeral_port_until_stopped(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    location = str(tmp_path / "box.sqlite")
    with _box(world, location) as box:
        for c in world.casts[:2]:
            box.cast(c, now=DURING)
        box.close_voting(now=ENDS)
    command = [
        sys.executable,
        "-m",
        "degcore",
        "board",
        "serve",
        location,
        "--published",
        str(world.published),
    ]
    server = subprocess.Popen([*command, "--port", "0"], stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().strip().rsplit(":", 1)[1])
        url = f"http://127.0.0.1:{port}"
        args = ["--published", str(world.published), "--workers", "1", "--json", "--follow"]
        code, events = _run(["observe", url, "--state", str(tmp_path / "state"), *args], capsys)
        assert code == 0 and events[-1]["closed"] is True and events[-1]["checked"] == 3
    finally:
        server.terminate()
        server.wait(30)
        if server.stdout is not None:
            server.stdout.close()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_demo_observe_follows_the_box_and_checks_the_record(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--voters", "6", "--out", str(out), "--observe", "--quiet"]) == 0
    assert (out / "observer" / "state.json").is_file() and (
        out / "published" / "setup" / "setup.json"
    ).is_file()
    assert (
        main(
            ["verify", str(out / "record"), "--observed", str(out / "observer"), "--workers", "1", "--quiet"]
        )
        == 0
    )


def test_the_feed_pages_by_position_even_over_a_gap(
    world: World, feed_server: Callable[[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = str(tmp_path / "box.sqlite")
    with _box(world, location) as box:
        for c in world.casts[:6]:
            box.cast(c, now=DURING)
    rows = log_rows(location)
    conn = sqlite3.connect(location)
    with conn:  # the box drops entry 3 behind its own back
        conn.execute("DELETE FROM ballots WHERE position = 3")
        conn.execute("DELETE FROM log WHERE position = 3")
    conn.close()
    monkeypatch.setattr(feed, "PAGE", 2)  # pages of two rows, two lines an HTTP answer
    monkeypatch.setattr(feed, "PAGE_LIMIT", 2)
    monkeypatch.setattr("degcore.observe.feeds.PAGE_LIMIT", 2)
    url = feed_server(location)
    with BoxReader(location, world.context) as reader:
        store_lines = list(feed_lines(reader, 1))
    http_lines = list(HttpFeed(url).lines(1, 100))
    assert store_lines == http_lines and len(http_lines) == 5
    assert [json.loads(line)["position"] for line in http_lines] == [r[0] for r in rows if r[0] != 3]


def test_an_observer_never_creates_a_store(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-box.sqlite"
    args = ["observe", str(missing), "--state", str(tmp_path / "s"), "--published", str(world.published)]
    assert _run(args, capsys)[0] == 2
    assert not missing.exists()
