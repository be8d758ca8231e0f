"""A real vmn 3.0.4 run verifies and reproduces vmnv's values; every tampered copy fails by name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from degcore.errors import InvalidInput, VerificationFailed
from degcore.interop.verificatum.bytetree import Leaf, Node, node, parse
from degcore.interop.verificatum.cli import main
from degcore.interop.verificatum.run import read_protinfo
from degcore.interop.verificatum.verifier import _minimal_hex, check_run, verify_run
from degcore.mixnet.equations import EQUATIONS
from tests.unit.interop import _vector

TV = _vector.load()["vmnv_test_vectors"]


@pytest.fixture
def run(tmp_path: Path) -> tuple[Path, Path]:
    return _vector.lay_out(tmp_path)


def _tv(name: str) -> str:
    return str(TV[name]["value"])


def test_the_real_run_verifies_and_reproduces_vmnv_values(run: tuple[Path, Path]) -> None:
    report = verify_run(*run)
    assert report.ok, report.to_text()
    assert [c.id for c in report.checks] == ["pos-01"]
    assert report.values["der.rho"] == _tv("der.rho")
    assert report.values["bas.h"] == _tv("bas.h")
    values = report.checks[0].values
    for name in ("PoS.s", "PoS.v", "PoS.A", "PoS.C", "PoS.D", "PoS.F"):
        assert values[name] == _tv(name), name
    assert report.to_json()["verified"] is True


def test_the_proof_files_decode_to_the_values_vmnv_prints(run: tuple[Path, Path]) -> None:
    info = read_protinfo(run[0])
    vg = info.vgroup
    tau = parse((run[1] / "proofs" / "PoSCommitment01.bt").read_bytes())
    assert isinstance(tau, Node)
    b, ap, bp, cp, dp, _ = tau.children
    hexes = lambda items: "(" + ",".join(_minimal_hex(int.from_bytes(bytes(e), "big")) for e in items) + ")"  # noqa: E731
    assert hexes(vg.elements(b, "B")) == _tv("PoS.B")
    assert hexes(vg.elements(bp, "B'")) == _tv("PoS.Bp")
    assert hexes([vg.element(ap, "A'")]) == f"({_tv('PoS.Ap')})"
    assert hexes([vg.element(cp, "C'")]) == f"({_tv('PoS.Cp')})"
    assert hexes([vg.element(dp, "D'")]) == f"({_tv('PoS.Dp')})"
    u = vg.elements(parse((run[1] / "proofs" / "PermutationCommitment01.bt").read_bytes()), "u")
    assert hexes(u) == _tv("u")


def _rewrite(path: Path, change: object) -> None:
    tree = parse(path.read_bytes())
    path.write_bytes(change(tree).to_bytes())  # type: ignore[operator]


def _replace(tree: Node, index: int, child: object) -> Node:
    items = list(tree.children)
    items[index] = child  # type: ignore[assignment]
    return node(items)


def _bump(leaf: object) -> Leaf:
    assert isinstance(leaf, Leaf)
    value = int.from_bytes(leaf.data, "big") + 1
    return Leaf(value.to_bytes(len(leaf.data), "big"))


def _failure(run: tuple[Path, Path]) -> tuple[str, str]:
    report = verify_run(*run)
    assert not report.ok
    bad = next(c for c in report.checks if c.outcome != "pass")
    with pytest.raises(VerificationFailed):
        check_run(*run)
    return bad.equation, bad.detail


@pytest.mark.parametrize(
    ("reply_index", "equation"),
    [(0, "batched-commitment"), (2, "permutation-commitment"), (3, "chain-end"), (5, "reencryption")],
)
def test_a_changed_reply_fails_its_own_equation(
    run: tuple[Path, Path], reply_index: int, equation: str
) -> None:
    # The reply is not hashed: changing one response leaves every challenge as it was.
    _rewrite(
        run[1] / "proofs" / "PoSReply01.bt",
        lambda t: _replace(t, reply_index, _bump(t.children[reply_index])),
    )
    assert _failure(run)[0] == equation


def test_a_changed_chain_response_names_its_link(run: tuple[Path, Path]) -> None:
    def change(t: Node) -> Node:
        k_b = t.children[1]
        assert isinstance(k_b, Node)
        return _replace(t, 1, _replace(k_b, 3, _bump(k_b.children[3])))

    _rewrite(run[1] / "proofs" / "PoSReply01.bt", change)
    equation, detail = _failure(run)
    assert equation == "chain-link" and "link 3" in detail


def test_a_replaced_shuffled_ciphertext_fails(run: tuple[Path, Path]) -> None:
    def change(t: Node) -> Node:  # output ciphertext 4 := output ciphertext 7 (both valid elements)
        u, v = t.children
        assert isinstance(u, Node) and isinstance(v, Node)
        return node(_replace(u, 4, u.children[7]), _replace(v, 4, v.children[7]))

    _rewrite(run[1] / "ShuffledCiphertexts.bt", change)
    equation, _ = _failure(run)
    assert equation in EQUATIONS


def test_a_replaced_permutation_commitment_element_fails(run: tuple[Path, Path]) -> None:
    _rewrite(run[1] / "proofs" / "PermutationCommitment01.bt", lambda t: _replace(t, 2, t.children[5]))
    equation, _ = _failure(run)
    assert equation in EQUATIONS


def test_the_output_replaced_by_the_input_is_rejected(run: tuple[Path, Path]) -> None:
    # vmnv 3.0.4 only prints a warning here; degcore rejects.
    (run[1] / "ShuffledCiphertexts.bt").write_bytes((run[1] / "Ciphertexts.bt").read_bytes())
    assert not verify_run(*run).ok


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda b: b[:-7],  # truncated
        lambda b: b + b"\x00",  # trailing byte
        lambda b: b"\x07" + b[1:],  # unknown tag
        lambda b: b[:1] + (2**32 - 1).to_bytes(4, "big") + b[5:],  # absurd child count
        lambda b: node(Leaf(b"x")).to_bytes(),  # wrong shape
    ],
)
def test_malformed_proof_files_fail_clearly(run: tuple[Path, Path], corrupt: object) -> None:
    for name in ("PoSReply01.bt", "PoSCommitment01.bt", "PermutationCommitment01.bt"):
        path = run[1] / "proofs" / name
        original = path.read_bytes()
        path.write_bytes(corrupt(original))  # type: ignore[operator]
        report = verify_run(*run)
        assert not report.ok and report.checks[0].detail, name
        path.write_bytes(original)


def test_an_element_outside_the_subgroup_is_refused(run: tuple[Path, Path]) -> None:
    p = read_protinfo(run[0]).vgroup.field_p
    minus_one = Leaf((p - 1).to_bytes(65, "big"))  # −1 is not a square mod a safe prime p ≡ 3 (mod 4)
    _rewrite(run[1] / "proofs" / "PermutationCommitment01.bt", lambda t: _replace(t, 0, minus_one))
    assert "subgroup" in _failure(run)[1]


def test_unreadable_statement_files_are_invalid_input(run: tuple[Path, Path]) -> None:
    (run[1] / "Ciphertexts.bt").write_bytes(b"\x01\x00")
    with pytest.raises(InvalidInput, match=r"Ciphertexts\.bt"):
        verify_run(*run)
    run[0].write_text("<protocol><version>3.0.4</version></protocol>")
    with pytest.raises(InvalidInput, match="missing <"):
        verify_run(*run)


def test_the_command_exit_codes(run: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vmnv", str(run[0]), str(run[1]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verified"] is True
    assert main(["vmnv"]) == 2
    assert main(["vmnv", str(run[0]), str(run[1] / "missing")]) == 3
    _rewrite(run[1] / "proofs" / "PoSReply01.bt", lambda t: _replace(t, 0, _bump(t.children[0])))
    assert main(["vmnv", str(run[0]), str(run[1])]) == 1
    assert "A^v·A′" in capsys.readouterr().out


def test_degcore_cli_runs_vmnv(run: tuple[Path, Path]) -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "degcore.cli", "vmnv", str(run[0]), str(run[1]), "--quiet"],
        capture_output=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
