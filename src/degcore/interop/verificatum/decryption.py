"""Verify a Verificatum run's proof of correct decryption, as vmnv does (docs/verificatum.md §1, §2).

vmn decrypts with threshold ElGamal over Feldman/Pedersen shares: ``PolynomialInExponent.bt``
holds g^{a_0} … g^{a_{λ−1}}, party l's key is y_l = ∏ (g^{a_j})^{l^j} and the joint key y = g^{a_0}.
Party l publishes decryption factors f_{l,i} = u_i^{−x_l/Δ} (Δ = lcm(1…k)², vmn's "prod factor")
and a Schnorr-style proof (y′_l, B′_l; k_{x,l}) for all ciphertexts at once. vmnv checks one
*combined* proof for the first λ parties that ``CorrectIndices.bt`` marks correct (the set S), with
vmn's modified Lagrange coefficients c_l = Δ·∏_{j∈S, j≠l} j/(j − l) mod q:

* e = n_e-bit integers from PRG(s), s = RO(ρ ‖ node(node(g, L), node(PIE, node(f_1 … f_k))));
* v = RO_{n_v}(ρ ‖ node(leaf(s), node(node(y′_1, B′_1) … node(y′_k, B′_k))));
* A = ∏ u_i^{e_i}, f_i = ∏_{l∈S} f_{l,i}^{c_l}, B = ∏ f_i^{e_i}, y′ = ∏ y′_l^{c_l}, B′ = ∏ B′_l^{c_l},
  k_x = Σ c_l k_{x,l};
* ``decryption-key``: y^{−v}·y′ = g^{k_x} and ``decryption-factors``: B^v·B′ = A^{k_x} (per component);
* ``plaintexts``: ``Plaintexts.bt`` equals m_i = v_i·f_i.

When the combined proof fails, each party of S is checked on its own (y_l^{−v/Δ}·y′_l = g^{k_{x,l}},
B_l^v·B′_l = A^{k_{x,l}}) so that the report names the party; vmnv itself stops at "failed!".
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from degcore.elgamal import PublicKey
from degcore.errors import InvalidInput
from degcore.groups import Element, Group
from degcore.interop.verificatum.bytetree import ByteTree, children, leaf, leaf_data, node
from degcore.interop.verificatum.groups import VGroup
from degcore.interop.verificatum.oracle import Prg, random_oracle
from degcore.interop.verificatum.report import FAIL, PASS, CheckResult
from degcore.interop.verificatum.run import ProofDirectory, ProtInfo
from degcore.mixnet import Row
from degcore.mixnet.equations import power_product

__all__ = [
    "DECRYPTION_EQUATIONS",
    "batching",
    "challenge",
    "commitment_tree",
    "lagrange_factor",
    "modified_lagrange",
    "read_polynomial",
    "verify_decryption",
]

DECRYPTION_EQUATIONS = ("decryption-key", "decryption-factors")

_NAMES = {
    "decryption-key": "y^−v·y′ = g^k_x does not hold (combined proof, key side)",
    "decryption-factors": "B^v·B′ = A^k_x does not hold (combined proof, batched decryption factors{c})",
}


def lagrange_factor(k: int) -> int:
    """Δ = (∏ over primes p ≤ k of the largest power of p ≤ k)² = lcm(1 … k)² (vmn's ``prodFactor``)."""
    lcm = 1
    for m in range(2, k + 1):
        if all(m % d for d in range(2, int(m**0.5) + 1)):
            power = m
            while power * m <= k:
                power *= m
            lcm *= power
    return lcm * lcm


def modified_lagrange(q: int, delta: int, subset: Sequence[int], i: int) -> int:
    """c_i = Δ·∏_{l∈S, l≠i} l/(l − i) mod q: f^{c_i} combines shares scaled by 1/Δ."""
    value = delta % q
    for index in subset:
        if index != i:
            value = value * index * pow(index - i, -1, q) % q
    return value


def read_polynomial(vg: VGroup, tree: ByteTree, threshold: int) -> list[Element]:
    """g^{a_0} … g^{a_d} (1 ≤ d + 1 ≤ λ), trailing identities removed as vmn's canonicalize does."""
    coefficients = vg.elements(tree, "PolynomialInExponent.bt")
    if not 1 <= len(coefficients) <= threshold:
        raise InvalidInput(
            f"PolynomialInExponent.bt: {len(coefficients)} coefficients, expected 1 to λ = {threshold}"
        )
    one = vg.group.identity()
    while len(coefficients) > 1 and coefficients[-1] == one:
        coefficients.pop()
    return coefficients


def batching(
    info: ProtInfo, rho: bytes, rows_tree: ByteTree, pie: ByteTree, factors: Sequence[ByteTree], *, n: int
) -> tuple[bytes, list[int]]:
    """(s, e): s = RO(ρ ‖ node(node(g, L), node(PIE, node(f_1 … f_k)))), e_1 … e_N from PRG(s)."""
    vg = info.vgroup
    statement = node(node(vg.element_tree(vg.group.generator()), rows_tree), node(pie, node(list(factors))))
    seed = random_oracle(info.rohash, 8 * Prg.seed_bytes(info.prg), rho + statement.to_bytes())
    return seed, Prg(info.prg, seed).integers(n, info.n_e)


def commitment_tree(vg: VGroup, y_commit: Element, b_commit: Sequence[Element]) -> ByteTree:
    """DecrFactCommitment<l>.bt = node(y′_l, B′_l)."""
    return node(vg.element_tree(y_commit), vg.wide_element_tree(b_commit))


def challenge(info: ProtInfo, rho: bytes, seed: bytes, commitments: Sequence[ByteTree]) -> int:
    """v = RO_{n_v}(ρ ‖ node(leaf(s), node(τ_1 … τ_k)))."""
    data = node(leaf(seed), node(list(commitments)))
    return int.from_bytes(random_oracle(info.rohash, info.n_v, rho + data.to_bytes()), "big")


def _evaluate(group: Group, coefficients: Sequence[Element], point: int) -> Element:
    q = group.order
    return group.multi_exp(list(coefficients), [pow(point, j, q) for j in range(len(coefficients))])


def _correct_indices(d: ProofDirectory, k: int) -> list[int]:
    data = leaf_data(d.tree("CorrectIndices.bt", inner=True), "CorrectIndices.bt")
    if len(data) != k + 1 or any(b not in (0, 1) for b in data):
        raise InvalidInput(f"CorrectIndices.bt: expected {k + 1} bytes of 0 or 1, found {len(data)} bytes")
    return [party for party in range(1, k + 1) if data[party]]


@dataclass
class _Party:
    """One party's published decryption data (identity/zero where vmn could not read it, as vmn does)."""

    index: int
    factors: list[list[Element]]
    factors_tree: ByteTree
    y_commit: Element
    b_commit: list[Element]
    reply: int
    unreadable: str = ""


def _read_party(vg: VGroup, d: ProofDirectory, party: int, n: int, width: int) -> _Party:
    tag = f"{party:02d}"
    name = f"DecryptionFactors{tag}.bt"
    tree = d.tree(name, inner=True)
    factors = vg.wide_array(tree, width, name, n)
    one = vg.group.identity()
    try:
        what = f"DecrFactCommitment{tag}.bt"
        yp_t, bp_t = children(d.tree(what, inner=True), what, 2)
        y_commit, b_commit = vg.element(yp_t, what), vg.wide_element(bp_t, width, what)
    except InvalidInput as exc:
        y_commit, b_commit, unreadable = one, [one] * width, str(exc)
    else:
        unreadable = ""
    try:
        what = f"DecrFactReply{tag}.bt"
        reply = vg.scalar(d.tree(what, inner=True), what)
    except InvalidInput as exc:
        reply, unreadable = 0, unreadable or str(exc)
    return _Party(party, factors, tree, y_commit, b_commit, reply, unreadable)


def verify_decryption(
    info: ProtInfo,
    d: ProofDirectory,
    *,
    rho: bytes,
    pk: PublicKey,
    rows: list[Row],
    rows_tree: ByteTree,
    width: int,
    executor: Executor,
) -> list[CheckResult]:
    """The checks of the decryption: ``keys``, ``correct-indices``, ``decryption``, ``plaintexts``."""
    vg, k, lam = info.vgroup, info.k, info.threshold
    checks = [CheckResult("keys", "PolynomialInExponent.bt: the parties' keys; its constant term is y", FAIL)]
    try:
        coefficients = read_polynomial(vg, d.tree("PolynomialInExponent.bt", inner=True), lam)
        if coefficients[0] != pk.h:
            raise InvalidInput("the constant term of PolynomialInExponent.bt is not the joint key y")
    except InvalidInput as exc:
        checks[0].detail = str(exc)
        return checks
    keys = [_evaluate(vg.group, coefficients, party) for party in range(1, k + 1)]
    checks[0].outcome = PASS
    checks[0].values = {"bas.y_l": vg.show_all(keys[:lam])}
    checks.append(CheckResult("correct-indices", f"CorrectIndices.bt marks at least λ = {lam} parties", FAIL))
    try:
        correct = _correct_indices(d, k)
    except InvalidInput as exc:
        checks[-1].detail = str(exc)
        return checks
    checks[-1].values = {"correct": ",".join(map(str, correct))}
    if len(correct) < lam:
        checks[-1].detail = f"only {len(correct)} parties are marked correct"
        return checks
    checks[-1].outcome = PASS
    subset = correct[:lam]
    check = CheckResult("decryption", f"combined proof of decryption of parties {subset}", FAIL)
    checks.append(check)
    try:
        parties = [_read_party(vg, d, party, len(rows), width) for party in range(1, k + 1)]
    except InvalidInput as exc:
        check.detail = str(exc)
        return checks
    proof = _Combined(
        vg=vg, info=info, rho=rho, pk=pk, rows=rows, rows_tree=rows_tree, coefficients=coefficients,
        parties=parties, subset=subset, executor=executor,
    )  # fmt: skip
    check.values = {"Dec.s": proof.seed.hex(), "Dec.v": f"{proof.v:x}"}
    failed = proof.failed_equation()
    if failed:
        check.equation, check.detail = failed, proof.diagnose(failed, keys)
        return checks
    check.outcome = PASS
    checks.append(_plaintexts(vg, d, rows, proof.combined, width))
    return checks


class _Combined:
    """The combined proof of the parties in S, derived exactly as vmnv derives it."""

    def __init__(
        self,
        *,
        vg: VGroup,
        info: ProtInfo,
        rho: bytes,
        pk: PublicKey,
        rows: list[Row],
        rows_tree: ByteTree,
        coefficients: list[Element],
        parties: list[_Party],
        subset: list[int],
        executor: Executor,
    ) -> None:
        group, q = vg.group, vg.group.order
        self.vg, self.pk, self.parties, self.subset = vg, pk, parties, subset
        self.delta = lagrange_factor(info.k)
        self.power = functools.partial(power_product, group, secret=False, executor=executor)
        self.seed, self.e = batching(
            info, rho, rows_tree, vg.array_tree(coefficients), [p.factors_tree for p in parties], n=len(rows)
        )
        self.v = challenge(
            info, rho, self.seed, [commitment_tree(vg, p.y_commit, p.b_commit) for p in parties]
        )
        width = len(rows[0])
        self.a = [self._batched([[ct.a for ct in row] for row in rows], c) for c in range(width)]
        self.c = {p: self._small(modified_lagrange(q, self.delta, subset, p)) for p in subset}
        used = [parties[p - 1] for p in subset]
        self.combined = [
            [
                group.product(_signed(group, p.factors[i][c], self.c[p.index]) for p in used)
                for c in range(width)
            ]
            for i in range(len(rows))
        ]
        self.y_commit = group.product(_signed(group, party.y_commit, self.c[party.index]) for party in used)
        self.b_commit = [
            group.product(_signed(group, party.b_commit[c], self.c[party.index]) for party in used)
            for c in range(width)
        ]
        self.k_x = sum(party.reply * self.c[party.index] for party in used) % q
        self.component = 0

    def _small(self, c: int) -> int:
        """c or c − q, whichever is smaller in absolute value (vmn uses the same integer)."""
        q = self.vg.group.order
        return c - q if q - c < c else c

    def _batched(self, factors: Sequence[Sequence[Element]], component: int) -> Element:
        return self.power([(row[component], e) for row, e in zip(factors, self.e, strict=True)])

    def failed_equation(self) -> str:
        """The first combined equation that fails, or ''."""
        group = self.vg.group
        key_side = group.inv(group.exp_vartime(self.pk.h, self.v)) * self.y_commit
        if key_side != group.exp_g_vartime(self.k_x):
            return "decryption-key"
        for c, a in enumerate(self.a):
            left = group.exp_vartime(self._batched(self.combined, c), self.v) * self.b_commit[c]
            if left != group.exp_vartime(a, self.k_x):
                self.component = c
                return "decryption-factors"
        return ""

    def diagnose(self, equation: str, keys: Sequence[Element]) -> str:
        """Which parties' own proofs fail: the party to blame when only some do."""
        group, q = self.vg.group, self.vg.group.order
        exponent = self.v * pow(self.delta, -1, q) % q
        blamed: list[str] = []
        for index in self.subset:
            party = self.parties[index - 1]
            tag = f"{index:02d}"
            if party.unreadable:
                blamed.append(f"party {index}: {party.unreadable}")
                continue
            key_side = group.inv(group.exp_vartime(keys[index - 1], exponent)) * party.y_commit
            if key_side != group.exp_g_vartime(party.reply):
                blamed.append(f"party {index}: y_l^−v/Δ·y′_l = g^k_x,l does not hold (DecrFactReply{tag}.bt)")
                continue
            for c, a in enumerate(self.a):
                left = group.exp_vartime(self._batched(party.factors, c), self.v) * party.b_commit[c]
                if left != group.exp_vartime(a, party.reply):
                    blamed.append(
                        f"party {index}: B_l^v·B′_l = A^k_x,l does not hold (DecryptionFactors{tag}.bt)"
                    )
                    break
        message = _NAMES[equation].format(c=f", component {self.component}" if len(self.a) > 1 else "")
        if not blamed:
            return message + "; every party's own proof holds"
        if len(blamed) == len(self.subset) > 1:
            return (
                message + "; every party's own proof fails too: the challenge no longer matches the replies "
                "(a decryption factor or a proof commitment was changed after the proofs were made)"
            )
        return message + "; " + "; ".join(blamed)


def _signed(group: Group, base: Element, k: int) -> Element:
    return group.inv(group.exp_vartime(base, -k)) if k < 0 else group.exp_vartime(base, k)


def _plaintexts(
    vg: VGroup, d: ProofDirectory, rows: list[Row], combined: list[list[Element]], width: int
) -> CheckResult:
    check = CheckResult("plaintexts", "Plaintexts.bt is the decryption of the last list", FAIL)
    try:
        published = vg.wide_array(d.tree("Plaintexts.bt"), width, "Plaintexts.bt", len(rows))
    except InvalidInput as exc:
        check.detail = str(exc)
        return check
    wrong = [
        i
        for i, (row, factors, plain) in enumerate(zip(rows, combined, published, strict=True))
        if [ct.b * f for ct, f in zip(row, factors, strict=True)] != plain
    ]
    if wrong:
        check.detail = f"{len(wrong)} plaintexts differ from the decryption, the first at index {wrong[0]}"
        check.values = {"wrong": ",".join(map(str, wrong[:20]))}
    else:
        check.outcome = PASS
    return check
