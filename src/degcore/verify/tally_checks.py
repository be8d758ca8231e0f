"""Checks V9–V13: the encrypted tally, the mix-net cascades, the partial decryptions and the result.

docs/verifier.md. Each works on its own inputs: a mix-net contest that fails V12 leaves the
homomorphic contests' V10 and V11 to run; a bad partial fails that trustee's partial, not the check.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future

from degcore.ballot import ElectionContext, EncryptedBallot
from degcore.board.cast import CastBallot
from degcore.elgamal import Ciphertext
from degcore.encoding import JsonValue, canonical_json
from degcore.errors import DegcoreError, VerificationFailed
from degcore.groups import Element
from degcore.mixnet import Row
from degcore.mixnet.cascade import flatten, start_later_stages, verify_cascade
from degcore.mixnet.proof import forget_prepared_generators
from degcore.parallel import SERIAL
from degcore.record import RecordReader, layout
from degcore.record.reader import Parsed, in_roster_order, mix_partials_folder, parse_partial
from degcore.tally import EncryptedTally, aggregate, decrypt_tally
from degcore.tally.aggregate import multiply_into
from degcore.tally.mixed import SignedStage, contest_base, mixnet_contests
from degcore.trustees.dkg import CeremonyConfig
from degcore.trustees.signing import verify_message
from degcore.trustees.threshold import (
    PartialDecryption,
    ThresholdDecryption,
    check_partial_proofs,
    context_bytes,
)
from degcore.verify.ballots import LogFacts, Products
from degcore.verify.report import CheckResult, Report

#: What a worker checked of a partial ahead: per ciphertext whether its proof holds (None: not
#: checked), and whether its signature verified (ThresholdDecryption.add's proofs_ok and
#: signature_checked).
WorkerChecks = tuple[list[bool] | None, bool]

__all__ = ["Mixed", "check_aggregation", "check_decryption", "check_mixnet"]

#: Per mix-net contest: the rows the cascade output, and the session of their accepted partials.
PartialFiles = list[tuple[str, PartialDecryption | DegcoreError]]
Mixed = dict[str, tuple[Sequence[Row], ThresholdDecryption | list[PartialDecryption]]]
_RESULT_KEYS = ("totals", "by_style", "by_district", "ballots", "trustees", "anonymous_ballots")


def check_aggregation(
    reader: RecordReader,
    check: CheckResult,
    context: ElectionContext,
    facts: LogFacts,
    counted: dict[int, str],
) -> EncryptedTally:
    """V9: every published total is the product of the counted ballots' ciphertexts."""
    tally = reader.encrypted_tally(context)
    products = facts.products
    superseded = {p for p, _, _, _ in facts.ballots} - set(counted)
    if superseded:  # policy "last" (or a failed V7): divide the ballots that do not count back out
        products = _without(reader, context, products, superseded)
    expected = aggregate(context, [])
    check.items = len(expected.totals)
    for key, zero in expected.totals.items():
        values = products.get(key)
        want = zero if values is None else tuple(_pairs(values))
        if tally.totals.get(key) != want:
            check.fail(f"{key[0]}/{key[1]}", "differs from the product of the counted ballots")
    per_style = Counter(counted.values())
    for style, n in tally.ballots.items():
        if per_style.get(style, 0) != n:
            check.fail(f"ballots of {style}", f"tally says {n}, the log counts {per_style.get(style, 0)}")
    return tally


def _pairs(values: list[Element]) -> list[Ciphertext]:
    return [Ciphertext(values[i], values[i + 1]) for i in range(0, len(values), 2)]


def _without(
    reader: RecordReader, context: ElectionContext, products: Products, positions: set[int]
) -> Products:
    out = dict(products)
    group = context.group
    for line in reader.lines(layout.LOG):
        entry = json.loads(line)
        if entry.get("position") in positions:
            ballot: EncryptedBallot = CastBallot.from_json(context, entry["payload"]).ballot
            for contest in ballot.contests:
                inverse = [group.inv(e) for ct in contest.ciphertexts for e in (ct.a, ct.b)]
                multiply_into(group, out, (ballot.style_id, contest.contest_id), inverse)
    return out


class MixFiles:
    """Each mix-net contest's stages and trustees' partials, parsed (or the error of parsing them).

    On a pool (:meth:`start`), while the workers scan the log: the parent parses the stages and
    checks every stage after the first (their inputs are published), and the pool parses each
    trustee's partial and checks its proofs. :func:`check_mixnet` takes these outcomes where it
    would have computed them, so the report is the one of checking in order. Without ``start``
    the files are read on demand.
    """

    def __init__(self, reader: RecordReader, context: ElectionContext) -> None:
        self._reader, self._context = reader, context
        # Whatever reading raised is kept and raised where the file is used, so it is reported
        # under the check that uses it, as when the files are read on demand.
        self._read: dict[str, tuple[list[SignedStage] | Exception, PartialFiles | Exception]] = {}
        self._pending: dict[str, list[tuple[str, Future[tuple[Parsed, WorkerChecks]]]]] = {}
        self._stages_started: dict[str, dict[int, Future[None]]] = {}
        self._checked: dict[tuple[str, str], WorkerChecks] = {}

    def start(self, executor: Executor) -> MixFiles:
        """Read every mix-net contest's files, and start the checks that need none of the log."""
        context = self._context
        config = context.ceremony.config
        for contest_id in mixnet_contests(context):
            stages: list[SignedStage] | Exception
            try:
                stages = self._reader.mix_stages(context, contest_id)
            except Exception as exc:  # raised again where the stages are used
                stages = exc
            try:
                sources = self._reader.partial_sources(mix_partials_folder(contest_id))
            except Exception as exc:  # raised again where the partials are used
                self._read[contest_id] = (stages, exc)
                continue
            if isinstance(stages, Exception) or not stages:
                parsed = [(name, parse_partial(config, name, obj)) for name, obj in sources]
                self._read[contest_id] = (stages, in_roster_order(config, parsed))
                continue
            self._stages_started[contest_id] = start_later_stages(
                context.public_key, [s.stage for s in stages], contest_base(context, contest_id), SERIAL
            )
            work = functools.partial(
                _partial_task,
                config,
                dict(context.ceremony.verification_keys),
                context_bytes(context),
                # The a of each ciphertext the trustees decrypt, as one string: all a proof
                # needs, and cheaper to send to each task than the ciphertexts as objects.
                b"".join([bytes(ct.a) for ct in flatten(stages[-1].stage.rows)]),
            )
            self._pending[contest_id] = [(name, executor.submit(work, name, obj)) for name, obj in sources]
            self._read[contest_id] = (stages, [])
        return self

    def started_stages(self, contest_id: str) -> dict[int, Future[None]]:
        """The stage checks :meth:`start` submitted for the contest (none if it did not run)."""
        return self._stages_started.get(contest_id, {})

    def close(self) -> None:
        """Drop what :meth:`start` derived ahead for a check that did not run (a stage's generators)."""
        forget_prepared_generators()

    def checked(self, contest_id: str, trustee_id: str) -> WorkerChecks:
        """What :meth:`start`'s task found of the trustee's partial: per ciphertext whether its proof
        holds (None: not checked), and whether its signature verified."""
        self._files(contest_id, with_partials=True)
        return self._checked.get((contest_id, trustee_id), (None, False))

    def _files(
        self, contest_id: str, *, with_partials: bool
    ) -> tuple[list[SignedStage] | Exception, PartialFiles | Exception]:
        # The stages are asked for first, and the first stage is checked in the parent while the
        # pool still parses the partials: so only a caller of the partials waits for them.
        pending = self._pending.pop(contest_id, None) if with_partials else None
        if pending is not None:
            parsed: list[tuple[str, Parsed]] = []
            for name, future in pending:
                partial, checks = future.result()
                parsed.append((name, partial))
                if isinstance(partial, PartialDecryption):
                    self._checked[(contest_id, partial.trustee_id)] = checks
            stages = self._read[contest_id][0]
            self._read[contest_id] = (stages, in_roster_order(self._context.ceremony.config, parsed))
        if contest_id not in self._read:
            stages_read: list[SignedStage] | Exception
            partials: PartialFiles | Exception
            try:
                stages_read = self._reader.mix_stages(self._context, contest_id)
            except Exception as exc:  # raised again where the stages are used
                stages_read = exc
            try:
                partials = self._reader.mix_partial_files(self._context.ceremony.config, contest_id)
            except Exception as exc:  # raised again where the partials are used
                partials = exc
            self._read[contest_id] = (stages_read, partials)
        return self._read[contest_id]

    def stages(self, contest_id: str) -> list[SignedStage]:
        """The contest's stages in order; raises what parsing them raised."""
        stages = self._files(contest_id, with_partials=False)[0]
        if isinstance(stages, Exception):
            raise stages
        return stages

    def partials(self, contest_id: str) -> PartialFiles:
        """Every trustee's partial decryption of the contest's last output, each parsed or its error."""
        partials = self._files(contest_id, with_partials=True)[1]
        if isinstance(partials, Exception):
            raise partials
        return partials


def _partial_task(  # noqa: PLR0917 - a pool task: what it needs, then its file
    config: CeremonyConfig,
    keys: dict[str, Element],
    bound: bytes,
    first_parts: bytes,
    name: str,
    obj: object,
) -> tuple[Parsed, WorkerChecks]:
    """On a worker: one trustee's partial parsed from its file, its signature and proofs checked.

    ``first_parts``: the encodings of the decrypted ciphertexts' a, which the parent decoded.
    A partial whose signature fails is left for the parent's ThresholdDecryption.add to refuse,
    in its words.
    """
    partial = parse_partial(config, name, obj)
    if not isinstance(partial, PartialDecryption):
        return partial, (None, False)
    try:
        verify_message(config, partial)
    except VerificationFailed:
        return partial, (None, False)
    firsts = config.group.decode_many(first_parts)  # decoded here: the parent's points do not cross
    return partial, (check_partial_proofs(config.group, keys, bound, firsts, partial), True)


def check_mixnet(  # noqa: PLR0917 - the record, the report, the context, what the log gave
    reader: RecordReader,
    report: Report,
    context: ElectionContext,
    facts: LogFacts,
    counted: dict[int, str],
    executor: Executor | None = None,
    files: MixFiles | None = None,
) -> Mixed:
    """V12 and V13: each contest's cascade, signed stage by stage by its servers, then its partials."""
    report.checks_run.update({"V12", "V13"})
    v12 = report.check("V12")
    servers = context.setup.mix_servers if context.setup is not None else {}
    mixed: Mixed = {}
    files = files or MixFiles(reader, context)
    for contest_id in mixnet_contests(context):
        rows = [row for position, row in facts.mix_rows.get(contest_id, []) if position in counted]
        cascade = servers.get(contest_id, ())
        try:
            stages = files.stages(contest_id)
        except DegcoreError as exc:
            v12.fail(contest_id, str(exc))
            continue
        v12.items += len(stages)
        last: Sequence[Row] = rows
        if rows and len(stages) != len(cascade):
            v12.fail(contest_id, f"{len(stages)} stages; the setup names {len(cascade)} mix servers")
            continue
        if stages and not rows:
            v12.fail(contest_id, "mix stages without counted ballots")
            continue
        if rows:
            try:
                for stage, server in zip(stages, cascade, strict=True):
                    stage.verify(server)
                verify_cascade(
                    context.public_key,
                    rows,
                    [s.stage for s in stages],
                    contest_base(context, contest_id),
                    executor=executor,
                    started=files.started_stages(contest_id),
                )
                last = stages[-1].stage.rows
            except DegcoreError as exc:
                where = f"{contest_id} {getattr(exc, 'subject', '')}".strip()
                v12.fail(where, getattr(exc, "detail", "") or str(exc))
                continue
        partials = _read_partials(report.check("V13"), files.partials(contest_id))
        checked = {p.trustee_id: files.checked(contest_id, p.trustee_id) for p in partials}
        accepted = _mix_partials(report.check("V13"), context, contest_id, last, partials, executor, checked)
        mixed[contest_id] = (last, accepted)
    return mixed


def _read_partials(check: CheckResult, files: PartialFiles) -> list[PartialDecryption]:
    """The partials that parsed; each file that did not fails on its own."""
    good = []
    for name, partial in files:
        check.items += 1
        if isinstance(partial, DegcoreError):
            check.fail(name, str(partial))
        else:
            good.append(partial)
    return good


def _mix_partials(  # noqa: PLR0917 - private, called once
    check: CheckResult,
    context: ElectionContext,
    contest_id: str,
    rows: Sequence[Row],
    partials: list[PartialDecryption],
    executor: Executor | None,
    checked: Mapping[str, WorkerChecks],
) -> ThresholdDecryption | list[PartialDecryption]:
    if not rows:
        return partials
    session = ThresholdDecryption(context, context.ceremony, flatten(rows), executor=executor)
    _accept(session, partials, lambda trustee, why: check.fail(f"{contest_id}/{trustee}", why), checked)
    return session


def _accept(
    session: ThresholdDecryption,
    partials: list[PartialDecryption],
    fail: Callable[[str, str], None],
    checked: Mapping[str, WorkerChecks] | None = None,
) -> None:
    """Add each partial whose every proof holds to ``session``; report each other one through ``fail``.

    ``checked``: per trustee, what was checked of its partial already (MixFiles.start).
    """
    for partial in partials:
        proofs_ok, signed = (checked or {}).get(partial.trustee_id, (None, False))
        try:
            session.add(partial, proofs_ok=proofs_ok, signature_checked=signed)
        except DegcoreError as exc:
            fail(partial.trustee_id, str(exc))


def check_decryption(  # noqa: PLR0917 - the record, the report, the context, what was checked before
    reader: RecordReader,
    report: Report,
    context: ElectionContext,
    tally: EncryptedTally,
    mixed: Mixed,
    executor: Executor | None = None,
) -> None:
    """V10 and V11: the tally's partials, then the result recomputed from the accepted ones."""
    report.checks_run.update({"V10", "V11"})
    v10, v11 = report.check("V10"), report.check("V11")
    partials = _read_partials(v10, reader.partial_files(context.ceremony.config))
    session = ThresholdDecryption(context, context.ceremony, tally.ciphertexts(), executor=executor)
    _accept(session, partials, v10.fail)
    v11.items = len(tally.ciphertexts()) + sum(len(rows) for rows, _ in mixed.values())
    try:
        published = reader.result()
    except DegcoreError as exc:
        v11.fail(layout.RESULT, str(exc))
        return
    try:
        # The sessions hold the partials V10 and V13 accepted: no proof is checked a second time.
        recomputed = decrypt_tally(context, tally, session, mixed=mixed, executor=executor).to_json()
    except DegcoreError as exc:
        v11.fail("result", str(exc))
        return
    if not isinstance(published, dict) or set(published) != set(recomputed):
        v11.fail(layout.RESULT, f"must have exactly the keys {sorted(recomputed)}")
        return
    published, recomputed = dict(published), dict(recomputed)
    for contest_id in mixnet_contests(context):
        if contest_id in mixed:
            continue
        # Its cascade failed V12: its anonymous ballots and totals cannot be recomputed, only refused.
        v11.fail(f"anonymous_ballots/{contest_id}", "not verified: the contest's mix-net failed V12")
        for key in ("totals", "anonymous_ballots"):
            published[key] = _without_key(published[key], contest_id)
            recomputed[key] = _without_key(recomputed[key], contest_id)
    for key in _RESULT_KEYS:
        _compare(v11, key, published[key], recomputed[key])


def _without_key(value: object, key: str) -> JsonValue:
    return {k: v for k, v in value.items() if k != key} if isinstance(value, Mapping) else value  # type: ignore[return-value]


def _compare(check: CheckResult, where: str, published: object, recomputed: JsonValue) -> None:
    """Name every leaf that differs, comparing canonical bytes (so ``true`` is not ``1``)."""
    if canonical_json(published) == canonical_json(recomputed):  # type: ignore[arg-type]
        return
    if isinstance(published, Mapping) and isinstance(recomputed, Mapping):
        for key in sorted(set(published) | set(recomputed)):
            if key not in published or key not in recomputed:
                check.fail(
                    f"{where}/{key}", "missing" if key not in published else "not in the recomputed result"
                )
            else:
                _compare(check, f"{where}/{key}", published[key], recomputed[key])
        return
    check.fail(where, f"published {json.dumps(published)[:200]}, decrypted {json.dumps(recomputed)[:200]}")
