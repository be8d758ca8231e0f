"""``degcore trustee …``: the key ceremony and the decryption as commands (docs/trustees.md).

Each command is one step of one trustee over the shared folder of :mod:`degcore.tools.board`;
the trustee's secrets stay in its own sealed files (``--state`` during the ceremony, ``--share``
after it), opened with a passphrase from ``--passphrase-file``, ``$DEGCORE_PASSPHRASE`` or a
prompt. Exit status: 0 done, 1 refused (a check failed, a wrong passphrase, disqualified), 2 usage,
3 not ready (the other trustees have not published this step's inputs yet: run it again later).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from nacl.signing import SigningKey

from degcore.ballot.cosign import cosign, fingerprint
from degcore.chain import sign_object, verify_object
from degcore.encoding import JsonValue, from_hex, read_record, record_header
from degcore.errors import DegcoreError, InvalidInput, VerificationFailed
from degcore.groups import GROUP_NAMES, get_group
from degcore.hashing import sha256
from degcore.ids import check_id
from degcore.mixnet.cascade import flatten
from degcore.record import RecordReader, layout, load_context
from degcore.tally import decrypt_tally
from degcore.tally.mixed import mixnet_contests
from degcore.tools.board import (
    ANSWERS,
    COMMITMENTS,
    COMPLAINTS,
    SHARES,
    Board,
    NotReady,
    Rounds,
    dumps,
    write_private,
)
from degcore.tools.passphrase import PASSPHRASE_ENV, passphrase
from degcore.trustees._sealed import DEFAULT_SCRYPT_N, seal, unseal
from degcore.trustees.dkg import CeremonyConfig
from degcore.trustees.threshold import PartialDecryption, ThresholdDecryption, TrusteeShare, partial_decrypt
from degcore.trustees.trustee import Trustee
from degcore.verify import CATALOGUE, Outcome, verify_tally_inputs

__all__ = ["COSIGNATURES", "PASSPHRASE_ENV", "add_parser", "cosignature_file", "read_roster"]

log = logging.getLogger("degcore.trustee")

#: Where each trustee's public signing key is published before the configuration (self-signed).
KEYS = "ceremony/messages/keys"
#: Where each party publishes its co-signature of the setup on the board (one file per role).
COSIGNATURES = "cosign"
SIGNING_KEY_KIND = "trustee-signing-key"

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_NOT_READY = 0, 1, 2, 3


def _passphrase(args: argparse.Namespace, *, new: bool = False) -> str:
    return passphrase(file=args.passphrase_file or None, confirm=new)


def _config(board: Board) -> CeremonyConfig:
    return CeremonyConfig.from_json(board.load(layout.CONFIG))


def _load_state(args: argparse.Namespace) -> Trustee:
    return Trustee.load(Path(args.state).read_bytes(), _passphrase(args))


def _save_state(args: argparse.Namespace, me: Trustee, passphrase: str) -> None:
    write_private(Path(args.state), me.save(passphrase, scrypt_n=args.scrypt_n))


# --- the authority's step ----------------------------------------------------------------------
def _cmd_keygen(args: argparse.Namespace, board: Board) -> int:
    """Before the configuration: make your roster signing key (sealed) and publish its public half."""
    check_id(args.id, "--id")
    path = Path(args.key)
    if path.exists():
        raise InvalidInput(f"{path} exists: you already have a signing key (never replace it)")
    key = SigningKey.generate()
    payload: JsonValue = {"trustee": args.id, "signing_key": bytes(key).hex()}
    write_private(path, seal(payload, SIGNING_KEY_KIND, _passphrase(args, new=True), scrypt_n=args.scrypt_n))
    public = bytes(key.verify_key)
    body: dict[str, JsonValue] = {**record_header("trustee-key"), "trustee": args.id, "key": public.hex()}
    board.publish_json(f"{KEYS}/{args.id}.json", sign_object(key, body))
    print(f"{args.id}: signing key sealed in {path}; public key published")
    print(f"fingerprint (publish it yourself, so that observers can pin it): {fingerprint(public)}")
    return EXIT_OK


def _load_signing_key(args: argparse.Namespace, passphrase: str) -> SigningKey:
    payload = unseal(Path(args.key).read_bytes(), SIGNING_KEY_KIND, passphrase)
    if not isinstance(payload, dict) or set(payload) != {"trustee", "signing_key"}:
        raise InvalidInput("sealed signing key: unexpected contents")
    if payload["trustee"] != args.id:
        raise InvalidInput(f"this signing key belongs to {payload['trustee']!r}, not {args.id!r}")
    return SigningKey(from_hex(payload["signing_key"], 32, "signing_key"))


def read_roster(folder: str | Path, trustees: Sequence[str]) -> dict[str, bytes]:
    """Trustee id → the public signing key it published with ``keygen`` (self-signed), in order."""
    return _roster(Board(folder), tuple(trustees))


def _roster(board: Board, trustees: tuple[str, ...]) -> dict[str, bytes]:
    """Each listed trustee's published public key, checked against its own signature."""
    roster = {}
    for trustee in trustees:
        obj = board.load(f"{KEYS}/{trustee}.json")  # NotReady until the trustee ran keygen
        fields = read_record(obj, "trustee-key", {"trustee", "key", "signature"})
        key = from_hex(fields["key"], 32, f"{trustee} key")
        if fields["trustee"] != trustee:
            raise InvalidInput(f"{KEYS}/{trustee}.json is the key of {fields['trustee']!r}")
        verify_object(fields, key, "trustee-key")
        roster[trustee] = key
    return roster


def _cmd_config(args: argparse.Namespace, board: Board) -> int:
    trustees = tuple(t.strip() for t in args.trustees.split(",") if t.strip())
    election_id = args.election_id
    if election_id is None:
        if not board.exists(layout.MANIFEST):
            raise InvalidInput(f"give --election-id, or publish {layout.MANIFEST} on the board first")
        manifest = RecordReader(board.root, index=False).manifest()
        election_id = manifest.election_id
    roster = _roster(board, trustees)
    config = CeremonyConfig.of(election_id, get_group(args.group), args.threshold, roster)
    board.publish_json(layout.CONFIG, config.to_json())
    log.info("ceremony configured: %d trustees, threshold %d", config.n, config.threshold)
    print(f"ceremony configuration published in {board.path(layout.CONFIG)}")
    print(f"digest (read it out to every trustee): {config.digest().hex()}")
    return EXIT_OK


def _cmd_show(args: argparse.Namespace, board: Board) -> int:
    config = _config(board)
    print(f"election {config.election_id}, group {config.group.name}, t = {config.threshold} of {config.n}")
    print(f"trustees: {', '.join(config.trustees)}")
    for trustee in config.trustees:
        print(f"  {trustee}: key fingerprint {fingerprint(config.signing_key(trustee))}")
    print(f"digest: {config.digest().hex()}")
    for title, folder, suffix in (
        ("round 1 (commit)", COMMITMENTS, ".json"),
        ("round 2 (deal)", SHARES, ".jsonl"),
        ("round 3 (receive)", COMPLAINTS, ".jsonl"),
        ("round 4 (answer)", ANSWERS, ".jsonl"),
    ):
        done = board.published(folder, suffix)
        waiting = [t for t in config.trustees if t not in done]
        print(f"{title}: done {', '.join(done) or '-'}; waiting {', '.join(waiting) or '-'}")
    if board.exists(layout.DKG_RESULT):
        print(f"ceremony finished: {layout.DKG_RESULT}")
    return EXIT_OK


# --- the ceremony ------------------------------------------------------------------------------
def _cmd_commit(args: argparse.Namespace, board: Board) -> int:
    config = _config(board)
    state = Path(args.state)
    if state.exists():
        raise InvalidInput(f"{state} exists: you have already committed (never replace your secrets)")
    if args.digest and args.digest.strip().lower() != config.digest().hex():
        raise VerificationFailed(
            "ceremony-config", config.election_id, "the digest is not the one you were given"
        )
    passphrase = _passphrase(args)
    me = Trustee.new(config, args.id, _load_signing_key(args, passphrase))
    _save_state(args, me, passphrase)
    board.publish_json(f"{COMMITMENTS}/{args.id}.json", me.commitment().to_json(config))
    log.info("ceremony: %s committed", args.id)
    print(f"{args.id}: secrets sealed in {state}; commitment published")
    return EXIT_OK


def _cmd_deal(args: argparse.Namespace, board: Board) -> int:
    me = _load_state(args)
    config = me.config
    shares = me.deal(Rounds(board, config, args.deadline_passed).commitments())
    board.publish_lines(f"{SHARES}/{me.trustee_id}.jsonl", [s.to_json(config) for s in shares])
    log.info("ceremony: %s dealt %d shares", me.trustee_id, len(shares))
    print(f"{me.trustee_id}: {len(shares)} encrypted shares published")
    return EXIT_OK


def _cmd_receive(args: argparse.Namespace, board: Board) -> int:
    passphrase = _passphrase(args)
    me = Trustee.load(Path(args.state).read_bytes(), passphrase)
    config = me.config
    rounds = Rounds(board, config, args.deadline_passed)
    commitments = rounds.commitments()
    complaints = me.receive(commitments, rounds.shares([c.trustee_id for c in commitments]))
    _save_state(args, me, passphrase)  # the accepted shares, before the complaints are public
    board.publish_lines(f"{COMPLAINTS}/{me.trustee_id}.jsonl", [c.to_json(config) for c in complaints])
    log.info("ceremony: %s received its shares, %d complaints", me.trustee_id, len(complaints))
    for c in complaints:
        print(f"{me.trustee_id}: complaint about {c.accused}: {c.reason}")
    print(f"{me.trustee_id}: shares checked, {len(complaints)} complaints published")
    return EXIT_OK


def _cmd_answer(args: argparse.Namespace, board: Board) -> int:
    me = _load_state(args)
    config = me.config
    rounds = Rounds(board, config, args.deadline_passed)
    answers = me.answer(rounds.complaints([c.trustee_id for c in rounds.commitments()]))
    board.publish_lines(f"{ANSWERS}/{me.trustee_id}.jsonl", [a.to_json(config) for a in answers])
    log.info("ceremony: %s answered %d complaints", me.trustee_id, len(answers))
    print(f"{me.trustee_id}: {len(answers)} complaints against you answered")
    return EXIT_OK


def _cmd_finish(args: argparse.Namespace, board: Board) -> int:
    passphrase = _passphrase(args)
    me = Trustee.load(Path(args.state).read_bytes(), passphrase)
    config = me.config
    rounds = Rounds(board, config, args.deadline_passed)
    commitments = rounds.commitments()
    complaints = rounds.complaints([c.trustee_id for c in commitments])
    answers = rounds.answers(sorted({c.accused for c in complaints}, key=config.index))
    result, share = me.finish(commitments, complaints, answers)
    write_private(Path(args.share), share.save(passphrase, scrypt_n=args.scrypt_n))
    # Every trustee publishes the same record files; the first creates them, the others must agree.
    board.publish_lines(layout.COMMITMENTS, [m.to_json(config) for m in commitments])
    board.publish_lines(layout.COMPLAINTS, [c.to_json(config) for c in complaints])
    board.publish_lines(layout.ANSWERS, [a.to_json(config) for a in answers])
    board.publish_json(layout.DKG_RESULT, result.to_json())
    Path(args.state).unlink()  # the polynomial is no longer needed; the share is all that is kept
    log.info("ceremony: %s finished; %d qualified", me.trustee_id, len(result.qualified))
    print(f"{me.trustee_id}: share sealed in {args.share}; ceremony state deleted")
    print(f"qualified: {', '.join(result.qualified)}")
    for who, why in sorted(result.disqualified.items()):
        print(f"disqualified: {who}: {why}")
    print(f"joint key: {bytes(result.joint_key).hex()}")
    print(
        f"result digest (compare with the others): {sha256(board.path(layout.DKG_RESULT).read_bytes()).hex()}"
    )
    return EXIT_OK


def cosignature_file(role: str) -> str:
    """The board file of one role's co-signature (``:`` in a role becomes ``_``)."""
    return f"{COSIGNATURES}/{role.replace(':', '_')}.json"


def _cmd_cosign(args: argparse.Namespace, board: Board) -> int:
    """After the setup: check that it names your roster key, then co-sign its hash with it."""
    key = _load_signing_key(args, _passphrase(args))
    context = load_context(board.root)  # the setup's signature and bindings checked
    if context.ceremony.config.signing_key(args.id) != bytes(key.verify_key) or context.setup is None:
        raise VerificationFailed("setup", f"trustee:{args.id}", "the setup does not name your signing key")
    role = f"trustee:{args.id}"
    board.publish_json(cosignature_file(role), cosign(key, context.setup, role))
    print(f"{args.id}: the setup names your key; co-signature published")
    return EXIT_OK


# --- the tally ---------------------------------------------------------------------------------
def _cmd_decrypt(args: argparse.Namespace, board: Board) -> int:
    share = TrusteeShare.load(Path(args.share).read_bytes(), _passphrase(args))
    context = load_context(board.root)
    me, ceremony = share.trustee_id, context.ceremony
    if share.config != ceremony.config or ceremony.verification_keys.get(me) != share.verification_key():
        raise InvalidInput(f"this share of {me} does not belong to the board's ceremony")
    if not args.unchecked:
        _check_tally_inputs(board)
    reader = RecordReader(board.root, index=False)
    tally = reader.encrypted_tally(context)
    partial = partial_decrypt(context, share, tally.ciphertexts())
    board.publish_json(layout.partial_file(me), partial.to_json(ceremony.config))
    print(f"{me}: partial decryption of {len(tally.ciphertexts())} tally ciphertexts published")
    servers = context.setup.mix_servers if context.setup is not None else {}
    for contest_id in mixnet_contests(context):
        stages = reader.mix_stages(context, contest_id)
        if not stages:
            continue
        expected = servers.get(contest_id, ())
        if len(stages) != len(expected):
            raise VerificationFailed(
                "mix-stage", contest_id, f"{len(stages)} stages for {len(expected)} servers"
            )
        for stage, server in zip(stages, expected, strict=True):
            stage.verify(server)  # decrypt only what the setup's servers signed
        rows = flatten(stages[-1].stage.rows)
        mixed = partial_decrypt(context, share, rows)
        board.publish_json(layout.mix_partial_file(contest_id, me), mixed.to_json(ceremony.config))
        print(f"{me}: partial decryption of {len(rows)} mixed ciphertexts of {contest_id} published")
    log.info("tally: %s published its partial decryptions", me)
    return EXIT_OK


def _check_tally_inputs(board: Board) -> None:
    """Refuse to decrypt a tally or mix output that is not what the box's counted ballots give."""
    report = verify_tally_inputs(board.root)
    bad = [c for c in CATALOGUE if report.check(c).outcome in {Outcome.FAIL, Outcome.ERROR}]
    if bad:
        print(report.to_text(), file=sys.stderr)
        raise VerificationFailed("tally-inputs", ", ".join(bad), "nothing was decrypted")
    print("checked: the encrypted tally and every mix output come from the box's counted ballots")


def _good(
    session_of: ThresholdDecryption, found: list[tuple[str, PartialDecryption | DegcoreError]]
) -> list[PartialDecryption]:
    good = []
    for name, partial in found:
        try:
            if isinstance(partial, DegcoreError):
                raise partial
            probe = ThresholdDecryption(session_of.context, session_of.result, session_of.ciphertexts)
            probe.add(partial)
            good.append(partial)
        except DegcoreError as exc:
            print(f"rejected {name}: {exc}", file=sys.stderr)
    return good


def _cmd_combine(args: argparse.Namespace, board: Board) -> int:
    context = load_context(board.root)
    reader = RecordReader(board.root, index=False)
    config, base = context.ceremony.config, context.base_hash
    tally = reader.encrypted_tally(context)
    partials = _good(
        ThresholdDecryption(base, context.ceremony, tally.ciphertexts()), reader.partial_files(config)
    )
    mixed = {}
    for contest_id in mixnet_contests(context):
        stages = reader.mix_stages(context, contest_id)
        if stages:
            rows = stages[-1].stage.rows
            probe = ThresholdDecryption(base, context.ceremony, flatten(rows))
            mixed[contest_id] = (rows, _good(probe, reader.mix_partial_files(config, contest_id)))
    result = decrypt_tally(context, tally, partials, mixed=mixed)
    board.publish_json(layout.RESULT, result.to_json())
    log.info("tally: combined the partials of %s", ", ".join(result.trustees))
    print(dumps(result.to_json()) if args.json else _result_text(context, result.totals, result.trustees))
    return EXIT_OK


def _result_text(context: object, totals: dict[str, dict[str, int]], trustees: tuple[str, ...]) -> str:
    manifest = context.manifest  # type: ignore[attr-defined]
    lines = [f"decrypted by {', '.join(trustees)}"]
    for contest in manifest.contests:
        lines.append(contest.name)
        counts = totals.get(contest.contest_id, {})
        for option in contest.options:
            lines.append(f"  {option.name:<32}{counts.get(option.option_id, 0):>8}")
    return "\n".join(lines)


_DESCRIPTION = (
    "One step of one trustee per command, over a shared folder of messages (docs/trustees.md). "
    "Your secrets stay in your own sealed files (--state during the ceremony, --share after it), "
    f"opened with a passphrase from --passphrase-file, ${PASSPHRASE_ENV} or a prompt. "
    "Exit status: 0 done, 1 refused (a check failed, a wrong passphrase, disqualified), 2 usage, "
    "3 not ready (the others have not published this step's inputs yet: run it again later)."
)
_STEPS = {
    "keygen": (_cmd_keygen, "step 0: make your signing key (sealed) and publish its public half"),
    "config": (_cmd_config, "the authority: publish the ceremony configuration with every trustee's key"),
    "show": (_cmd_show, "the configuration, its digest and who has done which round"),
    "commit": (_cmd_commit, "step 1: create your secrets (sealed) and publish your commitments"),
    "deal": (_cmd_deal, "step 2: publish an encrypted share for every other trustee"),
    "receive": (_cmd_receive, "step 3: check the shares dealt to you; publish complaints"),
    "answer": (_cmd_answer, "step 4: answer the complaints against you"),
    "finish": (_cmd_finish, "step 5: the joint key and your share (sealed); the ceremony's record files"),
    "cosign": (_cmd_cosign, "after the setup: check it names your key, and co-sign its hash"),
    "decrypt": (_cmd_decrypt, "tally: your partial decryptions of the tally and of each mix-net output"),
    "combine": (_cmd_combine, "tally (anyone): check the partials, combine t of them, publish the result"),
}
_NEEDS = {
    "state": {"commit", "deal", "receive", "answer", "finish"},
    "share": {"finish", "decrypt"},
    "passphrase": {"keygen", "cosign", "commit", "deal", "receive", "answer", "finish", "decrypt"},
    "late": {"deal", "receive", "answer", "finish"},
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add ``degcore trustee`` and its steps to ``degcore``'s parser (its runner is ``args.run``)."""
    parser = sub.add_parser(
        "trustee",
        help="the key ceremony and the decryption, one step per command, over a shared folder",
        description=_DESCRIPTION,
    )
    steps = parser.add_subparsers(dest="step", required=True)
    for name, (_, help_text) in _STEPS.items():
        step = steps.add_parser(name, help=help_text, description=help_text)
        step.add_argument("board", help="the shared folder of messages (the record's layout)")
        if name == "config":
            step.add_argument("--election-id", help="default: the election id of the board's manifest.json")
            step.add_argument("--group", choices=GROUP_NAMES, required=True)
            step.add_argument("--threshold", type=int, required=True, help="t: how many trustees decrypt")
            step.add_argument("--trustees", required=True, help="the roster, in order: a,b,c,…")
        if name in {"keygen", "commit", "cosign"}:
            step.add_argument("--id", required=True, help="your trustee id, as in the roster")
            step.add_argument("--key", required=True, help="your sealed signing key (keygen makes it)")
        if name == "commit":
            step.add_argument("--digest", help="the configuration digest you were given: refuse any other")
        if name in _NEEDS["state"]:
            step.add_argument("--state", required=True, help="your sealed ceremony state (secret)")
        if name in _NEEDS["share"]:
            step.add_argument("--share", required=True, help="your sealed share of the election key (secret)")
        if name in _NEEDS["passphrase"]:
            step.add_argument(
                "--passphrase-file",
                help=f"read the passphrase from FILE (else ${PASSPHRASE_ENV}, else a prompt)",
            )
            step.add_argument("--scrypt-n", type=int, default=DEFAULT_SCRYPT_N, help=argparse.SUPPRESS)
        if name in _NEEDS["late"]:
            step.add_argument(
                "--deadline-passed",
                action="store_true",
                help="the round's deadline has passed: go on without the trustees who did not publish",
            )
        if name == "decrypt":
            step.add_argument(
                "--unchecked",
                action="store_true",
                help="skip checking the tally against the box log first (only if you checked it yourself)",
            )
        if name == "combine":
            step.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run one ``degcore trustee`` step; returns the exit status."""
    command = f"degcore trustee {args.step}"
    try:
        if args.step in {"config", "keygen"}:  # the first steps start the shared folder
            Path(args.board).mkdir(parents=True, exist_ok=True)
        return _STEPS[args.step][0](args, Board(args.board))
    except NotReady as exc:
        print(f"{command}: not ready: {exc}", file=sys.stderr)
        return EXIT_NOT_READY
    except (DegcoreError, OSError) as exc:
        print(f"{command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
