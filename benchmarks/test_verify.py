"""Verifying an election record of ``DEGCORE_BENCH_VERIFY_BALLOTS`` ballots (default 100,000) on all cores.

The record (1 contest, 5 options, ristretto255) is built once and cached under
``$DEGCORE_BENCH_CACHE`` (default: the system temp directory): ballots are encrypted with all their
proofs and credentials on all cores, and the log is chained and signed as the box does. The
operation bound is the counted group operations of checking a sample of ballot lines, scaled to
the record and divided by the cores, plus the aggregation's multiplications.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from nacl.signing import SigningKey

from benchmarks._election import STARTS, bench_election
from benchmarks._opcount import bound, count_ops
from benchmarks.conftest import costs_for, record_ratio, record_throughput
from degcore.ballot import (
    ElectionContext,
    EncryptedBallot,
    PlaintextBallot,
)
from degcore.ballot import encrypt_ballot as encrypt
from degcore.board import CastBallot, sign_ballot
from degcore.board.log import GENESIS, LogEntry, entry_hash
from degcore.elgamal import threshold
from degcore.encoding import canonical_json, record_header, to_rfc3339
from degcore.issuance import finish_credential, public_key_pem, request_credential, rsabssa
from degcore.parallel import default_executor, per_chunk, worker_count
from degcore.record import RecordReader, RecordWriter, layout, log_line
from degcore.tally import aggregate, decrypt_tally
from degcore.verify import verify_record
from degcore.verify.ballots import _check_chunk

BALLOTS = int(os.environ.get("DEGCORE_BENCH_VERIFY_BALLOTS", "100000"))
CACHE = Path(os.environ.get("DEGCORE_BENCH_CACHE", tempfile.gettempdir())) / f"degcore-bench-record-{BALLOTS}"
SAMPLE = 40


def _casts(context: ElectionContext, issuer_pem: bytes, seeds: Sequence[int]) -> list[bytes]:
    key = serialization.load_pem_private_key(issuer_pem, None)
    out = []
    for i in seeds:
        request = request_credential(key.public_key(), "bench", "s")  # type: ignore[arg-type]
        wallet = finish_credential(request, rsabssa.blind_sign(key, request.blinded_msg), key.public_key())  # type: ignore[arg-type]
        plain = PlaintextBallot("s", {"c": {f"o{i % 5}": 1}})
        ballot, _ = encrypt(context, plain, wallet.credential.public_key)
        out.append(canonical_json(sign_ballot(context, ballot, wallet).to_json(context)))
    return out


def _build(root: Path) -> None:
    context, shares = bench_election()
    manifest, ceremony = context.manifest, context.ceremony
    issuer = rsabssa.generate_key(2048)
    pem = issuer.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    payloads = per_chunk(
        functools.partial(_casts, context, pem), range(BALLOTS), executor=default_executor(), chunk_size=500
    )
    box_key = SigningKey.generate()
    at = to_rfc3339(STARTS + timedelta(hours=1))

    def entries() -> object:
        prev = GENESIS
        for position, payload in enumerate((p for chunk in payloads for p in chunk), start=1):
            digest = entry_hash(prev, position, "ballot", payload, at)
            yield log_line(
                LogEntry(position, "ballot", payload, at, prev, digest, box_key.sign(digest).signature)
            )
            prev = digest
        close = canonical_json({"type": "close", "counted": BALLOTS, "challenged": 0})
        digest = entry_hash(prev, BALLOTS + 1, "close", close, at)
        yield log_line(
            LogEntry(BALLOTS + 1, "close", close, at, prev, digest, box_key.sign(digest).signature)
        )

    writer = RecordWriter(root)
    config = ceremony.config
    writer.json(layout.MANIFEST, manifest.to_json())
    writer.json(layout.CONFIG, config.to_json())
    writer.lines(layout.COMMITMENTS, (m.to_json(config) for m in ceremony.commitments))
    writer.lines(layout.COMPLAINTS, ())
    writer.lines(layout.ANSWERS, ())
    writer.json(layout.DKG_RESULT, ceremony.to_json())
    issuer_pem = public_key_pem(issuer.public_key()).decode()
    writer.json(layout.ISSUER_KEYS, {**record_header("issuer-keys"), "keys": {"s": issuer_pem}})
    box_key_hex = bytes(box_key.verify_key).hex()
    writer.json(layout.BOX, {**record_header("box"), "public_key": box_key_hex, "policy": "first"})
    writer.lines(layout.LOG, entries())
    tally = aggregate(context, _logged_ballots(context, root / layout.LOG))
    partials = [
        threshold.partial_decrypt(shares[t], tally.ciphertexts(), context.base_hash)
        for t in ("t1", "t2", "t3")
    ]
    writer.json(layout.ENCRYPTED_TALLY, tally.to_json())
    for partial in partials:
        writer.json(layout.partial_file(partial.trustee_id), partial.to_json(config))
    writer.json(layout.RESULT, decrypt_tally(context, tally, partials).to_json())
    writer.index("bench")


def _logged_ballots(context: ElectionContext, log: Path) -> Iterator[EncryptedBallot]:
    with log.open("rb") as lines:
        for line in lines:
            entry = json.loads(line)
            if entry["kind"] == "ballot":
                yield CastBallot.from_json(context, entry["payload"]).ballot


def _record() -> Path:
    if not (CACHE / layout.INDEX).exists():
        tmp = CACHE.with_name(CACHE.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        _build(tmp)
        tmp.rename(CACHE)
    return CACHE


def _peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def test_verify_record(benchmark: object) -> None:
    root = _record()
    reader = RecordReader(root)
    report = None

    def run() -> None:
        nonlocal report
        report = verify_record(root)

    benchmark.pedantic(run, rounds=1)  # type: ignore[attr-defined]
    assert report is not None and report.ok, report.to_text() if report else ""
    benchmark.extra_info["peak_rss_mib"] = _peak_rss_mib()  # type: ignore[attr-defined]
    # The bound: the operations of checking SAMPLE lines, scaled, over the cores; plus aggregation.
    context = ElectionContext(reader.manifest(), reader.ceremony_result(reader.ceremony_config()))
    pems = {"s": public_key_pem(reader.issuer_keys()["s"])}
    box_key, _ = reader.box()
    lines = [line for _, line in zip(range(SAMPLE), reader.lines(layout.LOG), strict=False)]
    with count_ops(context.group) as counts:
        _check_chunk(context, pems, box_key, lines)
    costs = costs_for(context.group)
    expected = BALLOTS * bound(counts, costs) / SAMPLE / worker_count()
    label = f"verify record of {BALLOTS:,} ballots, {worker_count()} cores"
    record_ratio(
        benchmark, label, expected, f"peak RSS {_peak_rss_mib():.0f} MiB; {dict(counts)} per {SAMPLE}"
    )
    record_throughput(benchmark, f"verify {BALLOTS:,}-ballot record", BALLOTS, "ballots")
