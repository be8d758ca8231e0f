"""Verificatum runs: ciphertexts/s per core of ``degcore vmnv`` next to degcore's own shuffle verifier.

A run of ``DEGCORE_BENCH_VMN`` ciphertexts (default 2,000) is written by degcore in Verificatum's
format (self-generated, one mix server, width 1) over P-256 and over the 512-bit safe-prime group of
the shared vmn vector, then verified on one core; a ``mixing`` run (three servers, threshold 2, with
the proof of decryption) over P-256 and over P-384 (the generic curve group) likewise. degcore's own
verifier checks the same number of ciphertexts over P-256 on one core, so the two rates compare the
transcripts and encodings only.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from degcore import mixnet
from degcore.elgamal import encrypt, keygen
from degcore.groups import get_group
from degcore.interop.verificatum.export import P256_PGROUP, ec_pgroup, modp_pgroup, write_run
from degcore.interop.verificatum.verifier import verify_run
from degcore.parallel import SERIAL

SIZE = int(os.environ.get("DEGCORE_BENCH_VMN", "2000"))
_VECTOR = (
    Path(__file__).parents[1] / "tests" / "vectors" / "shuffle" / "verificatum_tw_shuffle_modp512_n10.json"
)
_G = json.loads(_VECTOR.read_text())["group"]
MODP512 = modp_pgroup(int(_G["p_hex"], 16), int(_G["q_hex"], 16), int(_G["g_hex"], 16))


@pytest.mark.parametrize("pgroup", [P256_PGROUP, MODP512], ids=["p256", "modp512"])
def test_vmnv_verify(benchmark: object, tmp_path_factory: pytest.TempPathFactory, pgroup: str) -> None:
    protinfo, proof_dir, _ = write_run(tmp_path_factory.mktemp("vmn"), pgroup, n=SIZE, executor=SERIAL)
    started = time.perf_counter()
    report = benchmark.pedantic(verify_run, args=(protinfo, proof_dir), rounds=1, iterations=1)  # type: ignore[attr-defined]
    seconds = time.perf_counter() - started
    assert report.ok
    print(
        f"\nvmnv {pgroup.split('(', maxsplit=1)[0]} N={SIZE}: {seconds:.2f} s, "
        f"{SIZE / seconds:.0f} ciphertexts/s per core"
    )


@pytest.mark.parametrize("pgroup", [P256_PGROUP, ec_pgroup("P-384")], ids=["p256", "p384"])
def test_vmnv_verify_mixing(benchmark: object, tmp_path_factory: pytest.TempPathFactory, pgroup: str) -> None:
    """A ``mixing`` run of three servers, threshold 2: three shuffles and the combined decryption proof."""
    protinfo, proof_dir, _ = write_run(
        tmp_path_factory.mktemp("vmn"), pgroup, n=SIZE, servers=3, threshold=2, kind="mixing", executor=SERIAL
    )
    started = time.perf_counter()
    report = benchmark.pedantic(verify_run, args=(protinfo, proof_dir), rounds=1, iterations=1)  # type: ignore[attr-defined]
    seconds = time.perf_counter() - started
    assert report.ok
    name = pgroup.split("::", maxsplit=1)[0]
    print(f"\nvmnv mixing {name} k=3 N={SIZE}: {seconds:.2f} s, {SIZE / seconds:.0f} ciphertexts/s per core")


def test_degcore_own_verifier_p256(benchmark: object) -> None:
    pk = keygen(get_group("p256")).public
    rows = [(encrypt(pk, i % 7),) for i in range(SIZE)]
    out, witness = mixnet.shuffle(pk, rows, executor=SERIAL)
    proof = mixnet.prove(pk, rows, out, witness, b"bench", executor=SERIAL)
    started = time.perf_counter()
    benchmark.pedantic(  # type: ignore[attr-defined]
        mixnet.verify,
        args=(pk, rows, out, proof, b"bench"),
        kwargs={"executor": SERIAL},
        rounds=1,
        iterations=1,
    )
    seconds = time.perf_counter() - started
    print(f"\ndegcore verify p256 N={SIZE}: {seconds:.2f} s, {SIZE / seconds:.0f} ciphertexts/s per core")
