"""Proofs of correct decryption in vmn's format: complete runs verify, every tampered file fails by name.

The runs are self-generated (degcore.interop.verificatum.export, docs/verificatum.md §3): mixing and
decryption sessions over P-256, P-192, P-224, brainpool and the 512-bit group of the real vmn run,
one to three servers, threshold below the number of servers with a party that did not decrypt.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from degcore.interop.verificatum.bytetree import Leaf, Node, node, parse
from degcore.interop.verificatum.cli import main
from degcore.interop.verificatum.decryption import lagrange_factor, modified_lagrange
from degcore.interop.verificatum.export import P256_PGROUP, ec_pgroup, modp_pgroup, write_run
from degcore.interop.verificatum.report import RunReport
from degcore.interop.verificatum.run import read_protinfo
from degcore.interop.verificatum.verifier import verify_run
from degcore.parallel import SERIAL
from tests.unit.interop import _vector

_G = _vector.load()["group"]
MODP512 = modp_pgroup(int(_G["p_hex"], 16), int(_G["q_hex"], 16), int(_G["g_hex"], 16))
_DECRYPTION = ["keys", "correct-indices", "decryption", "plaintexts"]


def _write(root: Path, pgroup: str = P256_PGROUP, **options: object) -> tuple[Path, Path]:
    options = {"n": 5, "kind": "mixing", "executor": SERIAL} | options
    protinfo, proof_dir, _ = write_run(root, pgroup, **options)  # type: ignore[arg-type]
    return protinfo, proof_dir


@pytest.mark.parametrize(
    "case",
    [
        (P256_PGROUP, 1, 1, None, (), "mixing"),
        (P256_PGROUP, 2, 3, 2, (1,), "mixing"),
        (ec_pgroup("P-192"), 3, 2, None, (), "mixing"),
        (ec_pgroup("P-224"), 1, 3, 1, (2, 3), "decryption"),
        (ec_pgroup("brainpoolp256r1"), 2, 2, 1, (), "mixing"),
        (MODP512, 2, 3, 3, (), "mixing"),
        (MODP512, 1, 2, 1, (), "decryption"),
    ],
    ids=[
        "p256",
        "p256-w2-k3-t2",
        "p192-w3-k2",
        "p224-decryption-t1",
        "brainpool-w2",
        "modp-w2-k3",
        "modp-dec",
    ],
)
def test_complete_runs_verify(
    tmp_path: Path, case: tuple[str, int, int, int | None, tuple[int, ...], str]
) -> None:
    pgroup, width, servers, threshold, absent, kind = case
    run = _write(
        tmp_path, pgroup, width=width, servers=servers, threshold=threshold, absent=absent, kind=kind
    )
    report = verify_run(*run)
    assert report.ok, report.to_text()
    shuffles = [] if kind == "decryption" else [f"pos-{i:02d}" for i in range(1, servers + 1)]
    assert [c.id for c in report.checks] == [*shuffles, *_DECRYPTION]
    decryption = next(c for c in report.checks if c.id == "decryption")
    assert set(decryption.values) == {"Dec.s", "Dec.v"}


def test_lagrange_factor_is_the_square_of_lcm() -> None:
    assert [lagrange_factor(k) for k in range(1, 8)] == [1, 4, 36, 144, 3600, 3600, 176400]


@settings(max_examples=40)
@given(st.data())
def test_modified_lagrange_coefficients_recombine_scaled_shares(data: st.DataObject) -> None:
    q = 2**127 - 1
    k = data.draw(st.integers(1, 8))
    subset = sorted(data.draw(st.sets(st.integers(1, k), min_size=1)))
    poly = data.draw(st.lists(st.integers(0, q - 1), min_size=len(subset), max_size=len(subset)))
    delta = lagrange_factor(k)
    shares = {i: sum(a * i**j for j, a in enumerate(poly)) * pow(delta, -1, q) % q for i in subset}
    assert sum(modified_lagrange(q, delta, subset, i) * shares[i] for i in subset) % q == poly[0]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_threshold_and_any_set_of_absent_parties_verifies(tmp_path: Path, data: st.DataObject) -> None:
    servers = data.draw(st.integers(1, 4))
    threshold = data.draw(st.integers(1, servers))
    absent = data.draw(st.sets(st.integers(1, servers), max_size=servers - threshold))
    root = tmp_path / str(len(list(tmp_path.iterdir())))
    root.mkdir()
    run = _write(
        root, MODP512, n=3, servers=servers, threshold=threshold, absent=tuple(absent), kind="decryption"
    )
    assert verify_run(*run).ok


# --- tampering -----------------------------------------------------------------------------------------


@pytest.fixture
def run(tmp_path: Path) -> tuple[Path, Path]:
    """Three servers, threshold 2, width 2 over P-256; server 3 did not decrypt."""
    return _write(tmp_path, width=2, servers=3, threshold=2, absent=(3,))


def _proofs(run: tuple[Path, Path], name: str) -> Path:
    return run[1] / "proofs" / name


def _failed(run: tuple[Path, Path]) -> tuple[RunReport, dict[str, tuple[str, str, str]]]:
    report = verify_run(*run)
    assert not report.ok
    return report, {c.id: (c.outcome, c.equation, c.detail) for c in report.checks}


def _swap_first(tree: Node) -> Node:
    """Ciphertext-like arrays node(component_1 … component_w): element 0 of component 0 := element 1."""
    first = tree.children[0]
    assert isinstance(first, Node)
    items = list(first.children)
    items[0] = items[1]
    return node(node(items), *tree.children[1:])


def test_a_changed_decryption_factor_fails_the_combined_proof(run: tuple[Path, Path]) -> None:
    path = _proofs(run, "DecryptionFactors02.bt")
    tree = parse(path.read_bytes())
    assert isinstance(tree, Node)
    path.write_bytes(_swap_first(tree).to_bytes())
    _, checks = _failed(run)
    outcome, equation, detail = checks["decryption"]
    assert outcome == "fail" and equation == "decryption-key"
    assert "challenge no longer matches" in detail  # the factors are hashed: every reply is now stale
    assert "plaintexts" not in checks


def test_a_changed_factor_of_a_party_outside_the_combination_still_fails(run: tuple[Path, Path]) -> None:
    # Server 3 is marked incorrect, so its factors are not combined, but they are in the seed (as vmn's).
    path = _proofs(run, "DecryptionFactors03.bt")
    tree = parse(path.read_bytes())
    assert isinstance(tree, Node)
    vg = read_protinfo(run[0]).vgroup
    g = vg.element_tree(vg.group.generator())
    first = tree.children[0]
    assert isinstance(first, Node)
    path.write_bytes(node(node(g, *first.children[1:]), *tree.children[1:]).to_bytes())
    assert _failed(run)[1]["decryption"][0] == "fail"


@pytest.mark.parametrize("party", [1, 2])
def test_a_changed_reply_names_its_party(run: tuple[Path, Path], party: int) -> None:
    path = _proofs(run, f"DecrFactReply0{party}.bt")
    leaf = parse(path.read_bytes())
    assert isinstance(leaf, Leaf)
    path.write_bytes(Leaf((int.from_bytes(leaf.data, "big") + 1).to_bytes(len(leaf.data), "big")).to_bytes())
    _, checks = _failed(run)
    outcome, equation, detail = checks["decryption"]
    assert (outcome, equation) == ("fail", "decryption-key")
    assert f"party {party}: y_l^−v/Δ·y′_l = g^k_x,l does not hold (DecrFactReply0{party}.bt)" in detail
    assert f"party {3 - party}" not in detail


def test_a_changed_commitment_fails(run: tuple[Path, Path]) -> None:
    path = _proofs(run, "DecrFactCommitment01.bt")
    tree = parse(path.read_bytes())
    assert isinstance(tree, Node)
    path.write_bytes(node(tree.children[0], _swap_first(tree.children[1])).to_bytes())  # type: ignore[arg-type]
    assert _failed(run)[1]["decryption"][:2] == ("fail", "decryption-key")


def test_a_changed_plaintext_names_its_index(run: tuple[Path, Path]) -> None:
    path = run[1] / "Plaintexts.bt"
    tree = parse(path.read_bytes())
    assert isinstance(tree, Node)
    path.write_bytes(_swap_first(tree).to_bytes())
    _, checks = _failed(run)
    assert checks["decryption"][0] == "pass"
    assert checks["plaintexts"][0] == "fail" and "the first at index 0" in checks["plaintexts"][2]


def test_a_changed_key_polynomial_fails_the_keys_check(run: tuple[Path, Path]) -> None:
    path = _proofs(run, "PolynomialInExponent.bt")
    tree = parse(path.read_bytes())
    assert isinstance(tree, Node)
    path.write_bytes(node(tree.children[1], tree.children[0]).to_bytes())
    _, checks = _failed(run)
    assert checks["keys"][0] == "fail" and "joint key" in checks["keys"][2]


@pytest.mark.parametrize(
    ("flags", "message"), [(b"\x01\x01\x00\x00", "only 1"), (b"\x01\x01\x02\x00", "0 or 1")]
)
def test_too_few_or_malformed_correct_indices(run: tuple[Path, Path], flags: bytes, message: str) -> None:
    _proofs(run, "CorrectIndices.bt").write_bytes(Leaf(flags).to_bytes())
    _, checks = _failed(run)
    assert checks["correct-indices"][0] == "fail" and message in checks["correct-indices"][2]


def test_marking_the_absent_party_correct_fails(run: tuple[Path, Path]) -> None:
    # With server 3 in and server 2 out, the combination uses server 3's all-ones factors.
    _proofs(run, "CorrectIndices.bt").write_bytes(Leaf(b"\x01\x01\x00\x01").to_bytes())
    outcome, _, detail = _failed(run)[1]["decryption"]
    assert outcome == "fail" and "party 3" in detail


@pytest.mark.parametrize(
    "name",
    [
        "proofs/DecryptionFactors01.bt",
        "proofs/DecrFactCommitment02.bt",
        "proofs/DecrFactReply01.bt",
        "proofs/PolynomialInExponent.bt",
        "proofs/CorrectIndices.bt",
        "Plaintexts.bt",
    ],
)
@pytest.mark.parametrize(
    "corrupt", [lambda b: b[:-3], lambda b: b + b"\x00", lambda b: node(Leaf(b"x")).to_bytes()]
)
def test_malformed_decryption_files_fail_clearly(run: tuple[Path, Path], name: str, corrupt: object) -> None:
    path = run[1] / name
    path.write_bytes(corrupt(path.read_bytes()))  # type: ignore[operator]
    report = verify_run(*run)
    assert not report.ok
    failed = next(c for c in report.checks if c.outcome == "fail")
    assert failed.detail


def test_the_command_reports_the_decryption(
    run: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["vmnv", str(run[0]), str(run[1]), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verified"] is True and report["type"] == "mixing"
    (run[1] / "Plaintexts.bt").unlink()
    assert main(["vmnv", str(run[0]), str(run[1])]) == 1
    assert "[FAIL] plaintexts" in capsys.readouterr().out
