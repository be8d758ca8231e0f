"""Manifest validation, plaintext rules, ballot encryption and its checks, Benaloh openings."""

from __future__ import annotations

import dataclasses
import json

import pytest

from degcore.ballot import (
    BallotStyle,
    Contest,
    District,
    ElectionContext,
    EncryptedBallot,
    Manifest,
    OpenedBallot,
    Option,
    PlaintextBallot,
    encrypt_ballot,
    open_ballot,
    verify_ballot,
    verify_opened,
)
from degcore.elgamal import encrypt
from degcore.errors import InvalidInput, NonCanonical, VerificationFailed
from degcore.groups import get_group
from tests.election_fixtures import ENDS, STARTS, election, manifest

KEY = bytes(range(32))


@pytest.fixture(scope="module", params=["ristretto255", "secp256k1"])
def context(request: pytest.FixtureRequest) -> ElectionContext:
    return election(get_group(request.param)).context


def _codes(exc: pytest.ExceptionInfo[InvalidInput]) -> set[tuple[str, str]]:
    return {(e.field, e.code) for e in exc.value.errors}


def test_manifest_round_trips_and_binds_the_base_hash(context: ElectionContext) -> None:
    m = context.manifest
    assert Manifest.from_json(json.loads(json.dumps(m.to_json()))) == m
    other = ElectionContext(dataclasses.replace(m, name="Другие выборы"), context.ceremony)
    assert other.base_hash != context.base_hash
    with pytest.raises(NonCanonical):
        Manifest.from_json({**m.to_json(), "voting_starts": "2026-09-18T08:00:00+03:00"})


def test_an_invalid_manifest_reports_every_problem() -> None:
    good = manifest("ristretto255")
    options = (Option("x", "X"), Option("x", "Y"))
    with pytest.raises(InvalidInput) as info:
        Manifest(
            "e", "name", "p-256", "Mars/Base", ENDS, STARTS, bytes(31),
            (
                Contest("c", "C", options, 2, 1),
                Contest("c", "C", (Option("y", "Y"),), 0, 2),
            ),
            (BallotStyle("s", ()), BallotStyle("t", ("nope",))),
            (District("d", "D", "missing"),),
        )  # fmt: skip
    assert _codes(info) >= {
        ("group", "unknown_group"),
        ("time_zone", "unknown_time_zone"),
        ("voting_ends", "window"),
        ("authority_key", "bad_key"),
        ("contests", "duplicate_id"),
        ("contests[0].options", "duplicate_id"),
        ("contests[0].min_selections", "min_above_max"),
        ("contests[1].max_selections", "range"),
        ("ballot_styles[0].contests", "empty"),
        ("ballot_styles[1].contests", "unknown_contest"),
        ("districts[0].style_id", "unknown_style"),
    }
    with pytest.raises(InvalidInput):
        dataclasses.replace(good, districts=())


def test_context_refuses_a_ceremony_of_another_group_or_election(context: ElectionContext) -> None:
    other_group = "secp256k1" if context.group.name == "ristretto255" else "ristretto255"
    with pytest.raises(InvalidInput, match="ceremony ran over"):
        ElectionContext(dataclasses.replace(context.manifest, group=other_group), context.ceremony)
    with pytest.raises(InvalidInput, match="another election"):
        ElectionContext(dataclasses.replace(context.manifest, election_id="e2027"), context.ceremony)


@pytest.mark.parametrize(
    ("selections", "problem"),
    [
        ({"mayor": {}}, ("mayor", "selections")),  # min 1
        ({"mayor": {"m0": 1, "m1": 1}}, ("mayor", "selections")),  # max 1
        ({"mayor": {"m0": 1}, "council": {"c0": 3}}, ("council.c0", "votes")),  # at most 2 per option
        ({"mayor": {"m0": 1}, "council": {"c0": 2, "c1": 2}}, ("council", "selections")),  # max 3
        ({"mayor": {"m9": 1}}, ("mayor.m9", "unknown_option")),
        ({"mayor": {"m0": 1}, "senate": {}}, ("senate", "unknown_contest")),
        ({"mayor": {"m0": True}}, ("mayor.m0", "votes")),
        ({"mayor": {"m0": -1}}, ("mayor.m0", "votes")),
    ],
)
def test_a_plaintext_that_breaks_the_rules_is_refused_before_encryption(
    context: ElectionContext, selections: dict[str, dict[str, int]], problem: tuple[str, str]
) -> None:
    with pytest.raises(InvalidInput) as info:
        encrypt_ballot(context, PlaintextBallot("a", selections), KEY)
    assert problem in _codes(info)


def test_honest_ballots_verify_and_survive_json(context: ElectionContext) -> None:
    plain = PlaintextBallot("a", {"mayor": {"m2": 1}, "council": {"c1": 2, "c3": 1}})
    ballot, nonces = encrypt_ballot(context, plain, KEY)
    verify_ballot(context, ballot)
    again = EncryptedBallot.from_json(context, json.loads(json.dumps(ballot.to_json(context))))
    assert again == ballot and again.tracking_code(context) == ballot.tracking_code(context)
    assert "secret" in repr(nonces)
    empty_council, _ = encrypt_ballot(context, PlaintextBallot("a", {"mayor": {"m0": 1}}), KEY)
    verify_ballot(context, empty_council)  # council allows 0 votes


def _tamper(ballot: EncryptedBallot, contest: int, **changes: object) -> EncryptedBallot:
    contests = list(ballot.contests)
    contests[contest] = dataclasses.replace(contests[contest], **changes)
    return dataclasses.replace(ballot, contests=tuple(contests))


def test_every_tampering_is_caught_and_named(context: ElectionContext) -> None:
    ballot, _ = encrypt_ballot(context, PlaintextBallot("a", {"mayor": {"m1": 1}, "council": {"c0": 1}}), KEY)
    other, _ = encrypt_ballot(context, PlaintextBallot("a", {"mayor": {"m0": 1}, "council": {"c0": 1}}), KEY)
    mayor = ballot.contests[0]
    q = context.group.order
    bad_proof = dataclasses.replace(mayor.proofs[0], responses=((mayor.proofs[0].responses[0] + 1) % q, 0))
    forged_one = encrypt(context.public_key, 1)
    cases = {
        "range": _tamper(ballot, 0, proofs=(bad_proof, *mayor.proofs[1:])),
        # Option m0 taken from a ballot for m0: every option proof holds, the total is 2: only "sum" fails.
        "sum": _tamper(
            ballot,
            0,
            ciphertexts=(other.contests[0].ciphertexts[0], *mayor.ciphertexts[1:]),
            proofs=(other.contests[0].proofs[0], *mayor.proofs[1:]),
        ),
        "ballot-election": dataclasses.replace(ballot, election=bytes(32)),
        "ballot-structure": dataclasses.replace(ballot, contests=ballot.contests[:1]),
    }
    cases["sum-or-range"] = _tamper(ballot, 0, ciphertexts=(forged_one, *mayor.ciphertexts[1:]))
    for check, bad in cases.items():
        with pytest.raises(VerificationFailed) as info:
            verify_ballot(context, bad)
        assert info.value.check in check.split("-or-") or info.value.check == check, (check, info.value)
    # Proofs bind the credential key: the same ballot presented for another voter does not verify.
    with pytest.raises(VerificationFailed):
        verify_ballot(context, dataclasses.replace(ballot, credential_key=bytes(32)))
    with pytest.raises(VerificationFailed, match="style"):
        verify_ballot(context, dataclasses.replace(ballot, style_id="zzz"))


def test_a_challenged_ballot_opens_and_a_false_opening_does_not(context: ElectionContext) -> None:
    plain = PlaintextBallot("a", {"mayor": {"m0": 1}, "council": {"c2": 2}})
    ballot, nonces = encrypt_ballot(context, plain, KEY)
    opened = open_ballot(context, ballot, nonces)
    assert opened.votes == {"mayor": (1, 0, 0), "council": (0, 0, 2, 0)}
    verify_opened(context, opened)
    assert OpenedBallot.from_json(context, json.loads(json.dumps(opened.to_json(context)))) == opened
    lie = dataclasses.replace(opened, votes={**opened.votes, "mayor": (0, 1, 0)})
    with pytest.raises(VerificationFailed, match="mayor"):
        verify_opened(context, lie)
    with pytest.raises(VerificationFailed):
        verify_opened(context, dataclasses.replace(opened, nonces={"mayor": opened.nonces["mayor"]}))


def _one_by_one(context: ElectionContext, obj: dict) -> object:
    """The reference reading: every item decoded as it is read (what from_json falls back to)."""
    from degcore.ballot import encrypt as module  # noqa: PLC0415 - the private reader under test

    try:
        return module._contests_one_by_one(context.group, obj["contests"])
    except InvalidInput as exc:
        return type(exc)


def test_reading_a_ballot_at_once_accepts_and_refuses_exactly_as_one_by_one(context: ElectionContext) -> None:
    """Every element and scalar of a ballot changed in turn: the bulk decoding takes exactly what the
    item-by-item reading takes, and a refusal names the same item, in the same words."""
    plain = PlaintextBallot("a", {"mayor": {"m2": 1}, "council": {"c1": 2, "c3": 1}})
    ballot, _ = encrypt_ballot(context, plain, KEY)
    good = ballot.to_json(context)
    size = 2 * context.group.element_bytes
    changed = 0
    for ci, contest in enumerate(good["contests"]):  # type: ignore[arg-type, union-attr]
        for field in ("ciphertexts", "proofs"):
            for k, text in enumerate(contest[field]):
                for at, swap in ((0, "ff"), (size // 2, "00"), (len(text) - 2, "ff"), (len(text) - 64, "ff")):
                    bad = json.loads(json.dumps(good))
                    bad["contests"][ci][field][k] = text[:at] + swap + text[at + 2 :]
                    expected = _one_by_one(context, bad)
                    if isinstance(expected, type):
                        with pytest.raises(expected) as refused:
                            EncryptedBallot.from_json(context, bad)
                        with pytest.raises(expected) as reference:
                            _one_by_one_raising(context, bad)
                        assert str(refused.value) == str(reference.value)
                        changed += 1
                    else:
                        assert EncryptedBallot.from_json(context, bad).contests == expected
    assert changed > 10
    bad = json.loads(json.dumps(good))
    bad["contests"][0]["sum_proof"] = bad["contests"][0]["sum_proof"][:-1]
    with pytest.raises(InvalidInput, match="even-length"):
        EncryptedBallot.from_json(context, bad)
    bad["contests"][0]["sum_proof"] = good["contests"][0]["sum_proof"][:-2]  # type: ignore[index]
    with pytest.raises(InvalidInput, match="not the size of a proof"):
        EncryptedBallot.from_json(context, bad)


def _one_by_one_raising(context: ElectionContext, obj: dict) -> object:
    from degcore.ballot import encrypt as module  # noqa: PLC0415 - the private reader under test

    return module._contests_one_by_one(context.group, obj["contests"])
