"""The executable spec: every kind of hash of docs/protocol.md Appendix A, recomputed from its inputs.

``tests/vectors/degcore/hashes.json`` holds the inputs and outputs; this test recomputes each with
the library and checks that docs/protocol.md's appendix prints the same output, so the docs, the
vectors and the code cannot drift apart. Regenerate (after a deliberate format change) with
``python -m tests.unit.test_spec_vectors``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from degcore.chain import link_hash
from degcore.encoding import canonical_json
from degcore.groups import get_group
from degcore.hashing import Transcript, sha256
from degcore.mixnet.cascade import stage_context

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors" / "degcore" / "hashes.json"
PROTOCOL = ROOT / "docs" / "protocol.md"

B11, B22, B33 = bytes([0x11]) * 32, bytes([0x22]) * 32, bytes([0x33]) * 32
CONFIG = {"format": "degcore/4", "type": "ceremony-config", "election_id": "e2026", "group": "ristretto255",
          "threshold": 2, "trustees": [{"id": "t1", "signing_key": "11" * 32},
                                       {"id": "t2", "signing_key": "22" * 32},
                                       {"id": "t3", "signing_key": "33" * 32}]}  # fmt: skip
CLOSE = {"type": "close", "counted": 0, "challenged": 0}
BALLOT = {"format": "degcore/4", "type": "encrypted-ballot", "election": B11.hex(), "style": "b",
          "credential_key": B22.hex(), "contests": []}  # fmt: skip


def _range_transcript() -> bytes:
    g = get_group("ristretto255")
    gen = g.generator()
    t = Transcript("degcore/4/range", g.name, B33).element("h", gen**2).integer("lo", 0).integer("hi", 1)
    t.element("a", gen**3).element("b", gen**5).elements("commitments", [gen**7, gen**11, gen**13, gen**17])
    return g.encode_scalar(t.challenge(g))


def _sum_transcript() -> bytes:
    g = get_group("ristretto255")
    gen = g.generator()
    t = Transcript("degcore/4/sum", g.name, B33).element("h", gen**2).integer("lo", 1).integer("hi", 2)
    t.elements("options", [gen**3, gen**5, gen**7, gen**11])
    t.elements("commitments", [gen**13, gen**17, gen**19, gen**23])
    return g.encode_scalar(t.challenge(g))


def _row_challenges() -> bytes:
    digest = bytes([0x77]) * 32
    return b"".join(sha256(digest, i.to_bytes(8, "big"))[:16] for i in range(2))


def frame(*parts: bytes) -> bytes:
    """§2.0's input bytes, written out independently of ``degcore.hashing``."""
    return b"".join(len(p).to_bytes(8, "big") + p for p in parts)


#: name → the parts of §2.0's hash, for the vectors whose exact input bytes the appendix gives
INPUTS: dict[str, tuple[bytes, ...]] = {
    "sha256-one-part": (b"abc",),
    "log-entry": (
        b"degcore/4/board",
        bytes(32),
        (1).to_bytes(8, "big"),
        b"close",
        sha256(canonical_json(CLOSE)),
        b"2026-09-20T17:00:00Z",
    ),
    "tracking-code": (b"degcore/4/ballot", canonical_json(BALLOT)),
    "ceremony-digest": (canonical_json(CONFIG),),
    "ballot-proof-context": (b"degcore/4/ballot-proof", B11, B22, b"mayor", b"m0"),
    "base-hash-shape": (b"degcore/4/base-hash", b"M", b"R", b"S"),
    "receipt-message": (
        b"degcore/4/receipt",
        B11,
        bytes([0x44]) * 32,
        (3).to_bytes(8, "big"),
        bytes([0x55]) * 32,
        bytes([0x66]) * 32,
    ),
}

#: name → (what it is, the function that computes it)
CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "sha256-one-part": ("sha256(b'abc') (§2.0)", lambda: sha256(b"abc")),
    "ceremony-digest": (
        "D = sha256(canonical(config)) (§6.1), for trustees t1, t2, t3 with roster keys 11^32, 22^32, 33^32",
        lambda: sha256(canonical_json(CONFIG)),
    ),
    "log-entry": (
        "hash_1 of a close entry: sha256('degcore/4/board', 0^32, u64(1), 'close', sha256(payload), at) "
        'with payload = the canonical JSON {"challenged":0,"counted":0,"type":"close"} and '
        "at = 2026-09-20T17:00:00Z (§2.3)",
        lambda: link_hash(
            b"degcore/4/board",
            bytes(32),
            1,
            kind="close",
            payload=canonical_json(CLOSE),
            at="2026-09-20T17:00:00Z",
        ),
    ),
    "ballot-proof-context": (
        "ctx(pk_cred = 22^32, 'mayor', 'm0') with base_hash = 11^32 (§8.2)",
        lambda: sha256(b"degcore/4/ballot-proof", B11, B22, b"mayor", b"m0"),
    ),
    "tracking-code": (
        "sha256('degcore/4/ballot', canonical(ballot)) over the bytes of the input's second part, the "
        "canonical JSON of an (empty) encrypted-ballot object (§8.3)",
        lambda: sha256(b"degcore/4/ballot", canonical_json(BALLOT)),
    ),
    "base-hash-shape": (
        "sha256('degcore/4/base-hash', 'M', 'R', 'S') for manifest, result, setup bytes M, R, S (§8.2)",
        lambda: sha256(b"degcore/4/base-hash", b"M", b"R", b"S"),
    ),
    "mix-stage-context": (
        "stage_context(sha256('degcore/4/mix-contest', 11^32, 'vote'), 1) (mixnet.md §3)",
        lambda: stage_context(sha256(b"degcore/4/mix-contest", B11, b"vote"), 1),
    ),
    "per-row-challenges": (
        "u_0 ‖ u_1: the first 16 bytes of sha256(d, u64(i)) for the challenge seed d = 77^32 (mixnet.md §2)",
        _row_challenges,
    ),
    "range-proof-challenge": (
        "the 0/1 range proof's challenge (LE scalar; lo = 0, hi = 1) for h = g^2, (a, b) = (g^3, g^5), "
        "commitments A_0, B_0, A_1, B_1 = g^7, g^11, g^13, g^17, context 33^32, on ristretto255 (§4.3)",
        _range_transcript,
    ),
    "sum-proof-challenge": (
        "the [1, 2] sum proof's challenge (LE scalar) for h = g^2, options (g^3, g^5) and (g^7, g^11), "
        "commitments A_1, B_1, A_2, B_2 = g^13, g^17, g^19, g^23, context 33^32, on ristretto255 (§4.4)",
        _sum_transcript,
    ),
    "receipt-message": (
        "sha256('degcore/4/receipt', base_hash 11^32, tracking code 44^32, u64(3), payload hash 55^32, "
        "entry hash 66^32): what the box signs (§9.4)",
        lambda: sha256(*INPUTS["receipt-message"]),
    ),
}


def _compute() -> dict[str, dict[str, str]]:
    out = {name: {"description": what, "output": fn().hex()} for name, (what, fn) in CASES.items()}
    for name, parts in INPUTS.items():
        out[name]["input"] = frame(*parts).hex()
    return out


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_the_input_bytes_hash_to_the_output_with_plain_sha256(name: str) -> None:
    stored = json.loads(VECTORS.read_text(encoding="utf-8"))[name]
    assert hashlib.sha256(bytes.fromhex(stored["input"])).hexdigest() == stored["output"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_code_computes_the_published_vector(name: str) -> None:
    stored = json.loads(VECTORS.read_text(encoding="utf-8"))
    assert stored[name]["output"] == CASES[name][1]().hex()


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_protocol_appendix_prints_the_vector(name: str) -> None:
    stored = json.loads(VECTORS.read_text(encoding="utf-8"))
    appendix = PROTOCOL.read_text(encoding="utf-8").split("## Appendix A", 1)[1]
    assert f"`{name}`" in appendix and stored[name]["output"] in appendix.replace("\n", "").replace(" ", "")


if __name__ == "__main__":  # pragma: no cover - regenerates the vector file
    VECTORS.write_text(json.dumps(_compute(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(VECTORS.read_text(encoding="utf-8"))
