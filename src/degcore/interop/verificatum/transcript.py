"""Verificatum's Fiat–Shamir transcript of a proof of a shuffle (VMNV §8.3), as a degcore ShuffleTranscript.

With ρ the session prefix, h_1 … h_N the independent generators and pk_ω the public key widened to
the ciphertexts' width (node(node(g … g), node(y … y)) for ω > 1, node(g, y) for ω = 1):

* batching seed s = RO_{8·seed}(ρ ‖ node(g, node(h), u, pk_ω, w, w′)), seed = the PRG's seed length;
  e_1 … e_N are n_e-bit integers from PRG(s);
* challenge v = RO_{n_v}(ρ ‖ node(leaf(s), τ)), τ = PoSCommitment = node(B, A′, B′, C′, D′, F′).

The same equations as degcore's hold with Verificatum's h_0 = h_1 as the chain's base and the
challenge c = −v (:mod:`degcore.mixnet.equations`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from degcore.elgamal import PublicKey
from degcore.groups import Element
from degcore.interop.verificatum.bytetree import ByteTree, Node, leaf, node
from degcore.interop.verificatum.groups import VGroup
from degcore.interop.verificatum.oracle import Prg, random_oracle
from degcore.interop.verificatum.run import ProtInfo

__all__ = ["VerificatumTranscript", "commitment_tree", "wide_key_tree"]


def wide_key_tree(vgroup: VGroup, pk: PublicKey, width: int) -> ByteTree:
    """pk_ω: the full public key widened to ``width`` (vmn's getWidePublicKey)."""
    g, y = vgroup.group.generator(), pk.h
    if width == 1:
        return node(vgroup.element_tree(g), vgroup.element_tree(y))
    return node(vgroup.array_tree([g] * width), vgroup.array_tree([y] * width))


def commitment_tree(
    vgroup: VGroup, chain: Sequence[Element], t: Sequence[Element], t_hat: Sequence[Element]
) -> Node:
    """τ = node(B, A′, B′, C′, D′, F′) from CHVote's ĉ, t = (t1, t2, t3, t4…) and t̂."""
    t1, t2, t3, *t4 = t
    f_a, f_b = list(t4[0::2]), list(t4[1::2])
    return node(
        vgroup.array_tree(chain),
        vgroup.element_tree(t3),
        vgroup.array_tree(t_hat),
        vgroup.element_tree(t1),
        vgroup.element_tree(t2),
        node(vgroup.wide_element_tree(f_a), vgroup.wide_element_tree(f_b)),
    )


@dataclass
class VerificatumTranscript:
    """Generators, batching vector and challenge of one mix server's proof, as vmn derives them.

    ``rows_in_tree`` / ``rows_out_tree`` are the ciphertext lists' byte trees; the derived values
    (generators, seed s, e, v) are kept for the report and vmnv's test vectors.
    """

    info: ProtInfo
    rho: bytes
    pk: PublicKey
    width: int
    rows_in_tree: ByteTree
    rows_out_tree: ByteTree
    h: list[Element] = field(default_factory=list)
    seed: bytes = b""
    e: list[int] = field(default_factory=list)
    v: int = 0
    commitment: ByteTree | None = None

    def generators(self, n: int) -> tuple[Element, list[Element]]:
        """(h_0, [h_0 … h_{N−1}]): vmn's chain starts at the first generator."""
        if len(self.h) != n:
            self.h = self.info.vgroup.generators(self.rho, n, self.info.n_r, self.info.rohash)
        return self.h[0], self.h

    def batching(self, commitments: Sequence[Element]) -> list[int]:
        """e_1 … e_N from PRG(s), s from the statement and the permutation commitment u."""
        vg = self.info.vgroup
        data = node(
            vg.element_tree(vg.group.generator()),
            vg.array_tree(self.h),
            vg.array_tree(commitments),
            wide_key_tree(vg, self.pk, self.width),
            self.rows_in_tree,
            self.rows_out_tree,
        )
        nbits = 8 * Prg.seed_bytes(self.info.prg)
        self.seed = random_oracle(self.info.rohash, nbits, self.rho + data.to_bytes())
        self.e = Prg(self.info.prg, self.seed).integers(len(commitments), self.info.n_e)
        return self.e

    def challenge_from_tree(self, commitment: ByteTree) -> int:
        """c = −v, v from the seed and the PoSCommitment byte tree τ as published."""
        self.commitment = commitment
        data = node(leaf(self.seed), commitment)
        self.v = int.from_bytes(
            random_oracle(self.info.rohash, self.info.n_v, self.rho + data.to_bytes()), "big"
        )
        return -self.v

    def challenge(
        self, c: Sequence[Element], chain: Sequence[Element], t: Sequence[Element], t_hat: Sequence[Element]
    ) -> int:
        """c = −v for a prover: τ is built from the commitments."""
        return self.challenge_from_tree(commitment_tree(self.info.vgroup, chain, t, t_hat))
