"""A cascade of mix servers, then threshold decryption of every output row (docs/mixnet.md §3).

Stage k (k = 1 … K) takes the previous stage's output (the first takes the input rows), shuffles it
and publishes its output with a proof under the context
``sha256("degcore/4/mix-stage", base_hash, u32(k))``, so a proof cannot be moved to another stage or
election. After the last stage the trustees decrypt every ciphertext of every output row with
:mod:`degcore.trustees.threshold`, in row order.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass

from degcore.elgamal import Ciphertext, PublicKey
from degcore.errors import DegcoreError, InvalidInput, VerificationFailed
from degcore.groups import Element
from degcore.hashing import sha256
from degcore.mixnet.proof import ShuffleProof, prepare_generators, prove, verify, weighted_terms
from degcore.mixnet.shuffle import Row, check_rows, shuffle
from degcore.parallel import SERIAL, is_serial, resolve_executor

__all__ = ["MixStage", "flatten", "mix", "stage_context", "start_later_stages", "unflatten", "verify_cascade"]


def stage_context(base_hash: bytes, stage: int) -> bytes:
    """The Fiat–Shamir context of stage ``stage`` (1-based) of an election's cascade."""
    return sha256(b"degcore/4/mix-stage", base_hash, stage.to_bytes(4, "big"))


@dataclass(frozen=True, slots=True)
class MixStage:
    """One mix server's published output and proof."""

    stage: int
    rows: tuple[Row, ...]
    proof: ShuffleProof


def mix(
    pk: PublicKey, rows: Sequence[Row], base_hash: bytes, stage: int, *, executor: Executor | None = None
) -> MixStage:
    """Run mix server ``stage`` on ``rows``: shuffle, prove, publish."""
    out, witness = shuffle(pk, rows, executor=executor)
    proof = prove(pk, rows, out, witness, stage_context(base_hash, stage), executor=executor)
    return MixStage(stage, tuple(out), proof)


def start_later_stages(
    pk: PublicKey, stages: Sequence[MixStage], base_hash: bytes, executor: Executor
) -> dict[int, Future[None]]:
    """Submit the check of every stage after the first, whose input is published: stage → its future.

    A verifier starts these while it still reads the first stage's input from the ballot box log,
    and hands them to :func:`verify_cascade` as ``started``; the first stage's generators are
    derived here too, for its check there. Nothing is started for stages that are
    not numbered 1, 2, … in order (verify_cascade refuses those first).
    """
    if [s.stage for s in stages] != list(range(1, len(stages) + 1)):
        return {}
    # The first stage waits for its input (the log); its generators need only its size (the same
    # as its output's, or its check fails on the sizes anyway): derived now, kept for its check.
    prepare_generators(pk.group, stage_context(base_hash, 1), len(stages[0].rows))
    pairs = list(itertools.pairwise(stages))
    # Run here (SERIAL), the later stages' equations go in one MSM, as verify_cascade puts a whole
    # cascade's on one core; only if it fails is each stage checked alone, to name the false one.
    if len(pairs) > 1 and is_serial(executor) and pk.group.batches:
        inputs, later = [previous.rows for previous, _ in pairs], [stage for _, stage in pairs]
        if _stages_hold(pk, inputs, later, base_hash):
            return {stage.stage: executor.submit(_held) for stage in later}
    return {
        stage.stage: executor.submit(_verify_stage, pk, previous.rows, stage, base_hash, SERIAL)
        for previous, stage in pairs
    }


def _held() -> None:
    """A stage check's outcome when the stages' joint check already held."""


def verify_cascade(
    pk: PublicKey,
    rows: Sequence[Row],
    stages: Sequence[MixStage],
    base_hash: bytes,
    *,
    executor: Executor | None = None,
    started: Mapping[int, Future[None]] | None = None,
) -> None:
    """Check every stage's proof against the previous output; VerificationFailed names the stage.

    ``started``: checks of later stages already submitted by :func:`start_later_stages` for these
    stages; their outcomes are taken in stage order, as if each were checked here.
    """
    if not stages:
        raise InvalidInput("a cascade needs at least one mix stage")
    for expected, stage in enumerate(stages, start=1):
        if stage.stage != expected:
            raise VerificationFailed("shuffle", f"stage {stage.stage}", f"expected stage {expected}")
    inputs = [rows, *(stage.rows for stage in stages[:-1])]
    pool = resolve_executor(executor, len(rows))
    if started:
        # The others run on the pool already: this one here, where its data is.
        for previous, stage in zip(inputs, stages, strict=True):
            future = started.get(stage.stage)
            if future is None:
                _verify_stage(pk, previous, stage, base_hash, SERIAL)
            else:
                future.result()
        return
    if len(stages) == 1 or is_serial(pool):
        if pk.group.batches and is_serial(pool) and _stages_hold(pk, inputs, stages, base_hash):
            return
        for previous, stage in zip(inputs, stages, strict=True):
            _verify_stage(pk, previous, stage, base_hash, pool)
        return
    # Each stage's proof stands on its own published input and output: one task per stage keeps
    # every worker busy, where splitting each of a stage's few-hundred-term MSMs would not pay
    # for the round trips. The first failing stage in order is the one reported, as in a loop.
    futures = [
        pool.submit(_verify_stage, pk, previous, stage, base_hash, SERIAL)
        for previous, stage in zip(inputs, stages, strict=True)
    ]
    for future in futures:
        future.result()


def _stages_hold(
    pk: PublicKey, inputs: Sequence[Sequence[Row]], stages: Sequence[MixStage], base_hash: bytes
) -> bool:
    """Every stage's equations in one multi-exponentiation; False (or a malformed proof) sends the
    caller to the stage-by-stage check, which names the stage and the equation.

    One MSM of all stages costs less per term than one per stage, and a stage's output rows are
    the next stage's input rows, so their bases merge. Each stage's equations carry their own
    fresh weights, so a false equation anywhere passes with probability at most 2^-128.
    """
    group = pk.group
    terms: dict[Element, int] = {}
    try:
        for previous, stage in zip(inputs, stages, strict=True):
            context = stage_context(base_hash, stage.stage)
            for base, k in weighted_terms(pk, previous, stage.rows, stage.proof, context).items():
                terms[base] = terms.get(base, 0) + k
    except DegcoreError:
        return False
    q = group.order
    return group.is_identity(group.multi_exp(list(terms), [k % q for k in terms.values()]))


def _verify_stage(
    pk: PublicKey, previous: Sequence[Row], stage: MixStage, base_hash: bytes, executor: Executor
) -> None:
    verify(
        pk,
        previous,
        stage.rows,
        stage.proof,
        stage_context(base_hash, stage.stage),
        executor=executor,
        subject=f"stage {stage.stage}",
    )


def flatten(rows: Sequence[Row]) -> list[Ciphertext]:
    """Every ciphertext of every row, row by row: the list the trustees decrypt."""
    check_rows(rows)
    return [ct for row in rows for ct in row]


def unflatten(values: Sequence[object], width: int) -> list[tuple[object, ...]]:
    """Regroup decrypted values into rows of ``width``."""
    if width < 1 or len(values) % width:
        raise InvalidInput(f"{len(values)} values do not form rows of width {width}")
    return [tuple(values[i : i + width]) for i in range(0, len(values), width)]
