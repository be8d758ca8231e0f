"""Verify a Verificatum (vmn 3.x) run: every proof of a shuffle, then the decryption (docs/verificatum.md).

:func:`verify_run` reads protInfo.xml and a proof directory, derives ρ, the independent generators,
each mix server's batching vector and challenge exactly as vmnv does (VMNV §7–§9), and checks the
Terelius–Wikström equations with degcore's own shuffle verifier
(:func:`degcore.mixnet.equations.check_shuffle`). It returns a :class:`RunReport`; a proof that is
malformed or does not hold is a failed check naming the file or the equation, and the statement
files (protInfo.xml, keys, input ciphertexts) being unreadable is :class:`InvalidInput`.

For a ``mixing`` or ``decryption`` run, :func:`degcore.interop.verificatum.decryption.verify_decryption` then
checks the threshold proof of correct decryption and the published plaintexts.

Where vmnv only prints a warning, this verifier rejects: a failed proof, fewer than λ valid proofs,
or a published output that is not the last mix server's output all fail the run.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

from degcore.elgamal import PublicKey
from degcore.errors import DegcoreError, InvalidInput, UnsupportedFormat, VerificationFailed
from degcore.groups import Element
from degcore.interop.verificatum.bytetree import ByteTree, children
from degcore.interop.verificatum.decryption import verify_decryption
from degcore.interop.verificatum.groups import VGroup, minimal_hex
from degcore.interop.verificatum.oracle import derive_rho
from degcore.interop.verificatum.report import FAIL, PASS, SKIP, TYPES, CheckResult, RunReport
from degcore.interop.verificatum.run import (
    ProofDirectory,
    ProtInfo,
    read_ciphertexts,
    read_protinfo,
    read_public_key,
)
from degcore.interop.verificatum.transcript import VerificatumTranscript
from degcore.mixnet import Row
from degcore.mixnet.equations import ShuffleArgument, ShuffleEquationFailed, check_shuffle
from degcore.mixnet.proof import check_proof_shape
from degcore.parallel import SERIAL

__all__ = ["NAMES", "TYPES", "CheckResult", "RunReport", "check_run", "verify_run"]

#: Verificatum's names (VMNV §8.3) for the shared equations ({i}: the component or the chain index).
NAMES = {
    "permutation-commitment": "C^v·C′ = g^k_C does not hold (permutation commitment, C = ∏u_i / ∏h_i)",
    "chain-end": "D^v·D′ = g^k_D does not hold (end of the chain, D = B_N / h_0^∏e_i)",
    "batched-commitment": "A^v·A′ = g^k_A·∏h_i^k_E,i does not hold (batched commitment, A = ∏u_i^e_i)",
    "reencryption": "F^v·F′ = Enc_pk(1, −k_F)·∏w′_i^k_E,i does not hold (re-encryption, component {i})",
    "chain-link": "B_{i}^v·B′_{i} = g^k_B,{i}·B_{i}-1^k_E,{i} does not hold (link {i} of the chain)",
}


def _hex(vg: VGroup, e: Element) -> str:
    return vg.show(e)


_minimal_hex = minimal_hex


def _hexes(vg: VGroup, items: list[Element]) -> str:
    return vg.show_all(items)


def _read_argument(
    vg: VGroup, d: ProofDirectory, tag: str, n: int, width: int
) -> tuple[ShuffleArgument, ByteTree]:
    """PermutationCommitment, PoSCommitment and PoSReply of one mix server, decoded with membership checks."""
    u = vg.elements(d.tree(f"PermutationCommitment{tag}.bt", inner=True), f"PermutationCommitment{tag}.bt", n)
    commitment = d.tree(f"PoSCommitment{tag}.bt", inner=True)
    what = f"PoSCommitment{tag}.bt"
    b_t, ap_t, bp_t, cp_t, dp_t, fp_t = children(commitment, what, 6)
    fa_t, fb_t = children(fp_t, f"{what} F′", 2)
    f_a, f_b = vg.wide_element(fa_t, width, f"{what} F′"), vg.wide_element(fb_t, width, f"{what} F′")
    t4 = [e for pair in zip(f_a, f_b, strict=True) for e in pair]
    what = f"PoSReply{tag}.bt"
    ka_t, kb_t, kc_t, kd_t, ke_t, kf_t = children(d.tree(f"PoSReply{tag}.bt", inner=True), what, 6)
    argument = ShuffleArgument(
        commitments=u,
        chain=vg.elements(b_t, f"{what} B", n),
        t=[vg.element(cp_t, "C′"), vg.element(dp_t, "D′"), vg.element(ap_t, "A′"), *t4],
        t_hat=vg.elements(bp_t, "B′", n),
        s1=vg.scalar(kc_t, f"{what} k_C"),
        s2=vg.scalar(kd_t, f"{what} k_D"),
        s3=vg.scalar(ka_t, f"{what} k_A"),
        s4=vg.wide_scalar(kf_t, width, f"{what} k_F"),
        s_hat=vg.scalars(kb_t, f"{what} k_B", n),
        s_prime=vg.scalars(ke_t, f"{what} k_E", n),
    )
    return argument, commitment


def _batched_string(vg: VGroup, batched: list[tuple[Element, Element]]) -> str:
    if len(batched) == 1:
        return _hexes(vg, list(batched[0]))
    return f"({_hexes(vg, [a for a, _ in batched])},{_hexes(vg, [b for _, b in batched])})"


def _verify_party(
    info: ProtInfo,
    transcript: VerificatumTranscript,
    d: ProofDirectory,
    tag: str,
    *,
    rows_in: list[Row],
    rows_out: list[Row],
    executor: Executor,
) -> CheckResult:
    vg, width, n = info.vgroup, transcript.width, len(rows_in)
    check = CheckResult(f"pos-{tag}", f"proof of a shuffle of mix server {int(tag)}", FAIL)
    try:
        argument, commitment = _read_argument(vg, d, tag, n, width)
        check_proof_shape(vg.group, rows_in, rows_out, argument, f"mix server {int(tag)}")
        gens = transcript.generators(n)
        e = transcript.batching(argument.commitments)
        c = transcript.challenge_from_tree(commitment)
        found: dict[str, object] = {}
        check.values = {"PoS.s": transcript.seed.hex(), "PoS.v": f"{transcript.v:x}"}
        check_shuffle(
            transcript.pk, rows_in, rows_out, argument,
            generators=gens, u=e, challenge=c, names=NAMES,
            executor=executor, subject=f"mix server {int(tag)}", intermediates=found,
        )  # fmt: skip
        batched: list[tuple[Element, Element]] = found["batched_in"]  # type: ignore[assignment]
        check.values |= {
            "PoS.A": _hex(vg, found["c_tilde"]),  # type: ignore[arg-type]
            "PoS.C": _hex(vg, found["c_bar"]),  # type: ignore[arg-type]
            "PoS.D": _hex(vg, found["c_hat"]),  # type: ignore[arg-type]
            "PoS.F": _batched_string(vg, batched),
        }
        check.outcome = PASS
    except ShuffleEquationFailed as exc:
        check.detail, check.equation = exc.detail, exc.equation
    except (InvalidInput, VerificationFailed) as exc:
        if isinstance(exc, UnsupportedFormat):
            raise
        check.detail = str(exc)
    return check


def _open(
    protinfo: str | Path, proof_dir: str | Path, expected: str | None
) -> tuple[ProtInfo, ProofDirectory, str, str, int]:
    info = read_protinfo(protinfo)
    d = ProofDirectory(proof_dir)
    kind = d.text("type")
    if kind not in TYPES:
        raise InvalidInput(f"type: unknown type of proof {kind[:40]!r}")
    if expected is not None and kind != expected:
        # vmnv -mix/-shuffle/-decrypt: "Attempting to verify proof of X, but proof is a proof of Y!"
        raise InvalidInput(f"type: expected a proof of {expected}, but the run is a proof of {kind}")
    if d.exists("maxciph", inner=True):
        raise UnsupportedFormat("the run used pre-computation (maxciph, PoSC, CCPoS): not supported")
    width = d.number("width", info.width)
    if width < 1:
        raise InvalidInput("width: must be positive")
    return info, d, kind, d.text("auxsid", "default"), width


def verify_run(
    protinfo: str | Path,
    proof_dir: str | Path,
    *,
    executor: Executor | None = None,
    advance: Callable[[int], object] | None = None,
    expected_type: str | None = None,
) -> RunReport:
    """Verify a Verificatum run (of ``expected_type`` if given); ``advance(n)`` after each mix server."""
    info, d, kind, auxsid, width = _open(protinfo, proof_dir, expected_type)
    vg = info.vgroup
    version = d.text("version", info.version)
    rho = derive_rho(
        version=version, sid=info.sid, auxsid=auxsid, n_r=info.n_r, n_v=info.n_v, n_e=info.n_e,
        prg=info.prg, pgroup=info.pgroup, rohash=info.rohash,
    )  # fmt: skip
    pk: PublicKey = read_public_key(vg, d.tree("FullPublicKey.bt"))
    in_tree = d.tree("Ciphertexts.bt")
    rows = read_ciphertexts(vg, in_tree, width, "Ciphertexts.bt")
    report = RunReport(str(protinfo), str(proof_dir), kind, width, len(rows))
    report.values = {
        "der.rho": rho.hex(),
        "par.version": version,
        "par.sid": info.sid,
        "par.omega": str(width),
    }
    go_on = True
    if kind != "decryption":
        rows, in_tree, go_on = _verify_shuffles(
            info, d, report, rho=rho, pk=pk, rows=rows, in_tree=in_tree,
            executor=executor or SERIAL, advance=advance,
        )  # fmt: skip
    else:
        _active_threshold(info, d)
    if kind != "shuffling" and go_on:
        report.checks += verify_decryption(
            info, d, rho=rho, pk=pk, rows=rows, rows_tree=in_tree, width=width, executor=executor or SERIAL
        )
    return report


def _verify_shuffles(
    info: ProtInfo,
    d: ProofDirectory,
    report: RunReport,
    *,
    rho: bytes,
    pk: PublicKey,
    rows: list[Row],
    in_tree: ByteTree,
    executor: Executor,
    advance: Callable[[int], object] | None,
) -> tuple[list[Row], ByteTree, bool]:
    """Every proof of a shuffle; the list vmnv decrypts next, its byte tree, and whether vmnv would go on."""
    vg, n, width = info.vgroup, len(rows), report.width
    active = _active_threshold(info, d)
    h: list[Element] = []
    valid = 0
    last_from_file = True
    for party in range(1, active + 1):
        tag = f"{party:02d}"
        if not d.exists(f"PoSCommitment{tag}.bt", inner=True):
            report.checks.append(CheckResult(f"pos-{tag}", f"mix server {party} took no part", SKIP))
            report.checks[-1].outcome = PASS  # vmnv's rule: a server without a proof is skipped
            continue
        last_from_file = d.exists(f"Ciphertexts{tag}.bt", inner=True) or party != active
        try:
            out_tree, out_rows = _read_output(info, d, tag, n, width, in_proofs=last_from_file)
        except InvalidInput as exc:
            # vmnv stops at an output it cannot read ("Unable to read array"): so does the chain.
            title = f"the output of mix server {party}"
            report.checks.append(CheckResult(f"pos-{tag}", title, FAIL, str(exc)))
            return rows, in_tree, False
        transcript = VerificatumTranscript(info, rho, pk, width, in_tree, out_tree, h)
        check = _verify_party(info, transcript, d, tag, rows_in=rows, rows_out=out_rows, executor=executor)
        h = transcript.h
        if not report.values.get("bas.h") and h:
            report.values["bas.h"] = _hexes(vg, h)
        report.checks.append(check)
        if check.outcome == PASS:
            valid += 1
            rows, in_tree = out_rows, out_tree
        # else: as vmnv, the failed server's output is replaced by its input for the next one
        if advance is not None:
            advance(n)
    if valid < info.threshold:
        report.checks.append(
            CheckResult("threshold", f"at least λ = {info.threshold} valid proofs", FAIL, f"{valid} valid")
        )
    if d.exists("ShuffledCiphertexts.bt") and (last_from_file or valid < active):
        try:
            final = read_ciphertexts(vg, d.tree("ShuffledCiphertexts.bt"), width, "ShuffledCiphertexts.bt", n)
        except DegcoreError as exc:
            report.checks.append(CheckResult("output", "the published output", FAIL, str(exc)))
            return rows, in_tree, True
        same = final == rows
        title = "ShuffledCiphertexts.bt is the output of the last valid shuffle"
        detail = "" if same else "ShuffledCiphertexts.bt differs from the verified output"
        report.checks.append(CheckResult("output", title, PASS if same else FAIL, detail))
    return rows, in_tree, True


def _read_output(
    info: ProtInfo, d: ProofDirectory, tag: str, n: int, width: int, *, in_proofs: bool
) -> tuple[ByteTree, list[Row]]:
    """A mix server's output: proofs/Ciphertexts<l>.bt, or ShuffledCiphertexts.bt for the last one."""
    name = f"Ciphertexts{tag}.bt" if in_proofs else "ShuffledCiphertexts.bt"
    tree = d.tree(name, inner=in_proofs)
    return tree, read_ciphertexts(info.vgroup, tree, width, name, n)


def _active_threshold(info: ProtInfo, d: ProofDirectory) -> int:
    """proofs/activethreshold, between λ and k (vmnv stops otherwise)."""
    active = d.number("activethreshold", inner=True)
    if not info.threshold <= active <= info.k:
        raise InvalidInput(f"activethreshold {active} is not between λ = {info.threshold} and k = {info.k}")
    return active


def check_run(
    protinfo: str | Path,
    proof_dir: str | Path,
    *,
    executor: Executor | None = None,
    expected_type: str | None = None,
) -> RunReport:
    """:func:`verify_run`, raising VerificationFailed (naming the first failed check) unless it verifies."""
    report = verify_run(protinfo, proof_dir, executor=executor, expected_type=expected_type)
    for c in report.checks:
        if c.outcome != PASS:
            raise VerificationFailed(f"vmnv/{c.id}", c.title, c.detail or c.outcome)
    return report
