"""Fault runs of the ballot box: a PostgreSQL server crashed while clients cast, clients killed on SQLite.

``python -m benchmarks.load_box --faults [BALLOTS]``. Each client casts its share of pre-made
ballots and behaves as docs/deployment.md tells a device to: after a StorageError it sends the
identical ballot again (every 0.1 s) until it gets a receipt, and it writes each receipt it
receives to its own file. Then:

* **PostgreSQL** (a server of our own, started by ``.ci/postgres.sh``): once a quarter of the
  ballots are in, the server is crashed (``pg_ctl -m immediate``), down for a few seconds and
  restarted; once half are in, its postmaster and every backend get SIGKILL, the same again;
* **SQLite**: clients are SIGKILLed at random moments and restarted; a restarted client first
  asks the box for the receipt of the ballot it was sending (``BallotBox.receipt``), then goes on.

Afterwards: the chain and every signature verify, positions run 1…n, every receipt a client
received is in the log (``find``), and every committed ballot has a receipt the voter gets back
(``receipt`` → ``verify`` → ``find``), so the two sets are the same set, and equal to the casts.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.signing import SigningKey

from benchmarks._election import DURING
from degcore.ballot import ElectionContext
from degcore.board import BallotBox, CastBallot, Receipt
from degcore.errors import StorageError
from degcore.parallel import mp_context
from degcore.storage import PostgresOptions


@dataclass(frozen=True)
class Run:
    """One election's fault run: the context, the issuer key (PEM), the box key and the casts."""

    context: ElectionContext
    pem: bytes
    key: SigningKey
    casts: list[str]
    parsed: list[CastBallot] = field(default_factory=list)  # made once, sent to each client
    codes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Parse the casts and take their tracking codes once, in the parent."""
        self.parsed.extend(CastBallot.from_json(self.context, json.loads(c)) for c in self.casts)
        self.codes.extend(c.ballot.tracking_code(self.context) for c in self.parsed)

    def keys(self) -> dict[str, rsa.RSAPublicKey]:
        """The issuer keys per style."""
        return {"s": serialization.load_pem_public_key(self.pem)}  # type: ignore[dict-item]

    def box(self, location: str) -> BallotBox:
        """The box over ``location`` (retried while the server is down)."""
        while True:
            try:
                return BallotBox(location, self.context, self.keys(), self.key, postgres=OPTIONS)
            except StorageError:
                time.sleep(0.1)


_SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "postgres.sh"
OPTIONS = PostgresOptions(connect_timeout=2, pool_timeout=5)


def _client(run: Run, location: str, share: slice, folder: str, restarted: bool) -> None:
    """Cast every ballot of the share that has no receipt yet in ``folder``; retry after StorageError."""

    context = run.context
    logging.basicConfig(
        filename=Path(folder) / "box.log",
        format="%(levelname)s %(name)s: %(message)s",
        level=logging.INFO,
        force=True,
    )
    path, events = Path(folder) / "receipts.jsonl", Path(folder) / "events.jsonl"
    have = {r.tracking_code for r in _receipts(path)}
    pending = [c for c, code in zip(run.parsed[share], run.codes[share], strict=True) if code not in have]
    box = run.box(location)
    with path.open("a") as out, events.open("a") as log:

        def note(**event: object) -> None:
            log.write(json.dumps(event) + "\n")
            log.flush()

        if restarted and pending:  # the ballot the killed process was sending: committed?
            found = box.receipt(pending[0].ballot.tracking_code(context))
            note(kind="restart", recovered=found is not None)
        for cast in pending:
            failed = False
            while True:
                start = time.monotonic()
                try:
                    receipt = box.cast(cast, now=DURING)
                except StorageError:
                    note(kind="fail", at=start, took=time.monotonic() - start)
                    failed = True
                    time.sleep(0.1)
                    continue
                out.write(json.dumps(receipt.to_json()) + "\n")
                out.flush()
                if failed:
                    note(kind="back", at=time.monotonic())
                break
    box.close()


def _receipts(path: Path) -> list[Receipt]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(Receipt.from_json(json.loads(line)))
        except ValueError:  # a line torn by SIGKILL: a receipt the client never fully received
            continue
    return out


def _events(folders: list[str]) -> list[dict[str, object]]:
    lines = [line for f in folders for line in (Path(f) / "events.jsonl").read_text().splitlines()]
    return [json.loads(line) for line in lines if line.endswith("}")]


def _log_sample(folders: list[str]) -> str:
    """One line of each kind the box logged in this run, with how often it came."""
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    for log in (Path(f) / "box.log" for f in folders):
        for raw in log.read_text().splitlines() if log.exists() else []:
            if raw.startswith(("WARNING", "ERROR", "INFO")):
                line = re.sub(r"\b([0-9a-f]{8})[0-9a-f]{56}\b", r"\1…", raw)  # tracking codes
                key = re.sub(r"[0-9a-f]{8}…|\d+", "N", line)
                counts[key] += 1
                first.setdefault(key, line)
    return "".join(f"\n    {n:>5} × {first[key][:160]}" for key, n in counts.most_common())


def _count(folders: list[str]) -> int:
    return sum(len(_receipts(Path(f) / "receipts.jsonl")) for f in folders)


def check(run: Run, location: str, folders: list[str]) -> str:
    """Every receipt received is in the log, every committed ballot gets its receipt back, the chain holds."""
    context, box = run.context, run.box(location)
    entries = box.verify_log()  # VerificationFailed names the first bad position
    if [e.position for e in box.log()] != list(range(1, entries + 1)):
        raise AssertionError("log positions are not 1…n")
    received = [r for f in folders for r in _receipts(Path(f) / "receipts.jsonl")]
    for receipt in received:
        receipt.verify(box.public_key, context.base_hash)
        if not box.find(receipt):
            raise AssertionError(f"a received receipt is not in the log: {receipt.position}")
    committed = [c.ballot.tracking_code(context) for c in box.counted()]
    for code in committed:
        given = box.receipt(code)
        if given is None or not box.find(given):
            raise AssertionError(f"committed ballot {code} has no receipt to give back")
        given.verify(box.public_key, context.base_hash)
    expected = set(run.codes)
    if not {r.tracking_code for r in received} == set(committed) == expected or len(committed) != entries:
        raise AssertionError("received receipts, committed ballots and casts differ")
    box.close()
    return (
        f"{entries} entries verify; {len(received)} receipts received, all in the log;"
        f" {len(committed)} committed ballots, each with its receipt"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg(*args: str) -> str:
    bash = shutil.which("bash") or "/bin/bash"
    done = subprocess.run([bash, str(_SCRIPT), *args], check=True, capture_output=True, text=True)  # noqa: S603
    return done.stdout.strip()


def _kill9_postmaster(data: str) -> None:
    """SIGKILL the postmaster of our server and every one of its backends (by their ids)."""
    postmaster = int((Path(data) / "db" / "postmaster.pid").read_text().split()[0])
    ps = [shutil.which("ps") or "/bin/ps", "-o", "pid=", "--ppid", str(postmaster)]
    children = subprocess.run(ps, capture_output=True, text=True, check=False)  # noqa: S603
    for pid in [postmaster, *(int(p) for p in children.stdout.split())]:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    while Path(f"/proc/{postmaster}").exists():
        time.sleep(0.05)


def _start(run: Run, location: str, share: slice, folder: str, restarted: bool) -> BaseProcess:
    proc = mp_context().Process(  # forkserver or spawn: the parent holds the pool's threads
        target=_client, args=(run, location, share, folder, restarted)
    )
    proc.start()
    return proc


def postgres_crash(run: Run, clients: int = 4, outage: float = 4.0) -> None:
    """Two crashes of our own server while ``clients`` processes cast; figures and the final checks."""
    port, data = _free_port(), tempfile.mkdtemp(prefix="degcore-pg-fault.")
    location = _pg(str(port), data)
    folders = [tempfile.mkdtemp(prefix="degcore-client.") for _ in range(clients)]
    casts = run.casts
    try:
        run.box(location).close()
        start = time.monotonic()
        procs = [_start(run, location, slice(i, None, clients), folders[i], False) for i in range(clients)]
        downs, ups = [], []
        for fraction, crash in ((4, lambda: _pg("--crash", data)), (2, lambda: _kill9_postmaster(data))):
            while _count(folders) < len(casts) // fraction and any(p.is_alive() for p in procs):
                time.sleep(0.05)
            crash()
            downs.append(time.monotonic())
            time.sleep(outage)
            _pg(str(port), data)  # returns once pg_ctl sees the server accept connections
            ups.append(time.monotonic())
        for p in procs:
            p.join()
        seconds = time.monotonic() - start
        events = _events(folders)
        took = sorted(float(str(e["took"])) for e in events if e["kind"] == "fail")
        backs = [float(str(e["at"])) for e in events if e["kind"] == "back"]
        firsts = ", ".join(
            f"{min((b for b in backs if b > down), default=float('nan')) - up:+.2f} s"
            for down, up in zip(downs, ups, strict=True)
        )
        print(
            f"postgresql: {len(casts)} ballots, {clients} clients, {seconds:.1f} s;"
            f" 2 crashes, {outage:.0f} s down each"
        )
        if took:
            median = statistics.median(took)
            print(f"  {len(took)} casts failed while down: median {median:.3f} s, slowest {took[-1]:.3f} s")
        down = ", ".join(f"{up - down:.1f} s" for down, up in zip(downs, ups, strict=True))
        print(f"  server down (crash to pg_ctl's 'server started'): {down}")
        print(f"  first successful cast after each outage, from 'server started': {firsts}")
        print("  " + check(run, location, folders))
        print("  the box's log:" + _log_sample(folders), flush=True)
    finally:
        _pg("--stop", data)
        for folder in [data, *folders]:
            shutil.rmtree(folder, ignore_errors=True)


def sqlite_kills(run: Run, clients: int = 4, kills: int = 20) -> None:
    """``kills`` SIGKILLs of random casting clients, each restarted at once; figures and the final checks."""
    folder = tempfile.mkdtemp(prefix="degcore-sqlite-fault.")
    location = str(Path(folder) / "box.sqlite")
    folders = [tempfile.mkdtemp(dir=folder) for _ in range(clients)]
    rng = random.Random(7)  # noqa: S311 - picks kill moments, nothing secret
    casts = run.casts
    try:
        run.box(location).close()
        start, done = time.monotonic(), 0
        procs = [_start(run, location, slice(i, None, clients), folders[i], False) for i in range(clients)]
        while done < kills and any(p.is_alive() for p in procs):
            time.sleep(rng.uniform(0.05, 0.4))
            i = rng.randrange(clients)
            pid = procs[i].pid
            if procs[i].is_alive() and pid is not None:
                os.kill(pid, signal.SIGKILL)
                procs[i].join()
                procs[i], done = _start(run, location, slice(i, None, clients), folders[i], True), done + 1
        for p in procs:
            p.join()
        seconds = time.monotonic() - start
        restarts = [e for e in _events(folders) if e["kind"] == "restart"]
        recovered = sum(1 for e in restarts if e["recovered"])
        print(f"sqlite: {len(casts)} ballots, {clients} clients, {seconds:.1f} s; {done} clients SIGKILLed")
        print(f"  {recovered} of {len(restarts)} restarted clients found their in-flight ballot committed")
        print("  " + check(run, location, folders))
        print("  the box's log:" + (_log_sample(folders) or " nothing"), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
