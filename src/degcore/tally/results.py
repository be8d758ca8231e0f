"""Decrypting the encrypted tally and the result object (docs/protocol.md §10)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

from degcore.ballot import ElectionContext
from degcore.elgamal import dlog
from degcore.encoding import JsonValue, record_header
from degcore.errors import VerificationFailed
from degcore.mixnet import Row
from degcore.tally.aggregate import EncryptedTally
from degcore.tally.mixed import checked_session, decrypt_rows
from degcore.trustees.threshold import PartialDecryption, ThresholdDecryption

__all__ = ["Result", "decrypt_tally"]

Counts = dict[str, dict[str, int]]  # contest → option → votes


@dataclass(frozen=True, slots=True)
class Result:
    """Counts per contest (all styles), per ballot style and per district, and the decryption proofs."""

    totals: Counts
    by_style: dict[str, Counts]
    by_district: dict[str, Counts]
    ballots: dict[str, int]
    trustees: tuple[str, ...]
    #: The accepted partial decryptions (values and DLEQ proofs) of the trustees in ``trustees``.
    partials: tuple[PartialDecryption, ...] = field(default=(), repr=False)
    #: Mix-net contests: the decrypted rows of the last mix stage, in its order (votes per option).
    anonymous_ballots: dict[str, list[list[int]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, JsonValue]:
        """The canonical JSON object (``tally/result.json`` in the record)."""
        return {
            **record_header("result"),
            "totals": self.totals,
            "by_style": self.by_style,
            "by_district": self.by_district,
            "ballots": self.ballots,
            "trustees": list(self.trustees),
            "anonymous_ballots": self.anonymous_ballots,
        }


def decrypt_tally(
    context: ElectionContext,
    tally: EncryptedTally,
    partials: Sequence[PartialDecryption] | ThresholdDecryption,
    *,
    mixed: Mapping[str, tuple[Sequence[Row], Sequence[PartialDecryption] | ThresholdDecryption]]
    | None = None,
    executor: Executor | None = None,
) -> Result:
    """Check every partial (a bad one raises naming its trustee), combine t of them, take discrete logs.

    A :class:`ThresholdDecryption` in place of a list of partials is a session of the same
    ciphertexts whose partials were checked already (the verifier's V10 and V13): they are not
    checked again. Raises RuleViolation(not_enough_trustees) if fewer than t valid partials are given.
    """
    session = checked_session(context, tally.ciphertexts(), partials, executor)
    plain = session.combine()
    manifest = context.manifest
    by_style: dict[str, Counts] = {}
    position = 0
    for style, contest_id in tally.order():
        contest = manifest.contest(contest_id)
        bound = tally.ballots[style] * contest.max_per_option
        counts = {}
        for option in contest.options:
            try:
                counts[option.option_id] = dlog(context.group, plain[position], bound)
            except VerificationFailed:
                where = f"{style}/{contest_id}/{option.option_id}"
                raise VerificationFailed("tally", where, f"no count in [0, {bound}]") from None
            position += 1
        by_style.setdefault(style, {})[contest_id] = counts
    totals: Counts = {}
    for contests in by_style.values():
        for contest_id, counts in contests.items():
            merged = totals.setdefault(contest_id, dict.fromkeys(counts, 0))
            for option_id, n in counts.items():
                merged[option_id] += n
    # A district has its own result when no other district shares its ballot style.
    sharing = {
        s.style_id: [d for d in manifest.districts if d.style_id == s.style_id] for s in manifest.styles
    }
    by_district = {ds[0].district_id: by_style[style] for style, ds in sharing.items() if len(ds) == 1}
    anonymous: dict[str, list[list[int]]] = {}
    for contest_id, (rows, contest_partials) in (mixed or {}).items():
        decoded = decrypt_rows(context, contest_id, rows, contest_partials, executor=executor)
        anonymous[contest_id] = [list(row) for row in decoded]
        options = [o.option_id for o in manifest.contest(contest_id).options]
        totals[contest_id] = {o: sum(row[i] for row in decoded) for i, o in enumerate(options)}
    used = session.present[: context.ceremony.config.threshold]
    proofs = tuple(p for p in session.accepted if p.trustee_id in used)
    return Result(totals, by_style, by_district, dict(tally.ballots), used, proofs, anonymous)
