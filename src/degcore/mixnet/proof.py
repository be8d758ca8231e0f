"""The Terelius–Wikström proof of a shuffle (CHVote GenShuffleProof / CheckShuffleProof), for rows of width w.

docs/mixnet.md §2 gives the equations; the names follow the CHVote specification. Every challenge
binds the context (the election base hash and the mix stage), the key, both lists and all
commitments. The commitment chain is computed as ĉ_i = g^{R_i} · h^{U_i} with
R_i = r̂_i + u'_i R_{i−1} and U_i = ∏_{k≤i} u'_k, which equals CHVote's ĉ_i = g^{r̂_i} ĉ_{i−1}^{u'_i}
but needs only fixed-base exponentiations that run in parallel; the verifier recomputes the
CHVote equations unchanged.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Protocol

from degcore.elgamal import PublicKey
from degcore.elgamal._codec import elements_from_hex, json_list, scalar_from_hex
from degcore.encoding import JsonValue, read_record, record_header
from degcore.errors import InvalidInput, VerificationFailed
from degcore.groups import Element, Group
from degcore.hashing import Transcript, sha256
from degcore.mixnet.equations import ShuffleArgument, check_shuffle, power_product, shuffle_terms
from degcore.mixnet.shuffle import Row, ShuffleSecrets, check_rows
from degcore.parallel import map_chunks

__all__ = [
    "ShuffleProof",
    "ShuffleTranscript",
    "check_proof_shape",
    "forget_prepared_generators",
    "generators",
    "prepare_generators",
    "prove",
    "prove_with",
    "verify",
    "weighted_terms",
]

#: Bits of the challenges u_i (as CHVote's τ and Verificatum's n_e): soundness error 2^−128.
CHALLENGE_BITS = 128


def generators(group: Group, context: bytes, n: int) -> tuple[Element, list[Element]]:
    """h and h_1..h_n: independent generators derived from the context (nobody knows their logs)."""
    key = (group.name, context, n)
    with _prepared_lock:
        kept = _prepared_generators.pop(key, None)
    if kept is not None:
        return kept
    gens = group.independent_generators(n + 1, context, b"degcore/4/mixnet-generators")
    return gens[0], gens[1:]


# Generators derived ahead by prepare_generators, each taken by the next generators() call with
# the same arguments. A verifier on a pool derives its first stage's while the workers still scan
# the ballot log, so that the check of that stage, which must wait for the scan, does not wait
# for them too. One entry at most: a million-row stage's generators are a million elements.
_prepared_generators: dict[tuple[str, bytes, int], tuple[Element, list[Element]]] = {}
_prepared_lock = threading.Lock()


def forget_prepared_generators() -> None:
    """Drop generators :func:`prepare_generators` kept and no call took."""
    with _prepared_lock:
        _prepared_generators.clear()


def prepare_generators(group: Group, context: bytes, n: int) -> None:
    """Derive :func:`generators` now and keep them for its next call with these arguments."""
    value = generators(group, context, n)
    with _prepared_lock:
        _prepared_generators.clear()
        _prepared_generators[(group.name, context, n)] = value


def _flat(rows: Sequence[Row]) -> list[Element]:
    return [e for row in rows for ct in row for e in (ct.a, ct.b)]


@dataclass(frozen=True, slots=True)
class _Statement:
    """What every challenge hashes: context, key, both lists."""

    group: Group
    context: bytes
    pk: PublicKey
    rows_in: Sequence[Row]
    rows_out: Sequence[Row]

    def transcript(self, tag: str) -> Transcript:
        t = Transcript(tag, self.group.name, self.context).element("pk", self.pk.h)
        t.integer("width", len(self.rows_in[0]))
        return t.elements("in", _flat(self.rows_in)).elements("out", _flat(self.rows_out))

    def challenges(self, c: Sequence[Element]) -> list[int]:
        """u_1 … u_N: 128-bit challenges from the statement and the permutation commitment."""
        seed = self.transcript("degcore/4/shuffle-challenges").elements("commitments", c)
        digest = self.group.encode_scalar(seed.challenge(self.group))
        size = CHALLENGE_BITS // 8
        return [int.from_bytes(sha256(digest, i.to_bytes(8, "big"))[:size], "big") for i in range(len(c))]

    def challenge(
        self, c: Sequence[Element], chain: Sequence[Element], t: Sequence[Element], t_hat: Sequence[Element]
    ) -> int:
        """The final challenge over the statement and every commitment of the proof."""
        transcript = self.transcript("degcore/4/shuffle").elements("commitments", c).elements("chain", chain)
        return transcript.elements("t", t).elements("t_hat", t_hat).challenge(self.group)


@dataclass(frozen=True, slots=True)
class ShuffleProof(ShuffleArgument):
    """CHVote's π = (t, s, c, ĉ): the prover's commitments are kept so that a failure names its equation.

    Fields (see :class:`~degcore.mixnet.equations.ShuffleArgument`): commitments, chain, t (t1, t2,
    t3, then t4 as (a, b) per ciphertext component), t_hat, s1, s2, s3, s4, s_hat, s_prime.
    """

    def to_json(self, group: Group) -> dict[str, JsonValue]:
        """The canonical JSON object (``mix/stage-<k>/proof.json`` in the record)."""

        def scalars(values: Sequence[int]) -> list[JsonValue]:
            return [group.encode_scalar(v).hex() for v in values]

        return {
            **record_header("shuffle-proof"),
            "commitments": [bytes(e).hex() for e in self.commitments],
            "chain": [bytes(e).hex() for e in self.chain],
            "t": [bytes(e).hex() for e in self.t],
            "t_hat": [bytes(e).hex() for e in self.t_hat],
            "s": scalars((self.s1, self.s2, self.s3)),
            "s4": scalars(self.s4),
            "s_hat": scalars(self.s_hat),
            "s_prime": scalars(self.s_prime),
        }

    @classmethod
    def from_json(cls, group: Group, obj: object) -> ShuffleProof:
        """Parse strictly; elements are decoded with membership checks."""
        keys = {"commitments", "chain", "t", "t_hat", "s", "s4", "s_hat", "s_prime"}
        f = read_record(obj, "shuffle-proof", keys)

        def scalars(name: str, length: int | None = None) -> tuple[int, ...]:
            return tuple(scalar_from_hex(group, v, name) for v in json_list(f[name], name, length))

        s1, s2, s3 = scalars("s", 3)
        return cls(
            elements_from_hex(group, f["commitments"], "commitments"),
            elements_from_hex(group, f["chain"], "chain"),
            elements_from_hex(group, f["t"], "t"),
            elements_from_hex(group, f["t_hat"], "t_hat"),
            s1, s2, s3, scalars("s4"), scalars("s_hat"), scalars("s_prime"),
        )  # fmt: skip


# --- the prover -------------------------------------------------------------------------------
class ShuffleTranscript(Protocol):
    """Where a proof's generators and challenges come from: degcore's transcripts or Verificatum's."""

    def generators(self, n: int) -> tuple[Element, list[Element]]:
        """h (the chain's base) and h_1 … h_n (the permutation commitment's)."""
        ...

    def batching(self, commitments: Sequence[Element]) -> list[int]:
        """u_1 … u_n from the statement and the permutation commitment."""
        ...

    def challenge(
        self, c: Sequence[Element], chain: Sequence[Element], t: Sequence[Element], t_hat: Sequence[Element]
    ) -> int:
        """The challenge c of the equations (a negative integer where the protocol's v enters as −v)."""
        ...


@dataclass(frozen=True, slots=True)
class _DegcoreTranscript:
    statement: _Statement

    def generators(self, n: int) -> tuple[Element, list[Element]]:
        return generators(self.statement.group, self.statement.context, n)

    def batching(self, commitments: Sequence[Element]) -> list[int]:
        return self.statement.challenges(commitments)

    def challenge(
        self, c: Sequence[Element], chain: Sequence[Element], t: Sequence[Element], t_hat: Sequence[Element]
    ) -> int:
        return self.statement.challenge(c, chain, t, t_hat)


def _commit_chunk(group: Group, hs: Sequence[Element], items: Sequence[tuple[int, int]]) -> list[Element]:
    """c_j = g^{r_j} · h_{ψ^{-1}(j)} for (r_j, ψ^{-1}(j)) items."""
    return [group.exp_g(r) * hs[k] for r, k in items]


def _fixed_pair_chunk(group: Group, h: Element, items: Sequence[tuple[int, int]]) -> list[Element]:
    """g^x · h^y for each (x, y): the chain ĉ_i and the t̂_i without sequential exponentiations."""
    table = group.fixed(h)
    return [table.exp_mul(y, group.generator(), x) for x, y in items]


def prove(
    pk: PublicKey,
    rows_in: Sequence[Row],
    rows_out: Sequence[Row],
    secrets_: ShuffleSecrets,
    context: bytes,
    *,
    executor: Executor | None = None,
) -> ShuffleProof:
    """Prove that ``rows_out`` re-encrypts a permutation of ``rows_in`` (the witness is ``secrets_``)."""
    transcript = _DegcoreTranscript(_Statement(pk.group, context, pk, rows_in, rows_out))
    return prove_with(pk, rows_in, rows_out, secrets_, transcript, executor=executor)


def prove_with(
    pk: PublicKey,
    rows_in: Sequence[Row],
    rows_out: Sequence[Row],
    secrets_: ShuffleSecrets,
    transcript: ShuffleTranscript,
    *,
    executor: Executor | None = None,
) -> ShuffleProof:
    """:func:`prove` with the generators and challenges of ``transcript`` (e.g. Verificatum's)."""
    group, q = pk.group, pk.group.order
    width, n = check_rows(rows_in), len(rows_in)
    psi = secrets_.psi
    h, hs = transcript.generators(n)
    inverse = [0] * n
    for i, j in enumerate(psi):
        inverse[j] = i
    r = [group.random_scalar() for _ in range(n)]
    c = map_chunks(
        functools.partial(_commit_chunk, group, hs), list(zip(r, inverse, strict=True)), executor=executor
    )
    u = transcript.batching(c)
    u_prime = [u[psi[i]] for i in range(n)]
    r_hat = [group.random_scalar() for _ in range(n)]
    # R_i, U_i with ĉ_i = g^{R_i} h^{U_i}; R_0 = 0, U_0 = 1 (ĉ_0 = h).
    big_r, big_u = [0] * (n + 1), [1] * (n + 1)
    for i in range(n):
        big_r[i + 1] = (r_hat[i] + u_prime[i] * big_r[i]) % q
        big_u[i + 1] = big_u[i] * u_prime[i] % q
    pair = functools.partial(_fixed_pair_chunk, group, h)
    chain = map_chunks(pair, list(zip(big_r[1:], big_u[1:], strict=True)), executor=executor)
    w1, w2, w3 = (group.random_scalar() for _ in range(3))
    w4 = [group.random_scalar() for _ in range(width)]
    w_hat = [group.random_scalar() for _ in range(n)]
    w_prime = [group.random_scalar() for _ in range(n)]
    secret_power = functools.partial(power_product, group, secret=True, executor=executor)
    t1, t2 = group.exp_g(w1), group.exp_g(w2)
    t3 = group.exp_g(w3) * secret_power(list(zip(hs, w_prime, strict=True)))
    t4 = []
    for k in range(width):
        a = secret_power([(r[k].a, w) for r, w in zip(rows_out, w_prime, strict=True)])
        b = secret_power([(r[k].b, w) for r, w in zip(rows_out, w_prime, strict=True)])
        t4 += [group.exp_g(-w4[k]) * a, pk.exp(-w4[k]) * b]
    # t̂_i = g^{ω̂_i} ĉ_{i−1}^{ω'_i} = g^{ω̂_i + ω'_i R_{i−1}} · h^{ω'_i U_{i−1}}
    t_hat = map_chunks(
        pair,
        [((w_hat[i] + w_prime[i] * big_r[i]) % q, w_prime[i] * big_u[i] % q) for i in range(n)],
        executor=executor,
    )
    challenge = transcript.challenge(c, chain, [t1, t2, t3, *t4], t_hat)
    # v_i = ∏_{k>i} u'_k: r̂ = Σ r̂_i v_i is R_N.
    s1 = (w1 - challenge * sum(r)) % q
    s2 = (w2 - challenge * big_r[n]) % q
    s3 = (w3 - challenge * sum(rj * uj for rj, uj in zip(r, u, strict=True))) % q
    s4 = tuple(
        (w4[k] - challenge * sum(secrets_.randomness[j][k] * u[j] for j in range(n))) % q
        for k in range(width)
    )
    s_hat = tuple((w_hat[i] - challenge * r_hat[i]) % q for i in range(n))
    s_prime = tuple((w_prime[i] - challenge * u_prime[i]) % q for i in range(n))
    t = (t1, t2, t3, *t4)
    return ShuffleProof(tuple(c), tuple(chain), t, tuple(t_hat), s1, s2, s3, s4, s_hat, s_prime)


# --- the verifier -------------------------------------------------------------------------------
#: degcore's messages for the shared equations ({i}: the ciphertext column or the chain link).
_NAMES = {
    "permutation-commitment": "t1 = c̄^c·g^s1 does not hold (permutation commitment)",
    "chain-end": "t2 = ĉ^c·g^s2 does not hold (end of the commitment chain)",
    "batched-commitment": "t3 = c̃^c·g^s3·∏h_i^s'_i does not hold (challenge-weighted commitments)",
    "reencryption": "t4[{i}] does not hold (re-encryption of ciphertext {i} of each row)",
    "chain-link": "t̂[{i}]: link {i} of the commitment chain does not hold",
}


def check_proof_shape(
    group: Group, rows_in: Sequence[Row], rows_out: Sequence[Row], proof: ShuffleArgument, subject: str
) -> None:
    """Sizes fit N rows of width w and every response is reduced mod q (before any equation)."""
    q = group.order
    width, n = check_rows(rows_in, "input"), len(rows_in)
    if len(rows_out) != n or check_rows(rows_out, "output") != width:
        raise InvalidInput(f"{subject or 'shuffle'}: {n} input rows of width {width}, output differs")
    sizes = (len(proof.commitments), len(proof.chain), len(proof.t_hat), len(proof.s_hat), len(proof.s_prime))
    if sizes != (n,) * 5 or len(proof.s4) != width or len(proof.t) != 3 + 2 * width:
        raise VerificationFailed("shuffle", subject, f"proof sizes do not fit {n} rows of width {width}")
    if not all(0 <= x < q for x in (proof.s1, proof.s2, proof.s3, *proof.s4, *proof.s_hat, *proof.s_prime)):
        raise VerificationFailed("shuffle", subject, "a proof scalar is not reduced mod q")


def _prepared(
    pk: PublicKey,
    rows_in: Sequence[Row],
    rows_out: Sequence[Row],
    proof: ShuffleProof,
    context: bytes,
    *,
    subject: str,
) -> tuple[tuple[Element, list[Element]], list[int], int]:
    """The proof's shape checked, then its generators, batching vector u and challenge."""
    check_proof_shape(pk.group, rows_in, rows_out, proof, subject)
    transcript = _DegcoreTranscript(_Statement(pk.group, context, pk, rows_in, rows_out))
    gens = transcript.generators(len(rows_in))
    u = transcript.batching(proof.commitments)
    return gens, u, transcript.challenge(proof.commitments, proof.chain, proof.t, proof.t_hat)


def verify(
    pk: PublicKey,
    rows_in: Sequence[Row],
    rows_out: Sequence[Row],
    proof: ShuffleProof,
    context: bytes,
    *,
    executor: Executor | None = None,
    subject: str = "",
) -> None:
    """Check a shuffle proof; VerificationFailed("shuffle") names the equation that does not hold."""
    gens, u, ch = _prepared(pk, rows_in, rows_out, proof, context, subject=subject)
    check_shuffle(
        pk, rows_in, rows_out, proof,
        generators=gens, u=u, challenge=ch, names=_NAMES, executor=executor, subject=subject,
    )  # fmt: skip


def weighted_terms(
    pk: PublicKey, rows_in: Sequence[Row], rows_out: Sequence[Row], proof: ShuffleProof, context: bytes
) -> dict[Element, int]:
    """The proof's equations weighted and multiplied out (:func:`shuffle_terms`), for a shared MSM.

    Raises as :func:`verify` does if the proof's shape is wrong; the terms say nothing until the
    caller's product of them is the identity, and a failed product is named by :func:`verify`.
    """
    gens, u, ch = _prepared(pk, rows_in, rows_out, proof, context, subject="")
    return shuffle_terms(pk, rows_in, rows_out, proof, generators=gens, u=u, challenge=ch)
