"""``verify_record``: re-check an election record from scratch, check by check (docs/verifier.md).

The verifier reads only the published record: no database, no secret, no network. Each check of
:data:`~degcore.verify.report.CATALOGUE` reports how many items it examined and which failed and
why; a check whose input could not be built is an ERROR, one whose prerequisite failed is SKIPPED.
Ballot checks run on ``executor`` (default: a process pool over all cores; a Dask
``Client.get_executor()`` runs them on a cluster).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from degcore.ballot import ElectionContext, EncryptedBallot
from degcore.board.cast import CastBallot, Policy
from degcore.elgamal import Ciphertext
from degcore.elgamal.dkg import CeremonyConfig, CeremonyResult, check_commitment, finalize
from degcore.elgamal.threshold import PartialDecryption, ThresholdDecryption
from degcore.errors import DegcoreError, VerificationFailed
from degcore.groups import Element
from degcore.issuance import rsabssa
from degcore.mixnet import Row
from degcore.mixnet.cascade import flatten, verify_cascade
from degcore.record import RecordReader, layout
from degcore.tally import EncryptedTally, aggregate, decrypt_tally
from degcore.tally.aggregate import multiply_into
from degcore.tally.mixed import contest_base, mixnet_contests
from degcore.verify.ballots import LogFacts, Products, scan_log
from degcore.verify.report import CATALOGUE, Outcome, Report

__all__ = ["verify_record"]


class _Skip(Exception):
    """A prerequisite of the remaining checks is missing."""


def verify_record(
    path: str | Path, *, executor: Executor | None = None, advance: Callable[[int], object] | None = None
) -> Report:
    """Run every check on the record at ``path``; ``advance(n)`` is told as log lines are done."""
    reader = RecordReader(path)
    report = Report(str(path))
    try:
        _files(reader, report)
        context, config, result = _parameters(reader, report)
        _ceremony(reader, report, config, result)
        pems = _issuer_keys(reader, report, context)
        box_key, policy = reader.box()
        facts = scan_log(
            context,
            pems,
            box_key,
            reader.lines(layout.LOG),
            _problem(report),
            executor=executor,
            advance=advance,
        )
        counted = _uniqueness(report, facts, Policy(policy))
        _close_and_challenges(report, facts, counted)
        tally = _aggregation(reader, report, context, facts, counted)
        mixed = _mixnet(reader, report, context, facts, counted)
        _decryption(reader, report, context, tally, mixed)
    except _Skip:
        pass
    for check_id in CATALOGUE:
        if check_id not in report.checks_run:
            report.check(check_id).outcome = Outcome.SKIP
    return report


def _problem(report: Report) -> Callable[[str, str, str], None]:
    def problem(check_id: str, item: str, reason: str) -> None:
        report.check(check_id).fail(item, reason)

    return problem


def _error(report: Report, check_id: str, exc: Exception) -> _Skip:
    check = report.check(check_id)
    check.outcome, check.note = Outcome.ERROR, f"{type(exc).__name__}: {exc}"
    report.checks_run.add(check_id)
    return _Skip()


def _files(reader: RecordReader, report: Report) -> None:
    check = report.check("V1")
    report.checks_run.add("V1")
    try:
        files = reader.index()["files"]
    except DegcoreError as exc:
        raise _error(report, "V1", exc) from None
    if not isinstance(files, dict):
        raise _error(report, "V1", ValueError("files must map names to hashes"))
    for name, expected in sorted(files.items()):
        check.items += 1
        if not reader.path(name).is_file():
            check.fail(name, "missing")
        elif reader.file_hash(name) != expected:
            check.fail(name, "SHA-256 differs from the index")
    listed = set(files) | {layout.INDEX}
    for extra in sorted(p.relative_to(reader.root).as_posix() for p in reader.root.rglob("*") if p.is_file()):
        if extra not in listed:
            check.fail(extra, "not listed in the index")


def _parameters(
    reader: RecordReader, report: Report
) -> tuple[ElectionContext, CeremonyConfig, CeremonyResult]:
    report.checks_run.add("V2")
    check = report.check("V2")
    try:
        manifest = reader.manifest()
        config = reader.ceremony_config()
        check.items = 2
        if config.group.name != manifest.group or config.election_id != manifest.election_id:
            check.fail("ceremony/config.json", "the ceremony's group or election differs from the manifest's")
            raise _Skip
        result = reader.ceremony_result(config)
        context = ElectionContext(manifest, result)
    except DegcoreError as exc:
        raise _error(report, "V2", exc) from None
    check.note = f"group {manifest.group}, base hash {context.base_hash.hex()}"
    return context, config, result


def _ceremony(
    reader: RecordReader, report: Report, config: CeremonyConfig, published: CeremonyResult
) -> None:
    report.checks_run.add("V3")
    check = report.check("V3")
    try:
        commitments, complaints, answers = reader.ceremony_messages(config)
    except DegcoreError as exc:
        raise _error(report, "V3", exc) from None
    check.items = len(commitments)
    for message in commitments:
        try:
            check_commitment(config, message)
        except VerificationFailed as exc:
            if message.trustee_id in published.qualified:
                check.fail(message.trustee_id, exc.detail)
    try:
        again = finalize(config, commitments, complaints, answers)
    except DegcoreError as exc:
        check.fail("QUAL", str(exc))
        return
    if again.qualified != published.qualified:
        check.fail("QUAL", f"recomputed {list(again.qualified)}, published {list(published.qualified)}")
    if again.joint_key != published.joint_key:
        check.fail("joint key", "is not the product of the qualified trustees' constant commitments")
    for trustee, key in again.verification_keys.items():
        if published.verification_keys.get(trustee) != key:
            check.fail(f"verification key of {trustee}", "does not match the commitments")


def _issuer_keys(reader: RecordReader, report: Report, context: ElectionContext) -> dict[str, bytes]:
    report.checks_run.add("V4")
    check = report.check("V4")
    try:
        keys = reader.issuer_keys()
    except DegcoreError as exc:
        raise _error(report, "V4", exc) from None
    check.items = len(keys)
    for style in context.manifest.styles:
        key = keys.get(style.style_id)
        if key is None:
            check.fail(style.style_id, "no issuer key")
        elif key.key_size < rsabssa.MIN_MODULUS_BITS:
            check.fail(style.style_id, f"{key.key_size}-bit key is below {rsabssa.MIN_MODULUS_BITS}")
    pem = serialization.Encoding.PEM
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return {style: key.public_bytes(pem, spki) for style, key in keys.items()}


def _uniqueness(report: Report, facts: LogFacts, policy: Policy) -> dict[int, str]:
    """V7: the counted ballots (position → style) under the box's policy."""
    for check_id in ("V5", "V6", "V7", "V8"):
        report.checks_run.add(check_id)
    report.check("V5").items = facts.entries
    report.check("V6").items = len(facts.ballots)
    check = report.check("V7")
    check.items = len(facts.ballots)
    check.note = f"policy: {policy}"
    seen: dict[str, int] = {}
    counted: dict[int, str] = {}
    for position, credential, _, style in facts.ballots:
        if credential in seen:
            if policy is Policy.FIRST:
                check.fail(f"entry {position}", f"credential already cast at entry {seen[credential]}")
                continue
            counted.pop(seen[credential], None)  # the last ballot counts
        seen[credential] = position
        counted[position] = style
    return counted


def _close_and_challenges(report: Report, facts: LogFacts, counted: dict[int, str]) -> None:
    v5, v8 = report.check("V5"), report.check("V8")
    summary = facts.closed if isinstance(facts.closed, dict) else {}
    if facts.closed is None:
        v5.fail("log", "the box was never closed")
    elif (summary.get("counted"), summary.get("challenged")) != (len(counted), facts.challenge_entries):
        v5.fail("closing entry", "its counts differ from the log's")
    v8.items = facts.challenge_entries
    cast_codes = {code: position for position, _, code, _ in facts.ballots}
    for code, position in facts.challenged.items():
        if code in cast_codes:
            v8.fail(f"entry {cast_codes[code]}", f"casts the ballot challenged at entry {position}")


def _aggregation(
    reader: RecordReader, report: Report, context: ElectionContext, facts: LogFacts, counted: dict[int, str]
) -> EncryptedTally:
    report.checks_run.add("V9")
    check = report.check("V9")
    try:
        tally = reader.encrypted_tally(context)
    except DegcoreError as exc:
        raise _error(report, "V9", exc) from None
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


def _mixnet(
    reader: RecordReader, report: Report, context: ElectionContext, facts: LogFacts, counted: dict[int, str]
) -> dict[str, tuple[Sequence[Row], list[PartialDecryption]]]:
    """V12 and V13: each mix-net contest's cascade from the counted rows, and the last output's partials."""
    report.checks_run.update({"V12", "V13"})
    v12 = report.check("V12")
    mixed: dict[str, tuple[Sequence[Row], list[PartialDecryption]]] = {}
    for contest_id in mixnet_contests(context):
        rows = [row for position, row in facts.mix_rows.get(contest_id, []) if position in counted]
        try:
            stages = reader.mix_stages(context, contest_id)
            partials = reader.mix_partials(context.ceremony.config, contest_id)
        except DegcoreError as exc:
            raise _error(report, "V12", exc) from None
        v12.items += len(stages)
        last: Sequence[Row] = rows
        if rows and not stages:
            v12.fail(contest_id, f"{len(rows)} counted rows were never mixed")
        elif stages and not rows:
            v12.fail(contest_id, "mix stages without counted ballots")
        elif rows:
            try:
                verify_cascade(context.public_key, rows, stages, contest_base(context, contest_id))
                last = stages[-1].rows
            except DegcoreError as exc:
                where = f"{contest_id} {getattr(exc, 'subject', '')}".strip()
                v12.fail(where, getattr(exc, "detail", "") or str(exc))
                continue
        mixed[contest_id] = (last, _mix_partials(report, context, contest_id, last, partials))
    return mixed


def _mix_partials(
    report: Report,
    context: ElectionContext,
    contest_id: str,
    rows: Sequence[Row],
    partials: list[PartialDecryption],
) -> list[PartialDecryption]:
    v13 = report.check("V13")
    v13.items += len(partials)
    if not rows:
        return partials
    session = ThresholdDecryption(context.ceremony, flatten(rows), context.base_hash)
    return _accepted(session, partials, lambda trustee, why: v13.fail(f"{contest_id}/{trustee}", why))


def _accepted(
    session: ThresholdDecryption, partials: list[PartialDecryption], fail: Callable[[str, str], None]
) -> list[PartialDecryption]:
    """The partials whose every proof holds; each other one is reported through ``fail``."""
    good = []
    for partial in partials:
        try:
            session.add(partial)
            good.append(partial)
        except DegcoreError as exc:
            fail(partial.trustee_id, str(exc))
    return good


def _decryption(
    reader: RecordReader,
    report: Report,
    context: ElectionContext,
    tally: EncryptedTally,
    mixed: dict[str, tuple[Sequence[Row], list[PartialDecryption]]],
) -> None:
    report.checks_run.update({"V10", "V11"})
    v10, v11 = report.check("V10"), report.check("V11")
    try:
        partials = reader.partials(context.ceremony.config)
        published = reader.result()
    except DegcoreError as exc:
        raise _error(report, "V10", exc) from None
    v10.items = len(partials)
    session = ThresholdDecryption(context.ceremony, tally.ciphertexts(), context.base_hash)
    good = _accepted(session, partials, v10.fail)
    v11.items = len(tally.ciphertexts())
    try:
        recomputed = decrypt_tally(context, tally, good, mixed=mixed).to_json()
    except DegcoreError as exc:
        v11.fail("result", str(exc))
        return
    if not isinstance(published, dict):
        v11.fail("result", "tally/result.json is not an object")
        return
    for key in ("totals", "by_style", "by_district", "ballots", "trustees", "anonymous_ballots"):
        if published.get(key) != recomputed[key]:
            v11.fail(key, "differs from the decrypted counts")
