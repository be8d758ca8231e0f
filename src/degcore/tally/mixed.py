"""Mix-net contests: the counted ballots' rows through the cascade, then every row decrypted.

docs/mixnet.md §3, docs/protocol.md §10.2. For a contest whose manifest ``tally`` is ``mixnet``,
each counted ballot contributes one row: its option ciphertexts, in manifest order, in log order.
K mix servers shuffle the rows (``degcore.mixnet.cascade``); the trustees decrypt every ciphertext
of the last output; each row becomes an anonymous ballot (votes per option).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from nacl.signing import SigningKey

from degcore.ballot import ElectionContext, EncryptedBallot, MixServer
from degcore.chain import sign_object, verify_object
from degcore.elgamal import Ciphertext
from degcore.elgamal._codec import json_list
from degcore.encoding import JsonValue, from_hex, read_record, record_header
from degcore.errors import InvalidInput, VerificationFailed
from degcore.groups import Group
from degcore.hashing import sha256
from degcore.ids import check_id
from degcore.mixnet import Row, ShuffleProof
from degcore.mixnet.cascade import MixStage, flatten, mix, unflatten
from degcore.trustees.threshold import PartialDecryption, ThresholdDecryption

__all__ = [
    "MixedContest",
    "SignedStage",
    "contest_base",
    "decrypt_rows",
    "mix_contests",
    "mixnet_contests",
    "mixnet_rows",
    "run_stage",
    "stage_from_json",
]


def mixnet_contests(context: ElectionContext) -> list[str]:
    """The ids of the manifest's mix-net contests, in manifest order."""
    return [c.contest_id for c in context.manifest.contests if c.tally == "mixnet"]


def mixnet_rows(context: ElectionContext, ballots: Iterable[EncryptedBallot]) -> dict[str, list[Row]]:
    """Each mix-net contest's input: one row per ballot that has the contest, in the given order."""
    wanted = set(mixnet_contests(context))
    rows: dict[str, list[Row]] = {c: [] for c in wanted}
    for ballot in ballots:
        for contest in ballot.contests:
            if contest.contest_id in wanted:
                rows[contest.contest_id].append(contest.ciphertexts)
    return rows


@dataclass(frozen=True, slots=True)
class SignedStage:
    """One mix server's stage as published: the stage, who ran it, and its signed JSON object."""

    stage: MixStage
    server_id: str
    signed: Mapping[str, JsonValue]

    def to_json(self) -> dict[str, JsonValue]:
        """``mix/<contest>/stage-<k>.json``: signed by the server's key of the election setup."""
        return dict(self.signed)

    def verify(self, server: MixServer) -> None:
        """The stage is signed by ``server``, the setup's server for this stage."""
        if self.server_id != server.server_id:
            raise VerificationFailed("mix-stage", f"stage {self.stage.stage}", f"run by {self.server_id!r}")
        verify_object(self.signed, server.key, "mix-stage")


@dataclass(frozen=True, slots=True)
class MixedContest:
    """One contest's cascade: its input rows and every stage's output, proof and server signature."""

    contest_id: str
    rows: tuple[Row, ...]
    stages: tuple[SignedStage, ...]

    @property
    def output(self) -> tuple[Row, ...]:
        """The last stage's rows: what the trustees decrypt."""
        return self.stages[-1].stage.rows if self.stages else self.rows


def mix_contests(
    context: ElectionContext,
    rows: Mapping[str, Sequence[Row]],
    servers: Mapping[str, Sequence[tuple[str, SigningKey]]],
    *,
    executor: Executor | None = None,
) -> dict[str, MixedContest]:
    """Each contest's rows through its cascade of servers (id, signing key), in the setup's order.

    In a real election each server runs its own stage (:func:`run_stage`) on its own machine; this
    runs them all in one process. Contests without ballots are not mixed.
    """
    out = {}
    for contest_id, contest_rows in rows.items():
        done: list[SignedStage] = []
        current: Sequence[Row] = contest_rows
        if contest_rows:
            for k, (server_id, key) in enumerate(servers[contest_id], start=1):
                signed = run_stage(context, contest_id, current, k, server_id, key, executor=executor)
                done.append(signed)
                current = signed.stage.rows
        out[contest_id] = MixedContest(contest_id, tuple(contest_rows), tuple(done))
    return out


def run_stage(  # noqa: PLR0917 - the stage's inputs, then who runs it
    context: ElectionContext,
    contest_id: str,
    rows: Sequence[Row],
    stage: int,
    server_id: str,
    key: SigningKey,
    *,
    executor: Executor | None = None,
) -> SignedStage:
    """Mix server ``server_id`` runs stage ``stage`` of a contest: shuffle, prove, sign."""
    mixed = mix(context.public_key, rows, contest_base(context, contest_id), stage, executor=executor)
    body = _stage_body(context, contest_id, mixed, server_id)
    return SignedStage(mixed, server_id, sign_object(key, body))


def contest_base(context: ElectionContext, contest_id: str) -> bytes:
    """Each contest's cascade has its own stage contexts: derived from the base hash and the contest id."""
    return sha256(b"degcore/4/mix-contest", context.base_hash, contest_id.encode())


def checked_session(
    context: ElectionContext,
    ciphertexts: Sequence[Ciphertext],
    partials: Sequence[PartialDecryption] | ThresholdDecryption,
    executor: Executor | None,
) -> ThresholdDecryption:
    """A decryption session of ``ciphertexts`` holding ``partials``, each checked once."""
    if isinstance(partials, ThresholdDecryption):
        if not partials.holds(ciphertexts):
            raise InvalidInput("the checked decryption session is of other ciphertexts")
        return partials
    session = ThresholdDecryption(context, context.ceremony, ciphertexts, executor=executor)
    for partial in partials:
        session.add(partial)
    return session


def decrypt_rows(
    context: ElectionContext,
    contest_id: str,
    rows: Sequence[Row],
    partials: Sequence[PartialDecryption] | ThresholdDecryption,
    *,
    executor: Executor | None = None,
) -> list[tuple[int, ...]]:
    """Check the partial decryptions of the flattened rows, combine them and read each anonymous ballot.

    ``partials`` may instead be a session of these rows whose partials were checked already (the
    verifier's V13), so that no proof is checked twice.
    """
    if not rows:
        return []
    contest = context.manifest.contest(contest_id)
    session = checked_session(context, flatten(rows), partials, executor)
    # Each value is one of 0 … max_per_option: look up g^(m·D) among those few powers.
    scale, powers = session.combine_scaled()
    group = context.group
    step = group.exp_g_vartime(scale)
    votes, acc = {}, group.identity()
    for m in range(contest.max_per_option + 1):
        votes[acc] = m
        acc = acc * step
    values = []
    for i, element in enumerate(powers):
        if element not in votes:
            where = f"{contest_id} row {i // len(contest.options)}"
            raise VerificationFailed("mixnet-decryption", where, "not a valid vote")
        values.append(votes[element])
    return [tuple(int(str(v)) for v in row) for row in unflatten(values, len(contest.options))]


def _stage_body(
    context: ElectionContext, contest_id: str, stage: MixStage, server_id: str
) -> dict[str, JsonValue]:
    return {
        **record_header("mix-stage"),
        "contest": contest_id,
        "stage": stage.stage,
        "server": server_id,
        "rows": [[bytes(ct).hex() for ct in row] for row in stage.rows],
        "proof": stage.proof.to_json(context.group),
    }


def _cell(group: Group, data: bytes, what: str) -> Ciphertext:
    try:
        return Ciphertext.decode(group, data)
    except InvalidInput as exc:
        raise type(exc)(f"{what}: {exc}") from None


def stage_from_json(context: ElectionContext, obj: object) -> tuple[str, SignedStage]:
    """Parse a stage file strictly (every element decoded with its membership check)."""
    f = read_record(obj, "mix-stage", {"contest", "stage", "server", "rows", "proof", "signature"})
    group = context.group
    size = 2 * group.element_bytes
    cells = [
        [from_hex(c, size, f"rows[{i}]") for c in json_list(row, f"rows[{i}]")]
        for i, row in enumerate(json_list(f["rows"], "rows"))
    ]
    try:  # every element of the stage in one decoding call; a bad one is then named by its row
        points = iter(group.decode_many(b"".join(c for row in cells for c in row)))
        rows = tuple(tuple(Ciphertext(next(points), next(points)) for _ in row) for row in cells)
    except InvalidInput:
        rows = tuple(tuple(_cell(group, c, f"rows[{i}]") for c in row) for i, row in enumerate(cells))
    stage = f["stage"]
    if type(stage) is not int or stage < 1:
        raise InvalidInput("mix-stage: stage must be a positive integer")
    server = str(check_id(f["server"], "mix server"))
    parsed = MixStage(stage, rows, ShuffleProof.from_json(group, f["proof"]))
    return str(f["contest"]), SignedStage(parsed, server, f)  # type: ignore[arg-type]
