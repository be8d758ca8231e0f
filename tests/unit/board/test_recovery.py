"""A real PostgreSQL server crashes and comes back in the middle of casting (a server of our own).

While it is down a cast fails with StorageError (fast: no pool back-off); the first cast after it
returns succeeds; every ballot whose answer was lost gets its original receipt on an identical
retry; nothing acknowledged is lost and the chain is whole.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from degcore.board import BallotBox, CastBallot, Receipt
from degcore.errors import StorageError
from degcore.groups import get_group
from degcore.storage import PostgresOptions
from tests.election_fixtures import DURING, Election, election
from tests.unit.board.test_box import BOX_KEY, MAYOR

_SCRIPT = Path(__file__).resolve().parents[3] / ".ci" / "postgres.sh"

pytestmark = pytest.mark.skipif(
    not glob.glob("/usr/lib/postgresql/*/bin/initdb"), reason="no PostgreSQL server binaries to start our own"
)
pytest.importorskip("psycopg", reason="the postgres extra is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _script(*args: str) -> str:
    bash = shutil.which("bash") or "/bin/bash"
    done = subprocess.run([bash, str(_SCRIPT), *args], check=True, capture_output=True, text=True)  # noqa: S603
    return done.stdout.strip()


class Server:
    """A PostgreSQL server of these tests alone (never the shared one), started by .ci/postgres.sh."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.data = tempfile.mkdtemp(prefix="degcore-pg-test.")
        self.url = self.start()

    def start(self) -> str:
        """Start (the first time: create) the server; its URL."""
        return _script(str(self.port), self.data)

    def crash(self) -> None:
        """Every server process quits at once, as in a crash (recovery runs at the next start)."""
        _script("--crash", self.data)

    def processes(self) -> list[int]:
        """The postmaster and every process it started (backends, checkpointer, WAL writer, …)."""
        postmaster = int(Path(self.data, "db", "postmaster.pid").read_text().split()[0])
        children = [
            int(stat.parent.name)
            for stat in Path("/proc").glob("[0-9]*/stat")
            if _parent_of(stat) == postmaster
        ]
        return [postmaster, *children]

    def signal(self, signum: int) -> None:
        """Send ``signum`` to every server process (SIGSTOP: a server that hangs without dying)."""
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def fresh_schema(self) -> str:
        """A URL whose tables live in a new schema (one store per test)."""
        import psycopg  # noqa: PLC0415 - only where the extra is installed

        schema = f"test_{secrets.token_hex(6)}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return f"{self.url}?options=-csearch_path%3D{schema}"


def _parent_of(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):  # the process ended while we looked
        return None


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    own = Server()
    yield own
    _script("--stop", own.data)
    shutil.rmtree(own.data, ignore_errors=True)


@pytest.fixture(scope="module")
def e() -> Election:
    return election(get_group("ristretto255"))


def test_a_crash_in_the_middle_of_casting(e: Election, server: Server) -> None:
    options = PostgresOptions(connect_timeout=2, pool_timeout=5, idle_check=0.2)
    box = BallotBox(server.fresh_schema(), e.context, e.public_keys, BOX_KEY, postgres=options)
    casts = [e.cast(e.credential("b"), MAYOR) for _ in range(8)]
    receipts: dict[int, Receipt] = {i: box.cast(casts[i], now=DURING) for i in range(3)}

    server.crash()
    lost: list[CastBallot] = []
    for cast in casts[3:6]:
        with pytest.raises(StorageError):
            box.cast(cast, now=DURING)
        lost.append(cast)

    server.start()
    receipts[6] = box.cast(casts[6], now=DURING)  # the first cast after the restart succeeds
    for i, cast in enumerate(lost, start=3):  # the devices retry the identical ballots
        receipts[i] = box.cast(cast, now=DURING)
    receipts[7] = box.cast(casts[7], now=DURING)
    for i, receipt in receipts.items():
        receipt.check_ballot(e.context, casts[i])
        assert box.find(receipt) and box.receipt(receipt.tracking_code) == receipt
    assert box.verify_log() == 8
    assert sorted(r.position for r in receipts.values()) == list(range(1, 9))
    box.close()


def test_a_restart_while_the_box_is_idle_costs_no_failed_cast(e: Election, server: Server) -> None:
    """Pooled connections went stale while nobody cast: pinged before use, replaced, the cast succeeds."""
    location = server.fresh_schema()
    box = BallotBox(location, e.context, e.public_keys, BOX_KEY, postgres=PostgresOptions(idle_check=0))
    box.cast(e.cast(e.credential("b"), MAYOR), now=DURING)
    server.crash()
    server.start()
    assert box.cast(e.cast(e.credential("b"), MAYOR), now=DURING).position == 2
    assert box.verify_log() == 2
    box.close()


def test_a_box_cannot_open_while_the_server_is_down(e: Election, server: Server) -> None:
    location = server.fresh_schema()
    server.crash()
    try:
        with pytest.raises(StorageError, match="cannot connect"):
            BallotBox(
                location, e.context, e.public_keys, BOX_KEY, postgres=PostgresOptions(connect_timeout=2)
            )
    finally:
        server.start()


def _cast_until_answered(box: BallotBox, cast: CastBallot) -> Receipt:
    """A device's retry loop: the identical ballot again after every StorageError (docs/deployment.md)."""
    for _ in range(100):
        try:
            return box.cast(cast, now=DURING)
        except StorageError:
            time.sleep(0.2)
    return box.cast(cast, now=DURING)


def test_a_hung_server_fails_a_cast_instead_of_blocking_it(e: Election, server: Server) -> None:
    """SIGSTOP on every server process: its kernel still acknowledges, only the watchdog ends the cast."""
    options = PostgresOptions(connect_timeout=2, operation_timeout=2)
    box = BallotBox(server.fresh_schema(), e.context, e.public_keys, BOX_KEY, postgres=options)
    casts = [e.cast(e.credential("b"), MAYOR) for _ in range(4)]
    first = box.cast(casts[0], now=DURING)
    outcome: list[BaseException | Receipt] = []

    def cast_while_hung(cast: CastBallot) -> None:
        try:
            outcome.append(box.cast(cast, now=DURING))
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    server.signal(signal.SIGSTOP)
    try:
        for cast in casts[1:3]:  # the pooled connection mid-cast, then a connection opened while hung
            caster = threading.Thread(target=cast_while_hung, args=(cast,))
            caster.start()
            caster.join(timeout=120)  # far past the bound: the server stays stopped all this time
            assert not caster.is_alive(), "the cast did not end while the server hung"
    finally:
        server.signal(signal.SIGCONT)
    assert len(outcome) == 2 and all(isinstance(o, StorageError) for o in outcome), outcome
    assert "did not answer within 2" in str(outcome[0]), outcome[0]

    # The server is back: each device retries its identical ballot and gets a receipt.
    retried = [_cast_until_answered(box, cast) for cast in casts[1:3]]
    last = box.cast(casts[3], now=DURING)
    assert [r.position for r in (first, *retried, last)] == [1, 2, 3, 4]
    for cast, receipt in zip(casts, (first, *retried, last), strict=True):
        receipt.check_ballot(e.context, cast)
        assert box.receipt(receipt.tracking_code) == receipt
        assert _cast_until_answered(box, cast) == receipt  # a later identical retry: the original receipt
    assert box.verify_log() == 4
    box.close()
