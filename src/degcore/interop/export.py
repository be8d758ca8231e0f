"""Write a degcore mix in Verificatum's format: protInfo.xml and a proof directory vmnv can read.

degcore's own shuffler and prover (:func:`degcore.mixnet.proof.prove_with`) run with Verificatum's
transcript (:class:`~degcore.interop.transcript.VerificatumTranscript`), so the files are a
``shuffling`` session of ``servers`` mix servers as vmn lays it out (docs/verificatum.md §5). These
runs are **self-generated**: they test the wider paths (P-256, width > 1, several servers) and
feed the benchmark; they are not evidence of compatibility the way a real vmn run is.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path

from degcore.elgamal import encrypt, keygen
from degcore.groups import Element
from degcore.interop.bytetree import leaf, node, uint_leaf
from degcore.interop.oracle import derive_rho
from degcore.interop.run import ciphertexts_tree, read_protinfo
from degcore.interop.transcript import VerificatumTranscript, commitment_tree
from degcore.interop.vgroups import parse_pgroup
from degcore.mixnet import Row, shuffle
from degcore.mixnet.proof import prove_with

__all__ = ["P256_PGROUP", "modp_pgroup", "write_run"]

#: protInfo's ``pgroup`` for Verificatum's P-256 group.
P256_PGROUP = (
    "ECqPGroup(P-256)::" + node(leaf("com.verificatum.arithm.ECqPGroup"), leaf("P-256")).to_bytes().hex()
)

_PROTINFO = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by degcore (self-generated test run, not by vmn). -->
<protocol>
   <version>{version}</version>
   <sid>{sid}</sid>
   <name>degcore</name>
   <descr></descr>
   <nopart>{k}</nopart>
   <statdist>{n_r}</statdist>
   <thres>{k}</thres>
   <pgroup>{pgroup}</pgroup>
   <keywidth>1</keywidth>
   <vbitlenro>{n_v}</vbitlenro>
   <ebitlenro>{n_e}</ebitlenro>
   <prg>SHA-256</prg>
   <rohash>SHA-256</rohash>
   <corr>noninteractive</corr>
   <width>{width}</width>
   <maxciph>0</maxciph>
</protocol>
"""


def _java(value: int) -> bytes:
    return value.to_bytes(value.bit_length() // 8 + 1, "big")


def modp_pgroup(p: int, q: int, g: int) -> str:
    """protInfo's ``pgroup`` for the ModPGroup (p, q, g)."""
    params = node(leaf(_java(p)), leaf(_java(q)), leaf(_java(g)), uint_leaf(1))
    tree = node(leaf("com.verificatum.arithm.ModPGroup"), params)
    comment = f"ModPGroup(modulus bit-length = {p.bit_length()}, order bit-length = {q.bit_length()})"
    return f"{comment}::{tree.to_bytes().hex()}"


def write_run(
    root: str | Path,
    pgroup: str,
    *,
    n: int,
    width: int = 1,
    servers: int = 1,
    version: str = "3.0.4",
    sid: str = "SessionID",
    auxsid: str = "default",
    executor: Executor | None = None,
) -> tuple[Path, Path, list[Sequence[Row]]]:
    """Mix ``n`` rows of ``width`` through ``servers`` mix servers; (protInfo.xml, proof dir, all lists)."""
    root = Path(root)
    protinfo = root / "protInfo.xml"
    protinfo.write_text(
        _PROTINFO.format(
            version=version, sid=sid, k=servers, n_r=100, pgroup=pgroup, n_v=256, n_e=256, width=width
        )
    )
    info = read_protinfo(protinfo)
    vg = parse_pgroup(pgroup)
    group = vg.group
    d = root / "nizkp" / auxsid
    (d / "proofs").mkdir(parents=True)
    for name, text in (
        ("version", version),
        ("type", "shuffling"),
        ("auxsid", auxsid),
        ("width", str(width)),
    ):
        (d / name).write_text(text)
    (d / "proofs" / "activethreshold").write_text(str(servers))
    pk = keygen(group).public
    (d / "FullPublicKey.bt").write_bytes(
        node(vg.element_tree(group.generator()), vg.element_tree(pk.h)).to_bytes()
    )
    rows: list[Row] = [tuple(encrypt(pk, (i * width + k) % 97) for k in range(width)) for i in range(n)]
    rho = derive_rho(
        version=version, sid=sid, auxsid=auxsid, n_r=info.n_r, n_v=info.n_v, n_e=info.n_e,
        prg=info.prg, pgroup=info.pgroup, rohash=info.rohash,
    )  # fmt: skip
    in_tree = ciphertexts_tree(vg, rows)
    (d / "Ciphertexts.bt").write_bytes(in_tree.to_bytes())
    lists: list[Sequence[Row]] = [rows]
    h: list[Element] = []
    for party in range(1, servers + 1):
        out, witness = shuffle(pk, rows, executor=executor)
        out_tree = ciphertexts_tree(vg, out)
        transcript = VerificatumTranscript(info, rho, pk, width, in_tree, out_tree, h)
        proof = prove_with(pk, rows, out, witness, transcript, executor=executor)
        h = transcript.h
        tag = f"{party:02d}"
        proofs = d / "proofs"
        (proofs / f"PermutationCommitment{tag}.bt").write_bytes(vg.array_tree(proof.commitments).to_bytes())
        tau = commitment_tree(vg, proof.chain, proof.t, proof.t_hat)
        (proofs / f"PoSCommitment{tag}.bt").write_bytes(tau.to_bytes())
        reply = node(
            vg.scalar_tree(proof.s3),
            node([vg.scalar_tree(k) for k in proof.s_hat]),
            vg.scalar_tree(proof.s1),
            vg.scalar_tree(proof.s2),
            node([vg.scalar_tree(k) for k in proof.s_prime]),
            vg.wide_scalar_tree(proof.s4),
        )
        (proofs / f"PoSReply{tag}.bt").write_bytes(reply.to_bytes())
        if party < servers:
            (proofs / f"Ciphertexts{tag}.bt").write_bytes(out_tree.to_bytes())
        rows, in_tree = out, out_tree
        lists.append(out)
    (d / "ShuffledCiphertexts.bt").write_bytes(in_tree.to_bytes())
    return protinfo, d, lists
