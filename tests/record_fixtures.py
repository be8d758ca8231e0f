"""A complete small election record, with every party's key in hand, for the verifier's tamper tests.

Real crypto throughout. The registry's signed enrollment list and the issuer's signed issuance log
(each entry with its voter's own signature on the request) are built here exactly as those services
publish them (protocol.md §5.2–§5.4), so that a test
can play any one dishonest party: hold that party's key, re-chain and re-sign what it could, and
hand the result to the authority, who signs the index of whatever it was given.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.signing import SigningKey

from degcore.ballot import (
    BallotStyle,
    Contest,
    District,
    ElectionContext,
    ElectionSetup,
    Manifest,
    MixServer,
    Option,
    PlaintextBallot,
    encrypt_ballot,
    open_ballot,
)
from degcore.ballot.cosign import cosign
from degcore.ballot.setup import announcement
from degcore.board import BallotBox, CastBallot, Receipt, sign_ballot
from degcore.chain import ChainEntry, link_hash, sign_object
from degcore.encoding import FORMAT, JsonValue, canonical_json, to_rfc3339
from degcore.groups import Group, get_group
from degcore.hashing import sha256
from degcore.issuance import VoterCredential, finish_credential, public_key_pem, request_credential, rsabssa
from degcore.issuance.enrollment import Enrollment, EnrollmentList, EnrollmentReceipt, credential_request
from degcore.issuance.log import voter_reference
from degcore.mixnet.cascade import flatten
from degcore.record import layout, sign_record, write_record
from degcore.tally import aggregate, decrypt_tally, mix_contests, mixnet_rows
from degcore.trustees import threshold
from degcore.trustees.dkg import CeremonyResult
from degcore.trustees.threshold import TrusteeShare
from tests.trustee_keys import local_ceremony, test_config, trustee_key

STARTS = datetime(2026, 9, 18, 5, 0, tzinfo=UTC)
ENDS = datetime(2026, 9, 20, 17, 0, tzinfo=UTC)
DURING = STARTS + timedelta(hours=2)
FROZEN = STARTS - timedelta(days=3)
ISSUANCE_OPENS = FROZEN + timedelta(hours=1)
TRUSTEES = ("t1", "t2", "t3", "t4", "t5")
ISSUANCE_TAG = b"degcore/4/issuance"

AUTHORITY = SigningKey(bytes(range(1, 33)))
BOX_KEY = SigningKey(bytes(range(100, 132)))
ISSUANCE_KEY = SigningKey(bytes(range(40, 72)))
REGISTRY_KEY = SigningKey(bytes(range(70, 102)))
MIX_KEYS = (SigningKey(bytes(range(140, 172))), SigningKey(bytes(range(180, 212))))
REMOTE_LIST = {"a": 6, "b": 6}


def manifest(group: str) -> Manifest:
    """Style a: a 1-of-3 contest, a cumulative one (2 per option), a mix-net yes/no; style b: the first."""
    return Manifest(
        "e2026",
        "Тестовые выборы",
        group,
        "Europe/Moscow",
        STARTS,
        ENDS,
        bytes(AUTHORITY.verify_key),
        (
            Contest("mayor", "Мэр", tuple(Option(f"m{i}", f"Кандидат {i}") for i in range(3)), 1, 1),
            Contest("council", "Совет", tuple(Option(f"c{i}", f"Список {i}") for i in range(4)), 0, 3, 2),
            Contest("vote", "Вопрос", (Option("yes", "Да"), Option("no", "Нет")), 1, 1, tally="mixnet"),
        ),
        (BallotStyle("a", ("mayor", "council", "vote")), BallotStyle("b", ("mayor",))),
        (District("north", "Северный", "a"), District("south", "Южный", "b")),
    )


@cache
def issuer_key(style: str) -> rsa.RSAPrivateKey:
    """The issuer's RSA key of a ballot style (2048 bits: the tests' minimum)."""
    return rsabssa.generate_key(2048)


@cache
def _ceremony(group: Group) -> tuple[CeremonyResult, dict[str, TrusteeShare]]:
    return local_ceremony(test_config("e2026", group, 3, TRUSTEES))  # type: ignore[return-value]


def voter_key(voter: str) -> SigningKey:
    """The voter's device key (fixed per voter here, so that any test can play her device)."""
    return SigningKey(sha256(b"test voter key", voter.encode()))


def voter_salt(voter: str) -> bytes:
    """The registry's salt of the voter's reference (fixed per voter here)."""
    return sha256(b"test voter salt", voter.encode())


def voter_ref(voter: str) -> str:
    """The voter's pseudonymous reference, as the registry computes it."""
    return voter_reference("e2026", voter, voter_salt(voter)).hex()


def enrollment_receipt(
    voter: str, style: str, key: SigningKey | None = None, signer: SigningKey = REGISTRY_KEY
) -> EnrollmentReceipt:
    """The registry's signed receipt to ``voter`` (for her device key, or ``key``)."""
    enrolled = Enrollment(bytes.fromhex(voter_ref(voter)), bytes((key or voter_key(voter)).verify_key), style)
    return EnrollmentReceipt.sign(signer, "e2026", enrolled, voter_salt(voter), FROZEN - timedelta(days=10))


def enrolled_voters(counts: dict[str, int]) -> list[tuple[str, str]]:
    """(voter, style) of every enrolled voter: ``voter-<style>-<i>`` for i below the style's count."""
    return [(f"voter-{style}-{i}", style) for style, n in sorted(counts.items()) for i in range(n)]


def enrollments(counts: dict[str, int]) -> list[Enrollment]:
    """The enrollment list's entries for ``counts`` (reference, the voter's key, style)."""
    return [
        Enrollment(bytes.fromhex(voter_ref(v)), bytes(voter_key(v).verify_key), s)
        for v, s in enrolled_voters(counts)
    ]


def enrollment_list(
    entries: list[Enrollment] | dict[str, int], key: SigningKey = REGISTRY_KEY
) -> dict[str, JsonValue]:
    """The registry's signed head of the enrollment list of ``entries`` (or of ``enrollments(counts)``)."""
    listed = enrollments(entries) if isinstance(entries, dict) else entries
    digest = hashlib.sha256(b"the registry's frozen list").digest()
    return EnrollmentList.sign(key, "e2026", FROZEN, listed, digest)[0].to_json()


def request_signature(voter: str, style: str, request_sha256: bytes, key: SigningKey | None = None) -> str:
    """The voter's device's signature on her credential request (with her key, or ``key``)."""
    signer = key or voter_key(voter)
    ref = bytes.fromhex(voter_ref(voter))
    message = credential_request("e2026", style, ref, request_sha256)
    return signer.sign(message).signature.hex()


def chain(
    tag: bytes, key: SigningKey, items: list[tuple[str, dict[str, JsonValue], str]]
) -> list[ChainEntry]:
    """A signed chain of (kind, payload object, time) as its owner writes it."""
    out, prev = [], bytes(32)
    for position, (kind, payload, at) in enumerate(items, start=1):
        data = canonical_json(payload)
        digest = link_hash(tag, prev, position, kind=kind, payload=data, at=at)
        out.append(ChainEntry(position, kind, data, at, prev, digest, key.sign(digest).signature))
        prev = digest
    return out


#: The key a dishonest issuer signs requests with when it logs a credential nobody asked for.
ISSUER_OWN_VOTER_KEY = SigningKey(bytes(range(10, 42)))


def issuance_items(
    issued: list[tuple[str, str]], at: datetime = ISSUANCE_OPENS, *, forged: frozenset[str] = frozenset()
) -> list[tuple[str, dict, str]]:  # type: ignore[type-arg]
    """The issuance log's items for (voter, style) pairs, then its closing entry.

    Each request is signed by the voter's own key, except for the voters in ``forged``: there the
    issuer signs with a key of its own (it never holds a voter's).
    """
    items: list[tuple[str, dict, str]] = []  # type: ignore[type-arg]
    counts = dict.fromkeys(sorted(REMOTE_LIST), 0)
    for i, (voter, style) in enumerate(issued):
        request = hashlib.sha256(voter.encode()).digest()
        signer = ISSUER_OWN_VOTER_KEY if voter in forged else None
        payload = {"type": "issued", "voter_ref": voter_ref(voter), "ballot_style": style,
                   "request_sha256": request.hex(),
                   "voter_signature": request_signature(voter, style, request, signer)}  # fmt: skip
        items.append(("issued", payload, to_rfc3339(at + timedelta(minutes=i))))
        counts[style] += 1
    items.append(("close", {"type": "close", "issued": counts}, to_rfc3339(ENDS)))  # type: ignore[dict-item]
    return items


def party_keys() -> dict[str, SigningKey]:
    """Role → the key each party of the setup holds (docs/protocol.md §8.6)."""
    keys = {"issuer-log": ISSUANCE_KEY, "box": BOX_KEY, "registry": REGISTRY_KEY}
    keys.update({f"mix:vote:mix-{i}": k for i, k in enumerate(MIX_KEYS, 1)})
    keys.update({f"trustee:{t}": trustee_key(t) for t in TRUSTEES})
    return keys


def cosignatures(setup: ElectionSetup, **held: SigningKey) -> list[dict[str, JsonValue]]:
    """Every party's co-signature of ``setup``, each made with its own key (``held``: role → another)."""
    keys = {**party_keys(), **{role.replace("_", "-"): key for role, key in held.items()}}
    return [cosign(key, setup, role) for role, key in keys.items()]


@dataclass
class Built:
    """A written record and what each party holds."""

    root: Path
    context: ElectionContext
    shares: dict[str, TrusteeShare]
    wallets: list[VoterCredential] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)


def setup_for(group: Group, **changes: object) -> tuple[ElectionContext, dict[str, object]]:
    """The election's context with its signed setup (``changes`` override the setup's inputs)."""
    result, _ = _ceremony(group)
    m = manifest(group.name)
    inputs: dict[str, object] = {
        "issuer_keys": {s: public_key_pem(issuer_key(s).public_key()).decode() for s in ("a", "b")},
        "issuance_key": bytes(ISSUANCE_KEY.verify_key),
        "issuance_window": (ISSUANCE_OPENS, ENDS),
        "box_key": bytes(BOX_KEY.verify_key),
        "box_policy": "first",
        "mix_servers": {
            "vote": tuple(MixServer(f"mix-{i}", bytes(k.verify_key)) for i, k in enumerate(MIX_KEYS, 1))
        },
        "registry_key": bytes(REGISTRY_KEY.verify_key),
        "remote_list": enrollment_list(REMOTE_LIST),
    }
    inputs.update(changes)
    setup = ElectionSetup.create(AUTHORITY, m, result, **inputs)  # type: ignore[arg-type]
    return ElectionContext(m, result, setup), inputs


def credential(style: str, election_id: str = "e2026") -> VoterCredential:
    """A credential blind-signed by the issuer's key of ``style``."""
    key = issuer_key(style)
    request = request_credential(key.public_key(), election_id, style)
    return finish_credential(request, rsabssa.blind_sign(key, request.blinded_msg), key.public_key())


def cast(
    context: ElectionContext, wallet: VoterCredential, selections: dict[str, dict[str, int]]
) -> CastBallot:
    """A device's signed encrypted ballot."""
    ballot, _ = encrypt_ballot(
        context, PlaintextBallot(wallet.credential.ballot_style, selections), wallet.credential.public_key
    )
    return sign_ballot(context, ballot, wallet)


def build_record(
    root: Path,
    group_name: str = "ristretto255",
    *,
    minted: tuple[tuple[str, bool | str], ...] = (),
    box_key: SigningKey = BOX_KEY,
) -> Built:
    """Eight counted ballots (four per style), one challenge, two mix servers, four trustees decrypting.

    ``minted``: a dishonest issuer's extra credentials (style, whether it logs them), each cast; it
    logs one under an invented reference, or (the value a voter name) under that voter's
    reference, signing the request with its own key.
    ``box_key``: the key the setup names for the box, which runs the box and co-signs as ``box``.
    """
    group = get_group(group_name)
    context, inputs = setup_for(group, box_key=bytes(box_key.verify_key))
    result, shares = _ceremony(group)
    built = Built(root / "record", context, shares)
    box = BallotBox(
        root / "box.sqlite", context, {s: issuer_key(s).public_key() for s in ("a", "b")}, box_key
    )
    issued: list[tuple[str, str]] = []
    for i in range(4):
        for style, picks in (
            ("a", {"mayor": {f"m{i % 3}": 1}, "council": {"c1": 2}, "vote": {("yes", "no")[i % 2]: 1}}),
            ("b", {"mayor": {f"m{(i + 1) % 3}": 1}}),
        ):
            wallet = credential(style)
            issued.append((f"voter-{style}-{i}", style))
            built.wallets.append(wallet)
            built.receipts.append(box.cast(cast(context, wallet, picks), now=DURING))
    forged = set()
    for i, (style, logged) in enumerate(minted):
        if logged:
            name = logged if isinstance(logged, str) else f"nobody-{i}"
            issued.append((name, style))
            forged.add(name)
        picks = {"mayor": {"m0": 1}} if style == "b" else {"mayor": {"m0": 1}, "vote": {"yes": 1}}
        box.cast(cast(context, credential(style), picks), now=DURING)
    spoiler = credential("b")
    issued.append(("voter-b-4", "b"))
    spoiled, nonces = encrypt_ballot(
        context, PlaintextBallot("b", {"mayor": {"m2": 1}}), spoiler.credential.public_key
    )
    built.receipts.append(box.challenge(open_ballot(context, spoiled, nonces), now=DURING))
    box.close_voting(now=ENDS)
    counted = [c.ballot for c in box.counted()]
    tally = aggregate(context, counted)
    partials = [threshold.partial_decrypt(context, shares[t], tally.ciphertexts()) for t in TRUSTEES[:4]]
    servers = {"vote": [(f"mix-{i}", k) for i, k in enumerate(MIX_KEYS, 1)]}
    mixed = mix_contests(context, mixnet_rows(context, counted), servers)
    mix_partials = {
        c: [threshold.partial_decrypt(context, shares[t], flatten(m.output)) for t in TRUSTEES[:4]]
        for c, m in mixed.items()
    }
    inputs_mixed = {c: (mixed[c].output, mix_partials[c][:3]) for c in mixed}
    final = decrypt_tally(context, tally, partials[:3], mixed=inputs_mixed)
    write_record(
        built.root,
        context=context,
        announcement=announcement(AUTHORITY, context.manifest, result.config),
        remote_list=inputs["remote_list"],  # type: ignore[arg-type]
        enrollment=enrollments(REMOTE_LIST),
        issuance_log=chain(ISSUANCE_TAG, ISSUANCE_KEY, issuance_items(issued, forged=frozenset(forged))),
        box_log=box.log(),
        tally=tally,
        partials=partials,
        result=final,
        mixed=mixed,
        mix_partials=mix_partials,
        cosignatures=cosignatures(context.setup, box=box_key),  # type: ignore[arg-type]
    )
    sign_record(built.root, AUTHORITY)
    box.close()
    return built


# --- playing a party: edit files, then let the authority sign the index of what it was given ----------
def reindex(root: Path) -> None:
    """Recompute the index over the files as they are now and have the authority sign it."""
    index = json.loads((root / layout.INDEX).read_bytes())
    index.pop("signature", None)
    files = sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != layout.INDEX
    )
    index["files"] = {name: hashlib.sha256((root / name).read_bytes()).hexdigest() for name in files}
    index["lines"] = {n: sum(1 for _ in (root / n).open("rb")) for n in files if n.endswith(".jsonl")}
    (root / layout.INDEX).write_bytes(canonical_json(index))
    sign_record(root, AUTHORITY)


def lines(root: Path, name: str) -> list[dict]:  # type: ignore[type-arg]
    """The objects of a JSON Lines file."""
    return [json.loads(line) for line in (root / name).read_bytes().splitlines()]


def write_chain(  # noqa: PLR0917 - the file, its chain's type and tag, the owner's key, the entries
    root: Path,
    name: str,
    record_type: str,
    tag: bytes,
    key: SigningKey | None,
    entries: list[dict],  # type: ignore[type-arg]
) -> None:
    """Write a chain back; with ``key``, re-number, re-chain and re-sign it as its owner would."""
    prev = bytes(32)
    for position, entry in enumerate(entries, start=1):
        if key is not None:
            entry["position"], entry["prev"] = position, prev.hex()
            digest = link_hash(
                tag,
                prev,
                position,
                kind=entry["kind"],
                payload=canonical_json(entry["payload"]),
                at=entry["at"],
            )
            entry["hash"], entry["signature"] = digest.hex(), key.sign(digest).signature.hex()
            prev = digest
        entry["format"], entry["type"] = FORMAT, record_type
    (root / name).write_bytes(b"".join(canonical_json(e) + b"\n" for e in entries))
    reindex(root)


def edit_json(root: Path, name: str, change, *, resign: SigningKey | None = None) -> None:  # type: ignore[no-untyped-def]
    """Change one JSON file (re-signed with ``resign`` if its owner signs it), then re-index."""
    obj = json.loads((root / name).read_bytes())
    change(obj)
    if resign is not None:
        obj.pop("signature", None)
        obj = sign_object(resign, obj)
    (root / name).write_bytes(canonical_json(obj))
    reindex(root)
