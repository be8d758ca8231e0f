"""Write a degcore mix in Verificatum's format: protInfo.xml and a proof directory vmnv can read.

degcore's own shuffler and prover (:func:`degcore.mixnet.proof.prove_with`) run with Verificatum's
transcript (:class:`~degcore.interop.verificatum.transcript.VerificatumTranscript`), so the files are a
``shuffling`` session of ``servers`` mix servers as vmn lays it out (docs/verificatum.md §5); for
``kind="mixing"`` or ``"decryption"`` the servers also decrypt with threshold shares and write
vmn's proofs of decryption (:mod:`degcore.interop.verificatum.decryption`). These runs are **self-generated**:
they test the wider paths (curves, width > 1, several servers, decryption) and feed the benchmark;
they are not evidence of compatibility the way a real vmn run is. Test use only: the prover's
randomness is real, but the generic curves' arithmetic is not constant-time.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path

from degcore.elgamal import PublicKey, encrypt
from degcore.groups import Element
from degcore.interop.verificatum.bytetree import ByteTree, Leaf, leaf, node, uint_leaf
from degcore.interop.verificatum.decryption import batching, challenge, lagrange_factor
from degcore.interop.verificatum.decryption import commitment_tree as decryption_commitment
from degcore.interop.verificatum.groups import VGroup, parse_pgroup
from degcore.interop.verificatum.oracle import derive_rho
from degcore.interop.verificatum.run import ProtInfo, ciphertexts_tree, read_protinfo
from degcore.interop.verificatum.transcript import VerificatumTranscript, commitment_tree
from degcore.mixnet import Row, shuffle
from degcore.mixnet.proof import prove_with

__all__ = ["P256_PGROUP", "ec_pgroup", "modp_pgroup", "write_run"]


def ec_pgroup(curve: str) -> str:
    """protInfo's ``pgroup`` for Verificatum's ECqPGroup over the named curve (as ``vog`` writes it)."""
    tree = node(leaf("com.verificatum.arithm.ECqPGroup"), leaf(curve))
    return f"ECqPGroup({curve})::{tree.to_bytes().hex()}"


#: protInfo's ``pgroup`` for Verificatum's P-256 group.
P256_PGROUP = ec_pgroup("P-256")

_PROTINFO = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by degcore (self-generated test run, not by vmn). -->
<protocol>
   <version>{version}</version>
   <sid>{sid}</sid>
   <name>degcore</name>
   <descr></descr>
   <nopart>{k}</nopart>
   <statdist>{n_r}</statdist>
   <thres>{threshold}</thres>
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
    kind: str = "shuffling",
    threshold: int | None = None,
    absent: Sequence[int] = (),
    idle: Sequence[int] = (),
    faulty: Sequence[int] = (),
    version: str = "3.0.4",
    sid: str = "SessionID",
    auxsid: str = "default",
    executor: Executor | None = None,
) -> tuple[Path, Path, list[Sequence[Row]]]:
    """Mix ``n`` rows of ``width`` through ``servers`` mix servers; (protInfo.xml, proof dir, all lists).

    ``kind`` is vmn's session type; ``threshold`` is λ (default: all servers); the servers in
    ``absent`` take no part in the decryption, as vmn records a party whose data it could not use;
    the servers in ``idle`` take no part in the shuffle (no proof files, as vmn leaves an inactive
    server's slot); the servers in ``faulty`` decrypt and prove with a wrong share, yet are marked
    correct, as only a dishonest record would have it (vmn's prover would unmark them). A ``mixing``
    run is laid out as vmn's ``MixNetElGamalSession.decrypt`` leaves it: no ``ShuffledCiphertexts.bt``,
    the final list in ``proofs/Ciphertexts<l>.bt`` of the last server and, where server λ took no
    part, also in ``proofs/Ciphertexts<λ>.bt`` (vmn renames it there).
    """
    root = Path(root)
    protinfo = root / "protInfo.xml"
    protinfo.write_text(
        _PROTINFO.format(
            version=version,
            sid=sid,
            k=servers,
            threshold=threshold or servers,
            n_r=100,
            pgroup=pgroup,
            n_v=256,
            n_e=256,
            width=width,
        )
    )
    info = read_protinfo(protinfo)
    vg = parse_pgroup(pgroup)
    group = vg.group
    d = root / "nizkp" / auxsid
    (d / "proofs").mkdir(parents=True)
    for name, text in (
        ("version", version),
        ("type", kind),
        ("auxsid", auxsid),
        ("width", str(width)),
    ):
        (d / name).write_text(text)
    (d / "proofs" / "activethreshold").write_text(str(servers))
    # Feldman shares: x_l = P(l), y_l = g^{x_l}, y = g^{P(0)}; PolynomialInExponent.bt is g^{a_j}.
    poly = [group.random_scalar() for _ in range(threshold or servers)]
    pk = PublicKey(group, group.exp_g(poly[0]))
    (d / "proofs" / "PolynomialInExponent.bt").write_bytes(
        vg.array_tree([group.exp_g(a) for a in poly]).to_bytes()
    )
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
    last = max((p for p in range(1, servers + 1) if p not in idle), default=0)
    for party in range(1, servers + 1 if kind != "decryption" else 1):
        if party in idle:
            continue
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
        if party < last or kind == "mixing":
            (proofs / f"Ciphertexts{tag}.bt").write_bytes(out_tree.to_bytes())
        rows, in_tree = out, out_tree
        lists.append(out)
    lam = threshold or servers
    if kind == "shuffling":
        (d / "ShuffledCiphertexts.bt").write_bytes(in_tree.to_bytes())
    elif kind == "mixing" and lam in idle:
        (d / "proofs" / f"Ciphertexts{lam:02d}.bt").write_bytes(in_tree.to_bytes())
    if kind != "shuffling":
        _decrypt(info, d=d, rho=rho, rows=rows, rows_tree=in_tree, poly=poly, absent=absent, faulty=faulty)
    return protinfo, d, lists


def _share(poly: Sequence[int], party: int, q: int) -> int:
    return sum(a * pow(party, j, q) for j, a in enumerate(poly)) % q


def _decrypt(
    info: ProtInfo,
    *,
    d: Path,
    rho: bytes,
    rows: list[Row],
    rows_tree: ByteTree,
    poly: list[int],
    absent: Sequence[int],
    faulty: Sequence[int] = (),
) -> None:
    """Every present party's decryption factors u^{−x_l/Δ} and proof, written as vmn does; Plaintexts.bt."""
    vg: VGroup = info.vgroup
    group, q, k, width = vg.group, vg.group.order, info.k, len(rows[0])
    inverse = pow(lagrange_factor(k), -1, q)
    one = group.identity()
    factors: list[list[list[Element]]] = []
    shares = {party: (_share(poly, party, q) + (party in faulty)) % q for party in range(1, k + 1)}
    for party in range(1, k + 1):
        exponent = -shares[party] * inverse % q
        present = party not in absent
        factors.append([[ct.a**exponent if present else one for ct in row] for row in rows])
    trees = [vg.wide_array_tree(f, width) for f in factors]
    pie = vg.array_tree([group.exp_g(a) for a in poly])
    seed, e = batching(info, rho, rows_tree, pie, trees, n=len(rows))
    a = [group.multi_exp([row[c].a for row in rows], e) for c in range(width)]
    nonces = [group.random_scalar() for _ in range(k)]
    commitments = [
        decryption_commitment(vg, group.exp_g(r), [ac**r for ac in a])
        if party not in absent
        else decryption_commitment(vg, one, [one] * width)
        for party, r in zip(range(1, k + 1), nonces, strict=True)
    ]
    v = challenge(info, rho, seed, commitments)
    proofs = d / "proofs"
    for party, (tree, commitment, r) in enumerate(zip(trees, commitments, nonces, strict=True), start=1):
        tag = f"{party:02d}"
        reply = (-shares[party] * inverse * v + r) % q if party not in absent else 0
        (proofs / f"DecryptionFactors{tag}.bt").write_bytes(tree.to_bytes())
        (proofs / f"DecrFactCommitment{tag}.bt").write_bytes(commitment.to_bytes())
        (proofs / f"DecrFactReply{tag}.bt").write_bytes(vg.scalar_tree(reply).to_bytes())
    flags = bytes([1] + [int(party not in absent) for party in range(1, k + 1)])
    (proofs / "CorrectIndices.bt").write_bytes(Leaf(flags).to_bytes())
    plaintexts = [[ct.b / ct.a ** poly[0] for ct in row] for row in rows]
    (d / "Plaintexts.bt").write_bytes(vg.wide_array_tree(plaintexts, width).to_bytes())
