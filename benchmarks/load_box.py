"""Load on the ballot box: N processes cast pre-encrypted ballots through ``BallotBox`` at once.

``python -m benchmarks.load_box [BALLOTS]`` runs 1, 2, 4 and 8 client processes against SQLite and,
if ``DEGCORE_POSTGRES_URL`` is set, against PostgreSQL (a fresh schema per run), and prints
accepted ballots/s, p50/p99 latency per cast, and how each cast's time splits between the checks
(credential, signature, proofs) and storage (the transaction with its fsync and log signature).
Each run also prints the mean time per cast in each tenth of the run, so a store whose casts slow
down as the log grows shows it (``python -m benchmarks.load_box 50000 1 2 4`` for docs/performance.md).
``python -m benchmarks.load_box --faults [BALLOTS]`` runs the fault runs of
``benchmarks/_box_faults.py`` (clients SIGKILLed on SQLite; a PostgreSQL server of its own
crashed twice while clients cast) and checks that every receipt and every committed ballot
survives. ``benchmarks/test_load_box.py`` runs small configurations so that this cannot rot.
"""

from __future__ import annotations

import functools
import glob
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from nacl.signing import SigningKey

from benchmarks import _box_faults
from benchmarks._election import DURING, bench_election
from degcore.ballot import ElectionContext, PlaintextBallot, encrypt_ballot
from degcore.board import BallotBox, CastBallot, check_cast, sign_ballot
from degcore.errors import Rule, RuleViolation
from degcore.issuance import finish_credential, request_credential, rsabssa
from degcore.parallel import default_executor, mp_context, per_chunk

BOX_KEY = SigningKey(bytes(range(32)))


@dataclass(frozen=True)
class LoadResult:
    """One run: store, processes, throughput, latency and the time split."""

    store: str
    processes: int
    ballots: int
    seconds: float
    p50_ms: float
    p99_ms: float
    check_share: float
    #: Mean milliseconds per cast in each tenth of the run (each client's casts in order): how the
    #: time per cast grows with the log.
    tenths_ms: tuple[float, ...] = ()

    def line(self) -> str:
        """A row of the report."""
        return (
            f"{self.store:<11}{self.processes:>4}{self.ballots:>8}{self.ballots / self.seconds:>10.0f}"
            f"{self.p50_ms:>9.2f}{self.p99_ms:>9.2f}"
            f"{100 * self.check_share:>8.0f}%{100 * (1 - self.check_share):>8.0f}%"
        )


def _make(context: ElectionContext, pem: bytes, reuse_every: int, count: range) -> list[str]:
    """Casts with fresh credentials; every ``reuse_every``-th credential also casts a second ballot."""
    key = serialization.load_pem_private_key(pem, None)
    out = []
    for i in count:
        public = key.public_key()
        request = request_credential(public, "bench", "s")  # type: ignore[arg-type]
        wallet = finish_credential(request, rsabssa.blind_sign(key, request.blinded_msg), public)  # type: ignore[arg-type]
        for choice in ("o2", "o4") if reuse_every and i % reuse_every == 0 else ("o2",):
            plain = PlaintextBallot("s", {"c": {choice: 1}})
            ballot, _ = encrypt_ballot(context, plain, wallet.credential.public_key)
            out.append(json.dumps(sign_ballot(context, ballot, wallet).to_json(context)))
    return out


def _client(  # noqa: PLR0917 - a process target takes positional arguments
    location: str, context: ElectionContext, issuer_pem: bytes, casts: list[str], barrier: object, out: object
) -> None:
    keys = {"s": serialization.load_pem_public_key(issuer_pem)}
    box = BallotBox(location, context, keys, BOX_KEY)  # type: ignore[arg-type]
    parsed = [CastBallot.from_json(context, json.loads(c)) for c in casts]
    barrier.wait()  # type: ignore[attr-defined]
    latencies, checking, refused = [], 0.0, 0
    for cast in parsed:
        start = time.perf_counter()
        code = check_cast(context, keys, cast, DURING)  # type: ignore[arg-type]
        checked = time.perf_counter()
        try:
            box._record(cast, code, DURING)  # the cast's second half: storage alone
        except RuleViolation as exc:  # a credential another process used first
            if exc.rule is not Rule.CREDENTIAL_USED:
                raise
            refused += 1
        latencies.append(time.perf_counter() - start)
        checking += checked - start
    box.close()
    out.put((latencies, checking, refused))  # type: ignore[attr-defined]


@contextmanager
def _location(store: str) -> Iterator[str]:
    if store == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield os.path.join(folder, "box.sqlite")
        return
    import psycopg  # noqa: PLC0415

    url = os.environ["DEGCORE_POSTGRES_URL"]
    schema = f"load_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _check_integrity(location: str, context: ElectionContext, keys: dict[str, object], accepted: int) -> None:
    """After a run: one ballot per credential, positions 1…n, the chain and every signature verify."""
    box = BallotBox(location, context, keys, BOX_KEY)  # type: ignore[arg-type]
    entries = box.verify_log()  # VerificationFailed names the first bad position
    positions = [entry.position for entry in box.log()]
    credentials = [cast.credential.id for cast in box.counted()]
    box.close()
    if entries != accepted or positions != list(range(1, accepted + 1)):
        raise AssertionError(f"{entries} entries for {accepted} accepted")
    if len(set(credentials)) != len(credentials):
        raise AssertionError("a credential has two counted ballots")
    print(
        f"  integrity: {entries} entries, positions 1…{entries}, chain and signatures verify, "
        f"{len(credentials)} distinct credentials",
        flush=True,
    )


def run(
    store: str,
    processes: int,
    casts: list[str],
    context: ElectionContext,
    issuer_pem: bytes,
    *,
    check_integrity: bool = False,
) -> LoadResult:
    """Cast ``casts`` from ``processes`` client processes into a fresh box."""
    ctx = mp_context()  # forkserver or spawn: no fork() of a threaded parent (3.12+ warns)
    with _location(store) as location:
        keys = {"s": serialization.load_pem_public_key(issuer_pem)}
        BallotBox(location, context, keys, BOX_KEY).close()  # type: ignore[arg-type]
        barrier, out = ctx.Barrier(processes + 1), ctx.Queue()
        shares = [casts[i::processes] for i in range(processes)]
        procs = [
            ctx.Process(target=_client, args=(location, context, issuer_pem, share, barrier, out))
            for share in shares
        ]
        for p in procs:
            p.start()
        barrier.wait()
        start = time.perf_counter()
        results = [out.get(timeout=3600) for _ in procs]
        seconds = time.perf_counter() - start
        for p in procs:
            p.join()
        if check_integrity:
            _check_integrity(location, context, keys, len(casts) - sum(r for _, _, r in results))  # type: ignore[arg-type]
    tenths_ms = tuple(
        1000
        * statistics.fmean(
            x for lat, _, _ in results for x in lat[k * len(lat) // 10 : (k + 1) * len(lat) // 10]
        )
        for k in range(10)
    )
    latencies = sorted(x for lat, _, _ in results for x in lat)
    total = sum(latencies)
    checking = sum(c for _, c, _ in results)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    p50 = statistics.median(latencies)
    return LoadResult(
        store, processes, len(casts), seconds, 1000 * p50, 1000 * p99, checking / total, tenths_ms
    )


def prepare(ballots: int, reuse_every: int = 0) -> tuple[ElectionContext, bytes, list[str]]:
    """A context, the issuer key (PEM) and ``ballots`` casts with distinct credentials (made on all cores)."""
    context, _ = bench_election()
    key = rsabssa.generate_key(2048)
    enc = serialization.Encoding.PEM
    pem = key.private_bytes(enc, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    make = functools.partial(_make, context, pem, reuse_every)
    chunks = per_chunk(make, range(ballots), executor=default_executor(), chunk_size=100)
    public = key.public_key().public_bytes(enc, serialization.PublicFormat.SubjectPublicKeyInfo)
    return context, public, [c for chunk in chunks for c in chunk]


def main(ballots: int = 2000, process_counts: tuple[int, ...] = (1, 2, 4, 8)) -> list[LoadResult]:
    """Run every configuration and print the report."""
    context, pem, casts = prepare(ballots)
    stores = ["sqlite"] + (["postgresql"] if os.environ.get("DEGCORE_POSTGRES_URL") else [])
    header = f"{'store':<11}{'proc':>4}{'ballots':>8}{'per s':>10}{'p50 ms':>9}{'p99 ms':>9}"
    print(header + f"{'checks':>9}{'storage':>9}")
    results = []
    for store in stores:
        for n in process_counts:
            result = run(store, n, casts, context, pem)
            print(result.line(), flush=True)
            tenths = " ".join(f"{ms:.2f}" for ms in result.tenths_ms)
            print(f"{'':<11}ms per cast by tenth of the log: {tenths}", flush=True)
            results.append(result)
    return results


def integrity(casts_total: int = 20000, processes: int = 8) -> None:
    """``processes`` writers cast ``casts_total`` ballots, a tenth of them with credentials used twice."""
    unique = casts_total * 9 // 10
    context, pem, casts = prepare(unique, reuse_every=9)
    stores = ["sqlite"] + (["postgresql"] if os.environ.get("DEGCORE_POSTGRES_URL") else [])
    for store in stores:
        result = run(store, processes, casts, context, pem, check_integrity=True)
        print(
            f"{store}: {len(casts)} casts from {processes} processes: {result.ballots / result.seconds:.0f}/s"
        )


def faults(ballots: int = 2000, *, kills: int = 20, outage: float = 4.0) -> None:
    """Clients SIGKILLed on SQLite; our own PostgreSQL server crashed twice (where its binaries exist)."""
    context, pem, casts = prepare(ballots)
    run = _box_faults.Run(context, pem, BOX_KEY, casts)
    _box_faults.sqlite_kills(run, kills=kills)
    if glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        _box_faults.postgres_crash(run, outage=outage)
    else:
        print("postgresql: no server binaries here, crash run skipped")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--integrity":
        integrity(int(sys.argv[2]) if len(sys.argv) > 2 else 20000)
    elif len(sys.argv) > 1 and sys.argv[1] == "--faults":
        faults(int(sys.argv[2]) if len(sys.argv) > 2 else 2000)
    else:
        counts = tuple(int(n) for n in sys.argv[2:]) or (1, 2, 4, 8)
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, counts)
