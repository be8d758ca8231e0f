"""Verifying an election record of ``DEGCORE_BENCH_VERIFY_BALLOTS`` ballots (default 100,000) on all cores.

The record (1 contest, 5 options, ristretto255) is built once and cached under
``$DEGCORE_BENCH_CACHE`` (default: the system temp directory): ballots are encrypted with all their
proofs and credentials on all cores, and the log is chained and signed as the box does. The
operation bound is the counted group operations of checking a sample of ballot lines, scaled to
the record and divided by the cores, plus the aggregation's multiplications.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import resource
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from nacl.signing import SigningKey
from tests.trustee_keys import trustee_key

from benchmarks._election import STARTS, bench_election
from benchmarks._opcount import bound, count_ops
from benchmarks.conftest import costs_for, record_ratio, record_throughput
from degcore.ballot import ElectionContext, ElectionSetup, EncryptedBallot, PlaintextBallot
from degcore.ballot import encrypt_ballot as encrypt
from degcore.ballot.cosign import cosign
from degcore.ballot.setup import announcement
from degcore.board import CastBallot, sign_ballot
from degcore.board.log import TAG as BOARD_TAG
from degcore.chain import GENESIS, ChainEntry, link_hash
from degcore.encoding import FORMAT, canonical_json, to_rfc3339
from degcore.issuance import finish_credential, public_key_pem, request_credential, rsabssa
from degcore.issuance.enrollment import Enrollment, EnrollmentList, credential_request
from degcore.issuance.log import ISSUANCE_TAG, issued_payload
from degcore.parallel import default_executor, per_chunk, worker_count
from degcore.record import RecordReader, layout, load_context, sign_record, write_record
from degcore.tally import aggregate, decrypt_tally
from degcore.trustees import threshold
from degcore.verify import verify_record
from degcore.verify.ballots import _check_chunk

BALLOTS = int(os.environ.get("DEGCORE_BENCH_VERIFY_BALLOTS", "100000"))
_CACHE_ROOT = Path(os.environ.get("DEGCORE_BENCH_CACHE", tempfile.gettempdir()))
CACHE = (
    _CACHE_ROOT / f"degcore-bench-record-{FORMAT.replace('/', '')}-{BALLOTS}"
)  # a new format: a new record
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
    base, shares = bench_election()
    authority, registry, issuance, box_key = (SigningKey.generate() for _ in range(4))
    manifest = replace(base.manifest, authority_key=bytes(authority.verify_key))
    ceremony = base.ceremony
    issuer = rsabssa.generate_key(2048)
    ends = manifest.voting_ends
    # One enrolled voter key per ballot; each signs its voter's credential request.
    voter_keys = [SigningKey(hashlib.sha256(b"voter%d" % i).digest()) for i in range(BALLOTS)]
    refs = [hashlib.sha256(b"ref%d" % i).digest() for i in range(BALLOTS)]
    enrolled = [Enrollment(refs[i], bytes(k.verify_key), "s") for i, k in enumerate(voter_keys)]
    counts = EnrollmentList.sign(registry, "bench", STARTS, enrolled, bytes(32))[0].to_json()
    setup = ElectionSetup.create(
        authority, manifest, ceremony, issuer_keys={"s": public_key_pem(issuer.public_key()).decode()},
        issuance_key=bytes(issuance.verify_key), issuance_window=(STARTS - timedelta(days=1), ends),
        box_key=bytes(box_key.verify_key), registry_key=bytes(registry.verify_key), remote_list=counts,
    )  # fmt: skip
    context = ElectionContext(manifest, ceremony, setup)
    pem = issuer.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    payloads = list(
        per_chunk(
            functools.partial(_casts, context, pem),
            range(BALLOTS),
            executor=default_executor(),
            chunk_size=500,
        )
    )
    at = to_rfc3339(STARTS + timedelta(hours=1))
    writer = root.parent / (root.name + ".log.jsonl")

    def signed(tag: bytes, key: SigningKey, items: Iterator[tuple[str, bytes, str]]) -> Iterator[ChainEntry]:
        prev = GENESIS
        for position, (kind, payload, when) in enumerate(items, start=1):
            digest = link_hash(tag, prev, position, kind=kind, payload=payload, at=when)
            yield ChainEntry(position, kind, payload, when, prev, digest, key.sign(digest).signature)
            prev = digest

    def ballots() -> Iterator[tuple[str, bytes, str]]:
        yield from (("ballot", p, at) for chunk in payloads for p in chunk)
        yield (
            "close",
            canonical_json({"type": "close", "counted": BALLOTS, "challenged": 0}),
            to_rfc3339(ends),
        )

    def issued() -> Iterator[tuple[str, bytes, str]]:
        opens = to_rfc3339(STARTS - timedelta(hours=1))
        for i in range(BALLOTS):
            request = hashlib.sha256(b"request%d" % i).digest()
            signature = voter_keys[i].sign(credential_request("bench", "s", refs[i], request)).signature
            yield "issued", issued_payload(refs[i], "s", request, signature), opens
        yield "close", canonical_json({"type": "close", "issued": {"s": BALLOTS}}), to_rfc3339(ends)

    # The tally needs the ballots once more: stream them from a scratch copy of the log.
    with writer.open("wb") as scratch:
        for chunk in payloads:
            for payload in chunk:
                scratch.write(payload + b"\n")
    tally = aggregate(context, _logged_ballots(context, writer))
    writer.unlink()
    partials = [
        threshold.partial_decrypt(context, shares[t], tally.ciphertexts()) for t in ("t1", "t2", "t3")
    ]
    write_record(
        root,
        context=context,
        announcement=announcement(authority, manifest, ceremony.config),
        remote_list=counts,
        enrollment=enrolled,
        issuance_log=signed(ISSUANCE_TAG, issuance, issued()),
        box_log=signed(BOARD_TAG, box_key, ballots()),  # type: ignore[arg-type]
        tally=tally,
        partials=partials,
        result=decrypt_tally(context, tally, partials),
        cosignatures=[
            cosign(key, setup, role)
            for role, key in (
                ("issuer-log", issuance),
                ("box", box_key),
                ("registry", registry),
                *((f"trustee:{t}", trustee_key(t)) for t in ceremony.config.trustees),
            )
        ],
    )
    sign_record(root, authority)


def _logged_ballots(context: ElectionContext, log: Path) -> Iterator[EncryptedBallot]:
    with log.open("rb") as lines:
        for line in lines:
            yield CastBallot.from_json(context, json.loads(line)).ballot


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
    context = load_context(root)
    assert context.setup is not None
    pems = {s: pem.encode() for s, pem in context.setup.issuer_keys.items()}
    box_key = context.setup.box_key
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
