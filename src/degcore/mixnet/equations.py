"""The Terelius–Wikström shuffle equations, shared by degcore's proofs and Verificatum's (docs/mixnet.md §2).

Both proofs are the same argument; they differ only in how the generators, the batching vector
u and the challenge are hashed and in how elements are encoded. Written in CHVote's names, with
``c`` the challenge, a proof is accepted when, for c̄ = ∏c_j / ∏h_j, ĉ = ĉ_N / h^{∏u_j},
c̃ = ∏c_j^{u_j} and the batched input columns (A_k, B_k) = (∏a_{j,k}^{u_j}, ∏b_{j,k}^{u_j}):

* ``permutation-commitment``  t_1 = c̄^c · g^{s_1}
* ``chain-end``               t_2 = ĉ^c · g^{s_2}
* ``batched-commitment``      t_3 = c̃^c · g^{s_3} · ∏ h_i^{s'_i}
* ``reencryption``            t_{4,k} = (A_k^c · g^{−s_{4,k}} · ∏ ã_{i,k}^{s'_i},
                                         B_k^c · pk^{−s_{4,k}} · ∏ b̃_{i,k}^{s'_i})
* ``chain-link``              t̂_i = ĉ_i^c · g^{ŝ_i} · ĉ_{i−1}^{s'_i}  (ĉ_0 = h)

Verificatum's verifier (VMNV §8.3) writes the same checks as X^v · X′ = …; its challenge v is
this module's c = −v, which :func:`check_shuffle` takes as a negative integer so that no full-size
exponent is spent on it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from degcore.elgamal import PublicKey
from degcore.elgamal.batch import random_weights
from degcore.errors import VerificationFailed
from degcore.groups import Element, Group
from degcore.mixnet.shuffle import Row
from degcore.parallel import is_serial, map_chunks, per_chunk, resolve_executor, worker_count

__all__ = [
    "EQUATIONS",
    "ShuffleArgument",
    "ShuffleEquationFailed",
    "check_shuffle",
    "power_product",
    "shuffle_terms",
]

#: The equation ids, in the order they are checked.
EQUATIONS = ("permutation-commitment", "chain-end", "batched-commitment", "reencryption", "chain-link")


class ShuffleEquationFailed(VerificationFailed):
    """A shuffle equation did not hold; ``equation`` is its id in :data:`EQUATIONS`."""

    def __init__(self, check: str, subject: str = "", detail: str = "", equation: str = "") -> None:
        super().__init__(check, subject, detail)
        self.equation = equation

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.check, self.subject, self.detail, self.equation))


@dataclass(frozen=True, slots=True)
class ShuffleArgument:
    """The group-side data of a proof in CHVote's names (Verificatum's in brackets).

    commitments c [u], chain ĉ [B], t = (t_1 [C′], t_2 [D′], t_3 [A′], t_{4,k} as (a, b) per column
    [F′]), t̂ [B′], s_1 [k_C], s_2 [k_D], s_3 [k_A], s_4 [k_F], ŝ [k_B], s′ [k_E].
    """

    commitments: Sequence[Element]
    chain: Sequence[Element]
    t: Sequence[Element]
    t_hat: Sequence[Element]
    s1: int
    s2: int
    s3: int
    s4: Sequence[int]
    s_hat: Sequence[int]
    s_prime: Sequence[int]


def _signed_power(group: Group, base: Element, k: int) -> Element:
    """base^k for a public k that may be negative (Verificatum's challenge enters as −v)."""
    if k < 0:
        return group.inv(group.exp_vartime(base, -k))
    return group.exp_vartime(base, k)


def _power_product_chunk(group: Group, secret: bool, items: Sequence[tuple[Element, int]]) -> Element:
    """∏ base^exponent over one chunk: constant-time powers for secret exponents, else one MSM."""
    if secret:
        return group.multi_exp_secret([base for base, _ in items], [k for _, k in items])
    return group.multi_exp([base for base, _ in items], [k for _, k in items])


def _secret_product(group: Group, elements: Sequence[Element]) -> Element:
    """A product of secret-valued elements by the backend's own multiplications (constant time in
    libsodium), never the variable-time ``product`` an accelerated backend offers public data."""
    return functools.reduce(group.mul, elements, group.identity())


def power_product(
    group: Group, items: list[tuple[Element, int]], *, secret: bool, executor: Executor | None
) -> Element:
    """∏ base^exponent over ``items``, in chunks on the executor (one per core for an MSM)."""
    work = functools.partial(_power_product_chunk, group, secret)
    # A multi-exponentiation costs less per term the more terms it has: no smaller chunks than
    # cores, and one chunk for an executor that runs them one after the other anyway.
    pool = resolve_executor(executor, len(items))
    workers = 1 if is_serial(pool) else worker_count()
    size = None if secret else max(1, -(-len(items) // workers))
    partials = per_chunk(work, items, executor=pool, chunk_size=size)
    return _secret_product(group, partials) if secret else group.product(partials)


def _chain_link_chunk(
    group: Group, c: int, items: Sequence[tuple[Element, Element, int, int]]
) -> list[Element]:
    """t̂'_i = ĉ_i^c · g^{ŝ_i} · ĉ_{i−1}^{s'_i}."""
    return [
        _signed_power(group, ci, c) * group.exp_g_vartime(sh) * group.exp_vartime(prev, sp)
        for ci, prev, sh, sp in items
    ]


def _chain_links_hold(
    group: Group,
    *,
    h: Element,
    chain: Sequence[Element],
    proof: ShuffleArgument,
    challenge: int,
    power: functools.partial[Element],
) -> bool:
    """All N links at once: ∏ t̂_i^{w_i} = g^{Σ w_i ŝ_i} · ∏ ĉ_i^{c·w_i + s'_{i+1}·w_{i+1}} for random w_i.

    The verifier draws the 128-bit weights from ``secrets`` after the proof is fixed, so a prover
    cannot aim at them; False sends the caller to the one-by-one check that names the link.
    """
    q = group.order
    n = len(chain)
    weights = random_weights(n)
    # ĉ_0 = h carries only the first link's s'_1; ĉ_i (i ≥ 1) its own c·w_i and the next link's s'.
    exponents = [proof.s_prime[0] * weights[0] % q]
    for i in range(1, n + 1):
        e = challenge * weights[i - 1]
        if i < n:
            e += proof.s_prime[i] * weights[i]
        exponents.append(e % q)
    g_exponent = sum(w * s for w, s in zip(weights, proof.s_hat, strict=True)) % q
    right = power(
        [(group.generator(), g_exponent), (h, exponents[0]), *zip(chain, exponents[1:], strict=True)]
    )
    left = power(list(zip(proof.t_hat, weights, strict=True)))
    return bool(left == right)


def _weighted_terms(  # noqa: PLR0917 - check_shuffle's statement, spelled out
    pk: PublicKey,
    rows_in: Sequence[Row],
    rows_out: Sequence[Row],
    proof: ShuffleArgument,
    h: Element,
    hs: Sequence[Element],
    u: Sequence[int],
    u_product: int,
    challenge: int,
) -> dict[Element, int]:
    """Every equation, written ∏ base^k = 1 and raised to its own random 128-bit weight, multiplied out.

    The result is the exponent of each base in the product (unreduced): over the commitments, the
    generators, the chain, t̂ and both sides' ciphertexts (12N terms for rows of two) instead of
    2 + 4·width products of N terms and the chain links' two. The weights are drawn from
    ``secrets`` after the proof is fixed, so if any equation is false the product is the identity
    with probability at most 2^-128 (docs/protocol.md §4.5).
    """
    group = pk.group
    n, width = len(rows_in), len(rows_in[0])
    g, c = group.generator(), challenge
    scalars: dict[Element, int] = {}

    def add(base: Element, k: int) -> None:
        scalars[base] = scalars.get(base, 0) + k

    weights = iter(random_weights(3 + 2 * width + n))

    def weight() -> int:
        return next(weights)

    w1, w2, w3 = weight(), weight(), weight()
    # permutation-commitment: (∏c_i / ∏h_i)^c · g^{s_1} · t_1^-1 = 1
    # batched-commitment:     (∏c_i^{u_i})^c · g^{s_3} · ∏h_i^{s'_i} · t_3^-1 = 1
    for ci, hi, ui, si in zip(proof.commitments, hs, u, proof.s_prime, strict=True):
        add(ci, c * (w1 + w3 * ui))
        add(hi, w3 * si - w1 * c)
    add(g, w1 * proof.s1 + w2 * proof.s2 + w3 * proof.s3)
    # chain-end: (ĉ_N / h^{∏u})^c · g^{s_2} · t_2^-1 = 1
    add(proof.chain[-1], w2 * c)
    add(h, -w2 * c * u_product)
    t = list(proof.t)
    add(t[0], -w1)
    add(t[1], -w2)
    add(t[2], -w3)
    # reencryption, per column k: A_k^c · g^{-s_{4,k}} · ∏ã_{i,k}^{s'_i} · t_{4,k,a}^-1 = 1, and so for b
    for k in range(width):
        wa, wb = weight(), weight()
        for row, ui in zip(rows_in, u, strict=True):
            add(row[k].a, wa * c * ui)
            add(row[k].b, wb * c * ui)
        for row, si in zip(rows_out, proof.s_prime, strict=True):
            add(row[k].a, wa * si)
            add(row[k].b, wb * si)
        add(g, -wa * proof.s4[k])
        add(pk.h, -wb * proof.s4[k])
        add(t[3 + 2 * k], -wa)
        add(t[4 + 2 * k], -wb)
    # chain-link i: ĉ_i^c · g^{ŝ_i} · ĉ_{i−1}^{s'_i} · t̂_i^-1 = 1 (ĉ_0 = h)
    previous = [h, *proof.chain[:-1]]
    for i in range(n):
        wi = weight()
        add(proof.chain[i], wi * c)
        add(previous[i], wi * proof.s_prime[i])
        add(g, wi * proof.s_hat[i])
        add(proof.t_hat[i], -wi)
    return scalars


def shuffle_terms(
    pk: PublicKey,
    rows_in: Sequence[Row],
    rows_out: Sequence[Row],
    proof: ShuffleArgument,
    *,
    generators: tuple[Element, Sequence[Element]],
    u: Sequence[int],
    challenge: int,
) -> dict[Element, int]:
    """:func:`check_shuffle`'s five equations, weighted and multiplied out, for a caller's own MSM.

    A product of several proofs' terms (the stages of a cascade) is the identity, up to 2^-128,
    only if every equation of every proof holds; if it is not, :func:`check_shuffle` on each
    proof names the one that fails. The caller has checked the sizes and that every response is
    reduced mod q, as for check_shuffle.
    """
    h, hs = generators
    return _weighted_terms(pk, rows_in, rows_out, proof, h, hs, u, _product_mod(pk.group.order, u), challenge)


def _product_mod(q: int, values: Sequence[int]) -> int:
    out = 1
    for value in values:
        out = out * value % q
    return out


def _fail(subject: str, names: Mapping[str, str], equation: str, index: int | None = None) -> None:
    detail = names[equation] if index is None else names[equation].format(i=index)
    raise ShuffleEquationFailed("shuffle", subject, detail, equation)


def check_shuffle(
    pk: PublicKey,
    rows_in: Sequence[Row],
    rows_out: Sequence[Row],
    proof: ShuffleArgument,
    *,
    generators: tuple[Element, Sequence[Element]],
    u: Sequence[int],
    challenge: int,
    names: Mapping[str, str],
    executor: Executor | None = None,
    subject: str = "",
    intermediates: dict[str, object] | None = None,
) -> None:
    """Check the five equations; ShuffleEquationFailed names the first that fails.

    ``generators`` is (h, [h_1 … h_N]); ``u`` the batching vector; ``challenge`` is c (negative for
    Verificatum). ``names`` maps each equation id to its message (``{i}`` is the chain index).
    The caller has checked the sizes and that every response is reduced mod q. ``intermediates``,
    if given, receives c̄, ĉ, c̃ and the batched input columns (Verificatum's C, D, A and F).
    """
    group, q = pk.group, pk.group.order
    width = len(rows_in[0])
    h, hs = generators
    c, chain = list(proof.commitments), list(proof.chain)
    u_product = _product_mod(q, u)
    power = functools.partial(power_product, group, secret=False, executor=executor)
    if group.batches and intermediates is None:
        # Every equation at once; False sends us to the equation-by-equation check that names one.
        terms = _weighted_terms(pk, rows_in, rows_out, proof, h, hs, u, u_product, challenge)
        if group.is_identity(power([(base, k % q) for base, k in terms.items()])):
            return
    c_bar = group.product(c) / group.product(hs)
    c_hat = chain[-1] / group.exp_vartime(h, u_product)
    c_tilde = power(list(zip(c, u, strict=True)))
    batched: list[tuple[Element, Element]] = []
    expected = [
        ("permutation-commitment", _signed_power(group, c_bar, challenge) * group.exp_g_vartime(proof.s1)),
        ("chain-end", _signed_power(group, c_hat, challenge) * group.exp_g_vartime(proof.s2)),
        (
            "batched-commitment",
            _signed_power(group, c_tilde, challenge)
            * group.exp_g_vartime(proof.s3)
            * power(list(zip(hs, proof.s_prime, strict=True))),
        ),
    ]
    for k in range(width):
        a_in = power([(row[k].a, uj) for row, uj in zip(rows_in, u, strict=True)])
        b_in = power([(row[k].b, uj) for row, uj in zip(rows_in, u, strict=True)])
        a_out = power([(row[k].a, sp) for row, sp in zip(rows_out, proof.s_prime, strict=True)])
        b_out = power([(row[k].b, sp) for row, sp in zip(rows_out, proof.s_prime, strict=True)])
        batched.append((a_in, b_in))
        neg_s4 = -proof.s4[k] % q
        a_side = _signed_power(group, a_in, challenge) * group.exp_g_vartime(neg_s4) * a_out
        b_side = _signed_power(group, b_in, challenge) * pk.exp_vartime(neg_s4) * b_out
        expected += [("reencryption", a_side), ("reencryption", b_side)]
    if intermediates is not None:
        intermediates.update(c_bar=c_bar, c_hat=c_hat, c_tilde=c_tilde, batched_in=batched)
    for index, ((equation, value), t) in enumerate(zip(expected, proof.t, strict=True)):
        if value != t:
            _fail(subject, names, equation, max(0, index - 3) // 2)
    if group.batches and _chain_links_hold(
        group, h=h, chain=chain, proof=proof, challenge=challenge, power=power
    ):
        return
    previous = [h, *chain[:-1]]
    items = list(zip(chain, previous, proof.s_hat, proof.s_prime, strict=True))
    t_hat = map_chunks(functools.partial(_chain_link_chunk, group, challenge), items, executor=executor)
    for i, (value, t) in enumerate(zip(t_hat, proof.t_hat, strict=True)):
        if value != t:
            _fail(subject, names, "chain-link", i)
