"""Threshold decryption: partial decryptions with proofs, Lagrange combination (docs/protocol.md §7).

docs/protocol.md §7. Trustee j holds x_j, a Shamir share of the joint secret x, and publishes
X_j = g^{x_j} (:class:`~degcore.trustees.dkg.CeremonyResult`). For a ciphertext (a, b) it
publishes M_j = a^{x_j} with a Chaum–Pedersen proof that log_g X_j = log_a M_j, bound to the
caller's context (the election base hash).

**Context first**, as in the ballot functions: ``partial_decrypt(context, share, ciphertexts)``,
``ThresholdDecryption(context, result, ciphertexts)``, ``threshold_decrypt(context, result,
ciphertexts, partials)``, where ``context`` is the :class:`~degcore.ballot.ElectionContext` or,
outside an election, the bytes its proofs bind; anything else is InvalidInput.

Any t valid partials from a set S of trustees give a^x = ∏_{j∈S} M_j^{λ_j} with
λ_j = ∏_{k∈S, k≠j} k / (k − j) mod q, and g^m = b / a^x.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol, runtime_checkable

from nacl.signing import SigningKey

from degcore.elgamal import dleq
from degcore.elgamal._codec import elements_from_hex, proofs_from_hex
from degcore.elgamal.ciphertext import Ciphertext
from degcore.encoding import JsonValue, from_hex
from degcore.errors import InvalidInput, Rule, RuleViolation, VerificationFailed
from degcore.groups import Element, Group
from degcore.ids import check_id
from degcore.parallel import map_chunks
from degcore.trustees._sealed import DEFAULT_SCRYPT_N, seal, unseal
from degcore.trustees.dkg import CeremonyConfig, CeremonyResult, ceremony_header, read_ceremony_record
from degcore.trustees.signing import sign_message, verify_message

__all__ = [
    "ElectionScope",
    "PartialDecryption",
    "ThresholdDecryption",
    "TrusteeShare",
    "check_partial_proofs",
    "context_bytes",
    "lagrange_at_zero",
    "lagrange_integers",
    "partial_decrypt",
    "threshold_decrypt",
]


@runtime_checkable
class ElectionScope(Protocol):
    """What this module needs of a :class:`~degcore.ballot.ElectionContext`: its base hash and ceremony."""

    @property
    def base_hash(self) -> bytes:
        """The election's base hash: the context every proof binds."""
        ...

    @property
    def ceremony(self) -> CeremonyResult:
        """The key ceremony's result."""
        ...


#: The context argument of this module: an ElectionContext, or the bytes every proof binds.
Context = ElectionScope | bytes


def context_bytes(context: object) -> bytes:
    """The bytes a proof binds: ``context`` itself, or an ElectionContext's base hash; else InvalidInput."""
    if isinstance(context, bytes):
        return context
    if isinstance(context, ElectionScope) and isinstance(context.base_hash, bytes):
        return context.base_hash
    raise InvalidInput(
        f"context must be an ElectionContext or its base hash as bytes, not {type(context).__name__} "
        "(the context comes first: partial_decrypt(context, share, ciphertexts))"
    )


def _ceremony_config(scope: object) -> CeremonyConfig:
    if isinstance(scope, CeremonyConfig):
        return scope
    if isinstance(scope, ElectionScope):
        return scope.ceremony.config
    raise InvalidInput(f"expected an ElectionContext or a CeremonyConfig, not {type(scope).__name__}")


@dataclass(frozen=True, slots=True, repr=False)
class TrusteeShare:
    """Trustee j's secret share x_j of the joint key, with the ceremony and its roster signing key."""

    config: CeremonyConfig
    trustee_id: str
    x: int
    #: The secret half of the trustee's roster key: its partial decryptions are signed with it.
    signing_key: SigningKey = field(compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.signing_key, SigningKey):
            raise InvalidInput("a trustee share needs the trustee's SigningKey")
        if bytes(self.signing_key.verify_key) != self.config.signing_key(self.trustee_id):
            raise InvalidInput(f"this signing key is not the roster key of {self.trustee_id}")
        if not 0 <= self.x < self.config.group.order:
            raise InvalidInput("a trustee share must be reduced mod q")

    def __repr__(self) -> str:  # never print the secret
        return f"TrusteeShare({self.trustee_id}, <hidden>)"

    @property
    def index(self) -> int:
        """The share index j."""
        return self.config.index(self.trustee_id)

    def verification_key(self) -> Element:
        """X_j = g^{x_j}."""
        return self.config.group.exp_g(self.x)

    def save(self, passphrase: str | bytes, *, scrypt_n: int = DEFAULT_SCRYPT_N) -> bytes:
        """The share sealed under ``passphrase`` (scrypt + AES-256-GCM)."""
        payload: JsonValue = {
            "config": self.config.to_json(),
            "trustee": self.trustee_id,
            "x": self.config.group.encode_scalar(self.x).hex(),
            "signing_key": bytes(self.signing_key).hex(),
        }
        return seal(payload, "trustee-share", passphrase, scrypt_n=scrypt_n)

    @classmethod
    def load(cls, data: bytes, passphrase: str | bytes) -> TrusteeShare:
        """Open :meth:`save` output; a wrong passphrase raises WrongPassphrase."""
        payload = unseal(data, "trustee-share", passphrase)
        if not isinstance(payload, dict) or set(payload) != {"config", "trustee", "x", "signing_key"}:
            raise InvalidInput("sealed trustee share: unexpected contents")
        config = CeremonyConfig.from_json(payload["config"])
        x = config.group.decode_scalar(from_hex(payload["x"], config.group.scalar_bytes, "x"))
        signing = SigningKey(from_hex(payload["signing_key"], 32, "signing_key"))
        return cls(config, str(check_id(payload["trustee"], "trustee")), x, signing)


@dataclass(frozen=True, slots=True)
class PartialDecryption:
    """Trustee j's M_j = a^{x_j} for each ciphertext of a list, each with a DLEQ proof, signed by j."""

    trustee_id: str
    values: tuple[Element, ...]
    proofs: tuple[dleq.DleqProof, ...]
    #: The trustee's Ed25519 signature on the object without it (:mod:`degcore.trustees.signing`).
    signature: bytes = field(default=b"", repr=False, compare=False)

    @property
    def signer(self) -> str:
        """The trustee that signs it."""
        return self.trustee_id

    def __reduce__(self) -> tuple[object, ...]:
        # A partial crosses between a verifier and its workers with 10^4+ values and proofs: as
        # two strings of their encodings it pickles and unpickles about five times faster than
        # as objects (91 → about 25 ms for 6,000, docs/performance.md). Elements are restored as
        # Element.__reduce__ restores them: trusted, because a pickle never comes from outside.
        group = self.values[0].group if self.values else None
        try:  # exactly: an unreduced response (a forged partial's) would come back reduced
            if group is not None and all(0 <= p.v < group.order for p in self.proofs):
                values = b"".join([group.encode(m) for m in self.values])
                proofs = b"".join([p.to_bytes(group) for p in self.proofs])
                return (_restore_partial, (group, self.trustee_id, values, proofs, self.signature))
        except (AttributeError, TypeError, InvalidInput):  # not one group's parts: pickled one by one
            pass
        return (PartialDecryption, (self.trustee_id, self.values, self.proofs, self.signature))

    def to_json(self, scope: CeremonyConfig | ElectionScope) -> dict[str, JsonValue]:
        """The canonical JSON object (``tally/partials/<id>.json``); ``scope``: context or ceremony config."""
        config = _ceremony_config(scope)
        group = config.group
        return {
            **ceremony_header(config, "partial-decryption"),
            "trustee": self.trustee_id,
            "values": [bytes(m).hex() for m in self.values],
            "proofs": [p.to_bytes(group).hex() for p in self.proofs],
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, scope: CeremonyConfig | ElectionScope, obj: object) -> PartialDecryption:
        """Parse strictly; every value is decoded with a membership check."""
        config = _ceremony_config(scope)
        fields = read_ceremony_record(
            config, obj, "partial-decryption", {"trustee", "values", "proofs", "signature"}
        )
        group = config.group
        values = elements_from_hex(group, fields["values"], "values")
        proofs = proofs_from_hex(dleq.DleqProof, group, fields["proofs"], "proofs", len(values))
        signature = from_hex(fields["signature"], 64, "signature")
        return cls(str(check_id(fields["trustee"], "trustee")), values, proofs, signature)


def _restore_partial(
    group: Group, trustee_id: str, values: bytes, proofs: bytes, signature: bytes
) -> PartialDecryption:
    """Unpickle :meth:`PartialDecryption.__reduce__`'s encodings (trusted: see there)."""
    e, size, trusted = group.element_bytes, dleq.DleqProof.encoded_size(group), group._decode_trusted
    order = group.scalar_byteorder
    return PartialDecryption(
        trustee_id,
        tuple([trusted(values[i : i + e]) for i in range(0, len(values), e)]),
        tuple(
            [
                dleq.DleqProof(
                    trusted(proofs[i : i + e]),
                    trusted(proofs[i + e : i + 2 * e]),
                    int.from_bytes(proofs[i + 2 * e : i + size], order),
                )
                for i in range(0, len(proofs), size)
            ]
        ),
        signature,
    )


def _partial_chunk(
    group: Group, x: int, key: Element, context: bytes, a_values: Sequence[Element]
) -> list[tuple[Element, dleq.DleqProof]]:
    g = group.generator()
    out = []
    for a in a_values:
        m = group.exp(a, x)
        out.append((m, dleq.prove(group, x, dleq.DleqStatement(g, key, a, m), context)))
    return out


def partial_decrypt(
    context: Context,
    share: TrusteeShare,
    ciphertexts: Sequence[Ciphertext],
    *,
    executor: Executor | None = None,
) -> PartialDecryption:
    """M_j = a^{x_j} with a proof for every ciphertext, in parallel on ``executor`` (default: all cores)."""
    bound = context_bytes(context)
    if not isinstance(share, TrusteeShare):
        raise InvalidInput(f"share must be a TrusteeShare, not {type(share).__name__}")
    group = share.config.group
    work = functools.partial(_partial_chunk, group, share.x, share.verification_key(), bound)
    results = map_chunks(work, [ct.a for ct in ciphertexts], executor=executor)
    partial = PartialDecryption(share.trustee_id, tuple(m for m, _ in results), tuple(p for _, p in results))
    return sign_message(share.config, share.signing_key, partial)


def _check_chunk(
    group: Group, key: Element, context: bytes, items: Sequence[tuple[Element, Element, dleq.DleqProof]]
) -> list[bool]:
    """Per item, whether its proof holds: one batch for the chunk, each proof alone only if it fails."""
    g = group.generator()
    pairs, proofs = [(a, m) for a, m, _ in items], [p for *_, p in items]
    if group.batches and dleq.all_hold(group, g, key, pairs, proofs, context=context):
        return [True] * len(items)
    statements = [(dleq.DleqStatement(g, key, a, m), proof) for a, m, proof in items]
    ok = []
    for st, proof in statements:
        try:
            dleq.verify(group, st, proof, context)
            ok.append(True)
        except VerificationFailed:
            ok.append(False)
    return ok


def check_partial_proofs(
    group: Group,
    keys: Mapping[str, Element],
    context: bytes,
    first_parts: Sequence[Element],
    partial: PartialDecryption,
) -> list[bool] | None:
    """Per ciphertext, whether ``partial``'s proof of it holds under its trustee's verification key.

    ``first_parts`` is each ciphertext's ``a``, in order: all a proof is checked against besides
    the partial itself (a worker is sent these alone, not the whole ciphertexts). What
    :meth:`ThresholdDecryption.add` checks of the proofs, as a task to run elsewhere (a pool
    worker) and hand to ``add`` as ``proofs_ok``. None where ``add`` refuses the partial before
    looking at a proof: a trustee not in ``keys``, or not one value and one proof per ciphertext.
    """
    key = keys.get(partial.trustee_id)
    n = len(first_parts)
    if key is None or len(partial.values) != n or len(partial.proofs) != n:
        return None
    return _check_chunk(
        group, key, context, list(zip(first_parts, partial.values, partial.proofs, strict=True))
    )


def _proof_items(
    ciphertexts: Sequence[Ciphertext], partial: PartialDecryption
) -> list[tuple[Element, Element, dleq.DleqProof]]:
    """(a, M, proof) per ciphertext: what each of a partial's proofs is checked against."""
    return [(ct.a, m, p) for ct, m, p in zip(ciphertexts, partial.values, partial.proofs, strict=True)]


def lagrange_at_zero(indices: Sequence[int], q: int) -> list[int]:
    """λ_j = ∏_{k≠j} k / (k − j) mod q for each j of ``indices`` (distinct, in [1, q))."""
    if len(set(indices)) != len(indices) or not all(0 < j < q for j in indices):
        raise InvalidInput("Lagrange indices must be distinct and in [1, q)")
    out = []
    for j in indices:
        num, den = 1, 1
        for k in indices:
            if k != j:
                num = num * k % q
                den = den * (k - j) % q
        out.append(num * pow(den, -1, q) % q)
    return out


def lagrange_integers(indices: Sequence[int]) -> tuple[int, list[int]]:
    """(D, [n_j]) with λ_j = n_j / D exactly, as rationals: D the least common denominator.

    The coefficients at zero of a few small trustee indices are small fractions (8/3, −2, 1/3 for
    trustees 1, 2 and 4), so D·λ_j are small integers and (∏ M_j^{λ_j})^D costs a few additions.
    """
    if len(set(indices)) != len(indices) or not all(j > 0 for j in indices):
        raise InvalidInput("Lagrange indices must be distinct and positive")
    fractions = []
    for j in indices:
        value = Fraction(1)
        for k in indices:
            if k != j:
                value *= Fraction(k, k - j)
        fractions.append(value)
    scale = math.lcm(*(f.denominator for f in fractions))
    return scale, [int(f * scale) for f in fractions]


def _combine_scaled_chunk(
    group: Group, scale: int, numerators: Sequence[int], items: Sequence[tuple[Element, tuple[Element, ...]]]
) -> list[Element]:
    """(b / ∏ M_j^{λ_j})^D = b^D · ∏ M_j^{−n_j}: two small-exponent multi-exponentiations, a division."""
    up = [j for j, n in enumerate(numerators) if n < 0]
    down = [j for j, n in enumerate(numerators) if n > 0]
    out = []
    for b, ms in items:
        top = group.multi_exp([b, *(ms[j] for j in up)], [scale, *(-numerators[j] for j in up)])
        out.append(top / group.multi_exp([ms[j] for j in down], [numerators[j] for j in down]))
    return out


def _combine_chunk(
    group: Group, lambdas: Sequence[int], items: Sequence[tuple[Element, tuple[Element, ...]]]
) -> list[Element]:
    return [b / group.multi_exp(ms, lambdas) for b, ms in items]


class ThresholdDecryption:
    """Collects partial decryptions of one list of ciphertexts, checks each, and combines any t of them.

    ``add`` rejects a partial whose signature (the trustee's roster key) or proof fails with
    VerificationFailed naming the trustee (the
    others stay usable); ``combine`` needs t accepted partials and returns g^m per ciphertext.
    """

    def __init__(
        self,
        context: Context,
        result: CeremonyResult,
        ciphertexts: Sequence[Ciphertext],
        *,
        executor: Executor | None = None,
    ) -> None:
        self.context = context_bytes(context)
        if not isinstance(result, CeremonyResult):
            raise InvalidInput(f"result must be a CeremonyResult, not {type(result).__name__}")
        self.result = result
        self.ciphertexts = tuple(ciphertexts)
        self.executor = executor
        self._accepted: dict[str, PartialDecryption] = {}

    @property
    def present(self) -> tuple[str, ...]:
        """The trustees whose partials were accepted, in roster order."""
        return tuple(t for t in self.result.qualified if t in self._accepted)

    @property
    def accepted(self) -> tuple[PartialDecryption, ...]:
        """The accepted partials (every proof checked), in roster order."""
        return tuple(self._accepted[t] for t in self.present)

    def holds(self, ciphertexts: Sequence[Ciphertext]) -> bool:
        """Whether this session decrypts exactly ``ciphertexts``, in this order."""
        return self.ciphertexts == tuple(ciphertexts)

    def add(
        self,
        partial: PartialDecryption,
        *,
        proofs_ok: Sequence[bool] | None = None,
        signature_checked: bool = False,
    ) -> None:
        """Check every proof of ``partial``; accept it, or raise naming the trustee and the ciphertexts.

        ``proofs_ok``: what :func:`check_partial_proofs` returned for this partial and this
        session's ciphertexts, if it ran already (on a worker); ``signature_checked``: True if
        :func:`~degcore.trustees.signing.verify_message` passed for it under this session's
        ceremony already (on a worker). The trustee and the sizes are checked here either way.
        Anything else in their place would skip the proofs or the signature.
        """
        who = partial.trustee_id
        if who not in self.result.verification_keys:
            raise InvalidInput(f"{who!r} is not a qualified trustee of this ceremony")
        if who in self._accepted:
            raise InvalidInput(f"a partial decryption from {who} was already accepted")
        try:
            if not signature_checked:
                verify_message(self.result.config, partial)
        except VerificationFailed as exc:
            raise VerificationFailed("partial-decryption", who, exc.detail) from None
        n = len(self.ciphertexts)
        if len(partial.values) != n or len(partial.proofs) != n:
            raise VerificationFailed(
                "partial-decryption", who, f"{len(partial.values)} values for {n} ciphertexts"
            )
        if proofs_ok is not None and len(proofs_ok) == n:
            ok = list(proofs_ok)
        else:
            group = self.result.config.group
            work = functools.partial(_check_chunk, group, self.result.verification_keys[who], self.context)
            ok = map_chunks(work, _proof_items(self.ciphertexts, partial), executor=self.executor)
        bad = [i for i, good in enumerate(ok) if not good]
        if bad:
            shown = ", ".join(map(str, bad[:10])) + (" …" if len(bad) > 10 else "")
            raise VerificationFailed(
                "partial-decryption", who, f"proof fails for {len(bad)} of {n} ciphertexts (index {shown})"
            )
        self._accepted[who] = partial

    def combine_scaled(self) -> tuple[int, list[Element]]:
        """(D, [g^(m·D)]) for every ciphertext: :meth:`combine` raised to the small integer D.

        With λ_j = n_j / D (:func:`lagrange_integers`) no full-length exponent is needed; a caller
        that looks m up among a few values compares with (g^D)^m (the mix-net's anonymous ballots).
        """
        chosen = self._chosen()
        group = self.result.config.group
        scale, numerators = lagrange_integers([self.result.config.index(t) for t in chosen])
        columns = [self._accepted[t].values for t in chosen]
        items = [(ct.b, tuple(col[i] for col in columns)) for i, ct in enumerate(self.ciphertexts)]
        work = functools.partial(_combine_scaled_chunk, group, scale, numerators)
        return scale, map_chunks(work, items, executor=self.executor)

    def _chosen(self) -> tuple[str, ...]:
        """The first t accepted trustees in roster order; RuleViolation if fewer than t are present."""
        config = self.result.config
        present = self.present
        if len(present) < config.threshold:
            raise RuleViolation(
                Rule.NOT_ENOUGH_TRUSTEES,
                f"{len(present)} valid partial decryptions ({', '.join(present) or 'none'}), "
                f"{config.threshold} needed",
            )
        return present[: config.threshold]

    def combine(self) -> list[Element]:
        """g^m for every ciphertext from t accepted partials; RuleViolation if fewer than t are present."""
        config = self.result.config
        chosen = self._chosen()
        group = config.group
        lambdas = lagrange_at_zero([config.index(t) for t in chosen], group.order)
        columns = [self._accepted[t].values for t in chosen]
        items = [(ct.b, tuple(col[i] for col in columns)) for i, ct in enumerate(self.ciphertexts)]
        return map_chunks(functools.partial(_combine_chunk, group, lambdas), items, executor=self.executor)


def threshold_decrypt(
    context: Context,
    result: CeremonyResult,
    ciphertexts: Sequence[Ciphertext],
    partials: Sequence[PartialDecryption],
    *,
    executor: Executor | None = None,
) -> list[Element]:
    """Check all ``partials`` (the first bad one raises) and combine: g^m for each ciphertext."""
    session = ThresholdDecryption(context, result, ciphertexts, executor=executor)
    for partial in partials:
        session.add(partial)
    return session.combine()
