"""A complete synthetic election on the embedded defaults: what ``degcore demo`` runs.

Every step uses the same public API an integrating service would (docs/integration.md): the
registry loads a voter list and processes applications; the issuer hands out blind credentials;
devices encrypt, challenge and cast; the ballot box checks and logs; five trustees (threshold 3)
make the key and decrypt the tally with one of them absent. It checks what it can along the way
and returns a summary with the result and the plaintext count it must equal.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol, TypeVar

from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.signing import SigningKey

from degcore.ballot import (
    BallotStyle,
    Contest,
    District,
    ElectionContext,
    ElectionSetup,
    EncryptedBallot,
    Manifest,
    MixServer,
    Option,
    PlaintextBallot,
    encrypt_ballot,
    open_ballot,
)
from degcore.ballot.cosign import cosign
from degcore.ballot.setup import announcement
from degcore.board import BallotBox, BoxReader, CastBallot, Receipt, sign_ballot
from degcore.encoding import JsonValue, canonical_json
from degcore.errors import DegcoreError, VerificationFailed
from degcore.groups import get_group
from degcore.issuance import (
    EnrollmentReceipt,
    FrozenListEligibility,
    Issuer,
    RemoteList,
    VoterCredential,
    authorise_request,
    check_issuance_receipt,
    finish_credential,
    public_key_pem,
    request_credential,
    rsabssa,
)
from degcore.mixnet.cascade import flatten
from degcore.observe.watch import Watch
from degcore.record import sign_record, write_record
from degcore.registry import ElectionSettings, Registry, Schedule
from degcore.site import build_site
from degcore.tally import (
    EncryptedTally,
    MixedContest,
    Result,
    aggregate,
    decrypt_tally,
    mix_contests,
    mixnet_rows,
)
from degcore.trustees import threshold
from degcore.trustees.trustee import local_config, run_local_ceremony
from degcore.verify.receipts import BallotStatus, check_receipt
from degcore.verify.voter import VoterStatus, find_voter

__all__ = ["DemoSummary", "run_demo"]

T = TypeVar("T")


class Progress(Protocol):
    """Wraps a long step's iterable (e.g. with a progress bar): items, label, total."""

    def __call__(self, items: Iterable[T], label: str, total: int) -> Iterator[T]:
        """Yield ``items`` while showing progress."""
        ...


TRUSTEES = ("trustee-1", "trustee-2", "trustee-3", "trustee-4", "trustee-5")
ABSENT = "trustee-3"
MIX_STAGES = 3
RECEIPT_SAMPLE = 5
REGISTRATION_OPENS = datetime(2026, 8, 1, 9, 0, tzinfo=UTC)
VOTING_STARTS = datetime(2026, 9, 18, 5, 0, tzinfo=UTC)  # 08:00 in Moscow
VOTING_ENDS = datetime(2026, 9, 20, 17, 0, tzinfo=UTC)  # 20:00 in Moscow
NAMES = ("Иванов Иван Иванович", "Петрова Анна Сергеевна", "Сидоров Пётр Ильич", "Кузнецова Ольга Игоревна")


def demo_manifest(group: str, authority_key: bytes) -> Manifest:
    """Two districts, each with the federal party list and its own single-member contest."""
    parties = tuple(
        Option(f"party-{i}", name)
        for i, name in enumerate(("Зелёные", "Синие", "Красные", "Белые", "Жёлтые"), 1)
    )

    def candidates(district: int) -> tuple[Option, ...]:
        return tuple(
            Option(f"d{district}-candidate-{i}", f"Кандидат {i} (округ {district})") for i in range(1, 5)
        )

    return Manifest(
        "demo-2026",
        "Выборы депутатов (демонстрация degcore)",
        group,
        "Europe/Moscow",
        VOTING_STARTS,
        VOTING_ENDS,
        authority_key,
        (
            Contest("party-list", "Федеральный список", parties, 1, 1),
            Contest("district-1", "Одномандатный округ 1", candidates(1), 1, 1),
            Contest("district-2", "Одномандатный округ 2", candidates(2), 1, 1),
            Contest(
                "referendum",
                "Референдум: одобряете ли вы поправки? (смешивание, опубликованный список бюллетеней)",
                (Option("yes", "Да"), Option("no", "Нет")),
                1,
                1,
                tally="mixnet",
            ),
        ),
        (
            BallotStyle("style-1", ("party-list", "district-1", "referendum")),
            BallotStyle("style-2", ("party-list", "district-2", "referendum")),
        ),
        (District("district-1", "Округ № 1", "style-1"), District("district-2", "Округ № 2", "style-2")),
    )


@dataclass
class DemoSummary:
    """What the demo did and checked."""

    voters: int = 0
    applications_approved: int = 0
    applications_rejected: int = 0
    credentials: int = 0
    cast: int = 0
    challenged: int = 0
    refused: dict[str, str] = field(default_factory=dict)
    expected: dict[str, dict[str, int]] = field(default_factory=dict)
    result: Result | None = None
    checks: list[str] = field(default_factory=list)
    record: Path | None = None
    record_sha256: str = ""
    #: The sampled voters' receipts, one file each (``<out>/receipts/<tracking code>.json``).
    receipts: list[Path] = field(default_factory=list)
    #: The same voters' signed enrollment receipts (``<out>/receipts/enrollment/<tracking code>.json``).
    enrollment_receipts: list[Path] = field(default_factory=list)
    #: The election's public site (``<out>/site``, docs/site.md), built from the verified record.
    site: Path | None = None


def _no_progress(items: Iterable[T], label: str, total: int) -> Iterator[T]:
    yield from items


def _voter_list(count: int, rng: random.Random) -> str:
    rows = ["voter_id,full_name,birth_date,citizenship,district,disenfranchised"]
    for i in range(count):
        year = 2009 if rng.random() < 0.02 else rng.randrange(1940, 2007)  # a few are too young
        born = f"{1 + rng.randrange(28):02d}.{1 + rng.randrange(12):02d}.{year}"
        rows.append(f"voter-{i:06d},{NAMES[i % len(NAMES)]},{born},RU,district-{1 + i % 2},0")
    return "\n".join(rows) + "\n"


def _form(i: int, record_name: str, born: str, voter_key: bytes) -> dict[str, str]:
    number = f"{3_000_000 + i:09d}"
    control = sum(int(d) * (9 - k) for k, d in enumerate(number)) % 101 % 100
    return {
        "full_name": record_name,
        "birth_date": born,
        "passport_series": "4510",
        "passport_number": f"{i:06d}",
        "passport_issued": "01.01.2015",
        "passport_issuer": "ГУ МВД России по г. Москве",
        "snils": f"{number}{control:02d}",
        "phone": f"+7916{i:07d}",
        "district": f"district-{1 + i % 2}",
        "address": "Москва, ул. Тверская, д. 1",
        "voter_key": voter_key.hex(),
    }


@dataclass
class _Election:
    """The demo's actors and their stores."""

    out: Path
    context: ElectionContext
    settings: ElectionSettings
    shares: dict[str, threshold.TrusteeShare]
    registry: Registry
    rng: random.Random
    summary: DemoSummary
    progress: Progress
    #: Each enrolled voter's device: her voter key and the registry's signed enrollment receipt.
    devices: dict[str, tuple[SigningKey, EnrollmentReceipt]] = field(default_factory=dict)


@dataclass
class _Keys:
    """Each service's own signing keys (in a real election each lives on its own machine)."""

    authority: SigningKey = field(default_factory=SigningKey.generate)
    registry: SigningKey = field(default_factory=SigningKey.generate)
    issuance_log: SigningKey = field(default_factory=SigningKey.generate)
    box: SigningKey = field(default_factory=SigningKey.generate)
    mix: tuple[tuple[str, SigningKey], ...] = tuple(
        (f"mix-server-{k}", SigningKey.generate()) for k in range(1, MIX_STAGES + 1)
    )
    #: Each trustee's roster signing key (the ceremony configuration names the public halves).
    trustees: dict[str, SigningKey] = field(default_factory=dict)


def run_demo(
    out: Path,
    voters: int,
    *,
    group_name: str = "ristretto255",
    progress: Progress = _no_progress,
    observe: bool = False,
) -> DemoSummary:
    """Run the whole election with ``voters`` voters, files under ``out``; see the module docstring.

    ``observe``: an observer follows the box's feed while voting runs (docs/integration.md).
    """
    out.mkdir(parents=True, exist_ok=True)
    keys = _Keys()
    manifest = demo_manifest(group_name, bytes(keys.authority.verify_key))
    summary = DemoSummary(voters=voters)

    # 1. The authority announces the manifest and the ceremony; five trustees, any three decrypt.
    config, keys.trustees = local_config(manifest.election_id, get_group(group_name), 3, TRUSTEES)
    signed_announcement = announcement(keys.authority, manifest, config)
    ceremony, shares = run_local_ceremony(config, keys.trustees)
    summary.checks.append(f"key ceremony: {len(ceremony.qualified)} of 5 trustees qualified, threshold 3")
    settings = ElectionSettings(
        manifest.election_id,
        Schedule("Europe/Moscow", REGISTRATION_OPENS, VOTING_STARTS, VOTING_ENDS),
        frozenset({"district-1", "district-2"}),
        {"district-1": "style-1", "district-2": "style-2"},
        {"personal_data": "1.0", "remote_voting_terms": "1.0"},
    )
    registry = Registry(
        out / "registry.sqlite", settings, code_key=secrets.token_bytes(32), signing_key=keys.registry
    )
    rng = random.Random(secrets.randbits(64))  # noqa: S311 - picks votes only; crypto uses the OS
    election = _Election(
        out, ElectionContext(manifest, ceremony), settings, shares, registry, rng, summary, progress
    )
    # 2. Registration; at its close the registry freezes the remote list and signs the public
    #    enrollment list (reference, voter key, style per remote voter) with its counts.
    _register(election, voters)
    remote = registry.freeze_remote_list(settings.schedule.closes)
    enrollment_head, enrollment = registry.enrollment_list()
    counts = enrollment_head.to_json()
    summary.checks.append(
        f"remote list frozen and signed by the registry: {len(remote.voters)} voters, each with her "
        f"device's key; enrollment list counts per style {counts['counts']}"
    )
    # 3. The setup: every key and rule the record's checks rely on, signed before issuance opens.
    issuer_keys = {style.style_id: rsabssa.generate_key() for style in manifest.styles}
    setup = ElectionSetup.create(
        keys.authority,
        manifest,
        ceremony,
        issuer_keys={s: public_key_pem(k.public_key()).decode() for s, k in issuer_keys.items()},
        issuance_key=bytes(keys.issuance_log.verify_key),
        issuance_window=settings.issuance_window,
        box_key=bytes(keys.box.verify_key),
        mix_servers={"referendum": tuple(MixServer(name, bytes(k.verify_key)) for name, k in keys.mix)},
        registry_key=registry.public_key,
        remote_list=counts,
    )
    election.context = ElectionContext(manifest, ceremony, setup)
    cosignatures = _cosignatures(setup, keys)
    summary.checks.append(
        "election setup signed by the authority: issuer, box, registry and mix-server keys, "
        f"policy first, {MIX_STAGES} mix servers, issuance and voting windows"
    )
    # 4. Credentials from the issuer, which holds only its keys and the registry's signed list.
    wallets, issuer = _issue(election, voters, issuer_keys, remote, keys.issuance_log)
    box = BallotBox(out / "box.sqlite", election.context, issuer.public_keys(), keys.box)
    watch = Watch(out, out / "box.sqlite", election.context, signed_announcement) if observe else None
    receipts = _vote(election, box, wallets)
    box.close()
    if watch is not None:
        summary.checks.append(watch.finish())
    issuer.close_log(VOTING_ENDS)
    # 5. The tally, the mix-net and the record, from the box's store read without its key.
    reader = BoxReader(out / "box.sqlite", election.context)
    tally, partials, mixed, mix_partials = _tally(election, reader, keys)
    summary.record = write_record(
        out / "record",
        context=election.context,
        announcement=signed_announcement,
        remote_list=counts,
        enrollment=enrollment,
        issuance_log=issuer.log(),
        box_log=reader.log(),
        tally=tally,
        partials=partials,
        result=_result(summary),
        mixed=mixed,
        mix_partials=mix_partials,
        cosignatures=cosignatures,
    )
    summary.record_sha256 = sign_record(summary.record, keys.authority)
    if watch is not None:
        summary.checks.append(watch.check_record(summary.record))
    _lookups(summary.record, receipts, keys.box, summary)
    _keep_enrollment_receipts(election, receipts)
    summary.checks.append(
        f"record written and its index signed by the authority: SHA-256 {summary.record_sha256}"
    )
    site = build_site(summary.record, out / "site")
    if not site.verified:
        raise VerificationFailed("site", str(site.out), "the record does not verify")
    summary.site = site.out
    summary.checks.append(f"public site written from the verified record: {len(site.pages)} pages")
    registry.close()
    reader.close()
    issuer.close()
    return summary


def _cosignatures(setup: ElectionSetup, keys: _Keys) -> list[dict[str, JsonValue]]:
    """Every party the setup names co-signs its hash with its own key (each on its own machine)."""
    parties = [("issuer-log", keys.issuance_log), ("box", keys.box), ("registry", keys.registry)]
    parties += [(f"mix:referendum:{name}", key) for name, key in keys.mix]
    parties += [(f"trustee:{t}", key) for t, key in keys.trustees.items()]
    return [cosign(key, setup, role) for role, key in parties]


def _result(summary: DemoSummary) -> Result:
    if summary.result is None:  # pragma: no cover - _tally always sets it
        raise TypeError("the tally did not produce a result")
    return summary.result


def _register(e: _Election, voters: int) -> None:
    """The voter list, then one application per voter, processed to confirmation."""
    day = REGISTRATION_OPENS + timedelta(days=3)
    e.registry.import_voters(_voter_list(voters, e.rng), now=day)
    registry_key = e.registry.public_key
    for i in e.progress(range(voters), "applications", voters):
        record = e.registry.voter(f"voter-{i:06d}")
        device = SigningKey.generate()  # made on the voter's device; only its public half leaves it
        form = _form(i, record.full_name, record.birth_date.strftime("%d.%m.%Y"), bytes(device.verify_key))
        app = e.registry.create(record.voter_id, form, now=day)
        for kind in ("personal_data", "remote_voting_terms"):
            e.registry.consent(app.number, kind, "1.0", now=day)
        app = e.registry.submit(app.number, now=day)
        if app.reasons:  # under 18 on election day: rejected automatically
            e.summary.applications_rejected += 1
            continue
        e.registry.start_review(app.number, now=day, actor="operator")
        e.registry.approve(app.number, now=day, actor="operator")
        e.registry.confirm(app.number, e.registry.issue_code(app.number, now=day), now=day)
        receipt = e.registry.enrollment_receipt(app.number)
        receipt.verify(registry_key)  # the device checks that its key was enrolled for her
        if receipt.voter_key != bytes(device.verify_key):
            raise VerificationFailed("enrollment-receipt", app.number, "another key was enrolled")
        e.devices[record.voter_id] = (device, receipt)
        e.summary.applications_approved += 1


def _issue(
    e: _Election,
    voters: int,
    keys: dict[str, rsa.RSAPrivateKey],
    remote: RemoteList,
    log_key: SigningKey,
) -> tuple[list[VoterCredential], Issuer]:
    """The issuer asks only the registry's signed remote list; each device signs its request with the
    voter key it enrolled and checks its issuance receipt."""
    manifest = e.context.manifest
    opens, closes = e.settings.issuance_window
    registry_key = e.registry.public_key
    eligibility = FrozenListEligibility(remote, registry_key, opens=opens, closes=closes)
    issuer = Issuer(
        e.out / "issuer.sqlite",
        manifest.election_id,
        keys,
        eligibility,
        log_key=log_key,
        window=(opens, closes),
    )
    public = issuer.public_keys()
    wallets: list[VoterCredential] = []
    at = opens + timedelta(hours=2)
    for voter_id in e.progress(sorted(remote.voters), "credentials", len(remote.voters)):
        device, enrolled = e.devices[voter_id]
        style = enrolled.ballot_style
        request = request_credential(public[style], manifest.election_id, style)
        signature = authorise_request(request, device, enrolled.voter_ref)
        blind = issuer.issue(voter_id, style, request.blinded_msg, request_signature=signature, now=at)
        issued = issuer.receipt(voter_id)
        check_issuance_receipt(request, issued, enrolled.voter_ref, signature, issuer.log_public_key)
        wallets.append(finish_credential(request, blind, public[style]))
    e.summary.credentials = len(wallets)
    e.summary.checks.append(
        f"credentials: {len(wallets)} issued from the signed remote list alone; every voter's device "
        "signed its request with its enrolled key and checked its signed issuance receipt "
        "(pseudonymous reference, no voter id in the log)"
    )
    return wallets, issuer


def _vote(e: _Election, box: BallotBox, wallets: list[VoterCredential]) -> list[Receipt]:
    """Devices encrypt; about one in twenty challenges a ballot first; everyone casts; some misbehave."""
    context, summary = e.context, e.summary
    manifest = context.manifest
    at = VOTING_STARTS + timedelta(hours=1)
    casts: list[CastBallot] = []
    summary.expected = {c.contest_id: {o.option_id: 0 for o in c.options} for c in manifest.contests}
    for wallet in e.progress(wallets, "encrypting", len(wallets)):
        style = manifest.style(wallet.credential.ballot_style)
        plain = PlaintextBallot(
            style.style_id,
            {c: {e.rng.choice(manifest.contest(c).options).option_id: 1} for c in style.contests},
        )
        key = wallet.credential.public_key
        if e.rng.random() < 0.05:
            spoiled, nonces = encrypt_ballot(context, plain, key)
            box.challenge(open_ballot(context, spoiled, nonces), now=at)
            summary.challenged += 1
        ballot, _ = encrypt_ballot(context, plain, key)
        casts.append(sign_ballot(context, ballot, wallet))
        for contest_id, picked in plain.selections.items():
            for option_id in picked:
                summary.expected[contest_id][option_id] += 1
    receipts = box.cast_many(casts, now=at)
    failures = [r for r in receipts if isinstance(r, DegcoreError)]
    if failures:
        raise failures[0]
    summary.cast = len(receipts)
    summary.checks.append(
        f"ballot box: {len(receipts)} ballots checked on all cores, logged, receipts signed"
    )
    if casts:
        retry = box.cast(casts[0], now=at)  # a device that lost the answer sends the same bytes again
        if retry != receipts[0]:
            raise VerificationFailed("box", "retry", "an identical retry did not get the original receipt")
        retry.verify(box.public_key, context.base_hash)
        retry.check_ballot(context, casts[0])
        summary.checks.append("receipts bind election, ballot and entry; a retry got the original receipt")
        _refusals(box, context, (casts[0], wallets[0]), summary, at)
    box.close_voting(now=VOTING_ENDS)
    entries = box.verify_log()
    summary.checks.append(f"box log: {entries} entries, hash chain and every box signature verify")
    return [r for r in receipts if isinstance(r, Receipt)]


def _lookups(record: Path, receipts: list[Receipt], box_key: SigningKey, summary: DemoSummary) -> None:
    """Voters check a sample of receipts against the published record; a box's forged one is refused."""
    sample = receipts[:: max(1, len(receipts) // RECEIPT_SAMPLE)][:RECEIPT_SAMPLE]
    folder = record.parent / "receipts"
    folder.mkdir(exist_ok=True)
    for receipt in sample:
        lookup = check_receipt(record, receipt.to_json())
        if not lookup.ok or lookup.status is not BallotStatus.COUNTED:
            raise VerificationFailed("receipt", receipt.tracking_code, f"{lookup.status}: {lookup.problems}")
        kept = folder / f"{receipt.tracking_code}.json"  # what the voter keeps, for degcore verify --receipt
        kept.write_bytes(canonical_json(receipt.to_json()))
        summary.receipts.append(kept)
    if len(sample) > 1:  # a box that dropped a ballot signs, with its own key, another entry's place
        mine, other = sample[0], sample[-1]
        forged = replace(
            mine, position=other.position, payload_hash=other.payload_hash, entry_hash=other.entry_hash
        )
        forged = replace(forged, box_signature=box_key.sign(forged.digest()).signature)
        if check_receipt(record, forged.to_json()).ok:
            raise VerificationFailed("receipt", "forged", "a receipt naming another entry was accepted")
    summary.checks.append(
        f"voters' lookups: {len(sample)} receipts found in the published log and counted; "
        "a receipt the box signed for another entry refused"
    )


def _keep_enrollment_receipts(e: _Election, receipts: list[Receipt]) -> None:
    """Beside each kept ballot receipt, the same voter's signed enrollment receipt (for find-voter)."""
    # Credentials were issued, and ballots cast, in the order of the voter ids.
    voter_of = dict(zip((r.tracking_code for r in receipts), sorted(e.devices), strict=True))
    folder = e.out / "receipts" / "enrollment"
    folder.mkdir(parents=True, exist_ok=True)
    record = e.out / "record"
    for kept in e.summary.receipts:
        receipt = e.devices[voter_of[kept.stem]][1]
        found = find_voter(record, receipt.to_json())
        if found.status is not VoterStatus.ISSUED:
            raise VerificationFailed("enrollment-receipt", kept.stem, f"find-voter says {found.status}")
        path = folder / kept.name
        path.write_bytes(canonical_json(receipt.to_json()))
        e.summary.enrollment_receipts.append(path)
    if e.summary.receipts:  # a receipt signed by anyone but the registry proves nothing
        receipt = e.devices[voter_of[e.summary.receipts[0].stem]][1]
        forged = EnrollmentReceipt.sign(
            SigningKey.generate(), receipt.election_id, receipt.enrollment, receipt.salt, receipt.enrolled_at
        )
        try:
            find_voter(record, forged.to_json())
        except VerificationFailed:
            pass
        else:
            raise VerificationFailed("enrollment-receipt", "forged", "find-voter accepted a forged receipt")
    e.summary.checks.append(
        f"voters' enrollment checks: {len(e.summary.enrollment_receipts)} found on the published list with "
        "their keys and their credentials issued under their own signatures; a forged receipt refused"
    )


Partials = list[threshold.PartialDecryption]


def _tally(
    e: _Election, box: BoxReader, keys: _Keys
) -> tuple[EncryptedTally, Partials, dict[str, MixedContest], dict[str, Partials]]:
    """Aggregate or mix the counted ballots; four trustees decrypt (one absent); compare."""
    context = e.context
    counted = [cast.ballot for cast in box.counted()]  # read and decoded once, for both tallies
    tally = aggregate(context, counted)
    present = [t for t in TRUSTEES if t != ABSENT]
    partials = [threshold.partial_decrypt(context, e.shares[t], tally.ciphertexts()) for t in present]
    mixed = mix_contests(context, mixnet_rows(context, counted), {"referendum": list(keys.mix)})
    mix_partials = {
        contest_id: [
            threshold.partial_decrypt(context, e.shares[t], flatten(contest.output)) for t in present
        ]
        for contest_id, contest in mixed.items()
        if contest.output
    }
    inputs = {c: (mixed[c].output, mix_partials[c]) for c in mix_partials}
    e.summary.result = decrypt_tally(context, tally, partials, mixed=inputs)
    mixed_rows = sum(len(m.rows) for m in mixed.values())
    e.summary.checks.append(
        f"mix-net: {mixed_rows} ballot rows through {MIX_STAGES} mix servers, every shuffle proved, "
        "signed by its server, checked"
    )
    e.summary.checks.append(
        f"tally: {len(partials)} partial decryptions with proofs checked; {ABSENT} absent"
    )
    if e.summary.result.totals != e.summary.expected:
        raise VerificationFailed("tally", "result", "the decrypted counts differ from the plaintext count")
    e.summary.checks.append("result equals the plaintext count of the cast ballots")
    return tally, partials, mixed, mix_partials


def _refusals(
    box: BallotBox,
    context: ElectionContext,
    first: tuple[CastBallot, VoterCredential],
    summary: DemoSummary,
    at: datetime,
) -> None:
    """A second ballot of a credential, a tampered proof, a ballot after voting ends: each refused."""
    cast, wallet = first
    style = context.manifest.style(cast.ballot.style_id)
    picks = {c: {context.manifest.contest(c).options[0].option_id: 1} for c in style.contests}
    plain = PlaintextBallot(style.style_id, picks)
    second = sign_ballot(context, encrypt_ballot(context, plain, wallet.credential.public_key)[0], wallet)
    attempts: dict[str, Callable[[], object]] = {
        "second ballot of a credential": lambda: box.cast(second, now=at),
        # A dishonest device signs a ballot whose proof it altered: the proof check catches it.
        "tampered proof": lambda: box.cast(sign_ballot(context, _tampered(cast.ballot), wallet), now=at),
        "outside the voting window": lambda: box.cast(second, now=VOTING_ENDS + timedelta(minutes=1)),
    }
    for label, attempt in attempts.items():
        try:
            attempt()
        except DegcoreError as exc:
            summary.refused[label] = f"{type(exc).__name__}: {exc}"
        else:
            raise VerificationFailed("box", label, "the box accepted a ballot it must refuse")


def _tampered(ballot: EncryptedBallot) -> EncryptedBallot:
    contest = ballot.contests[0]
    proof = contest.proofs[0]
    bad = replace(proof, responses=(proof.responses[0] + 1, *proof.responses[1:]))
    changed = replace(contest, proofs=(bad, *contest.proofs[1:]))
    return replace(ballot, contests=(changed, *ballot.contests[1:]))
