"""Runs that degcore writes in Verificatum's format (self-generated: P-256, modp, width 2, two servers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from degcore.errors import InvalidInput
from degcore.interop.verificatum.bytetree import Leaf, Node, node, parse
from degcore.interop.verificatum.export import P256_PGROUP, modp_pgroup, write_run
from degcore.interop.verificatum.verifier import verify_run
from degcore.parallel import SERIAL
from tests.unit.interop import _vector

_G = _vector.load()["group"]
MODP512 = modp_pgroup(int(_G["p_hex"], 16), int(_G["q_hex"], 16), int(_G["g_hex"], 16))


@pytest.mark.parametrize("pgroup", [P256_PGROUP, MODP512], ids=["p256", "modp512"])
@pytest.mark.parametrize(("width", "servers"), [(2, 2), (1, 1), (3, 1)])
def test_degcore_runs_in_verificatum_format_verify(
    tmp_path: Path, pgroup: str, width: int, servers: int
) -> None:
    protinfo, proof_dir, lists = write_run(
        tmp_path, pgroup, n=9, width=width, servers=servers, executor=SERIAL
    )
    report = verify_run(protinfo, proof_dir)
    assert report.ok, report.to_text()
    assert [c.id for c in report.checks] == [f"pos-{i:02d}" for i in range(1, servers + 1)]
    assert len(lists) == servers + 1


@pytest.mark.parametrize("pgroup", [P256_PGROUP, MODP512], ids=["p256", "modp512"])
def test_a_tampered_middle_server_breaks_the_chain(tmp_path: Path, pgroup: str) -> None:
    protinfo, proof_dir, _ = write_run(tmp_path, pgroup, n=6, width=2, servers=2, executor=SERIAL)
    path = proof_dir / "proofs" / "PoSReply01.bt"
    tree = parse(path.read_bytes())
    assert isinstance(tree, Node)
    k_f = tree.children[5]
    assert isinstance(k_f, Node)
    bumped = Leaf(
        (int.from_bytes(k_f.children[1].data, "big") + 1).to_bytes(33 if pgroup == P256_PGROUP else 64, "big")
    )  # type: ignore[union-attr]
    path.write_bytes(node(*tree.children[:5], node(k_f.children[0], bumped)).to_bytes())
    report = verify_run(protinfo, proof_dir)
    outcomes = {c.id: (c.outcome, c.equation) for c in report.checks}
    assert outcomes["pos-01"] == ("fail", "reencryption")
    assert outcomes["pos-02"][0] == "fail"  # its input is now server 1's input (vmnv's rule)
    assert not report.ok


def test_the_point_at_infinity_is_encoded_as_verificatum_does(tmp_path: Path) -> None:
    protinfo, proof_dir, _ = write_run(tmp_path, P256_PGROUP, n=3, executor=SERIAL)
    vg = (
        verify_run(protinfo, proof_dir)
        and __import__("degcore.interop.verificatum.run", fromlist=["x"]).read_protinfo(protinfo).vgroup
    )
    one = vg.group.identity()
    tree = vg.element_tree(one)
    assert tree == node(Leaf(b"\xff" * 33), Leaf(b"\xff" * 33))
    assert vg.element(tree, "infinity") == one
    with pytest.raises(InvalidInput):
        vg.element(node(Leaf(b"\x00" * 33), Leaf(b"\x01" + b"\x00" * 32)), "off the curve")


def _trees() -> st.SearchStrategy[object]:
    leaves = st.binary(max_size=20).map(Leaf)
    return st.recursive(
        leaves, lambda kids: st.lists(kids, max_size=4).map(lambda c: Node(tuple(c))), max_leaves=12
    )


@settings(max_examples=60)
@given(_trees())
def test_byte_trees_round_trip(tree: object) -> None:
    assert parse(tree.to_bytes()) == tree  # type: ignore[attr-defined]


@settings(max_examples=200)
@given(st.binary(max_size=64))
def test_random_bytes_parse_or_fail_cleanly(data: bytes) -> None:
    try:
        tree = parse(data)
    except InvalidInput:
        return
    assert tree.to_bytes() == data
