"""The key ceremony: honest runs, every way a trustee can cheat, and the public messages' codecs."""

from __future__ import annotations

import dataclasses
import itertools
import json
from typing import TypeVar

import pytest

from degcore.elgamal import encrypt, schnorr
from degcore.elgamal.dlog import dlog
from degcore.errors import InvalidInput, Rule, RuleViolation, UnsupportedFormat, VerificationFailed
from degcore.groups import GROUP_NAMES, Group, get_group
from degcore.trustees import dkg, threshold
from degcore.trustees.dkg import (
    CeremonyConfig,
    Complaint,
    ComplaintAnswer,
    ComplaintReason,
    EncryptedShare,
    TrusteeCommitment,
)
from degcore.trustees.signing import sign_message
from degcore.trustees.trustee import Trustee
from tests.trustee_keys import local_ceremony, test_config, trustee_key

M = TypeVar("M", TrusteeCommitment, Complaint, ComplaintAnswer)
ROSTER = ("alice", "bob", "carol", "dave", "erin")
CONTEXT = b"election base hash"


def _config(group: Group, t: int = 3, roster: tuple[str, ...] = ROSTER) -> CeremonyConfig:
    return test_config("e-2026", group, t, roster)


def _signed(config: CeremonyConfig, message: M) -> M:
    """``message`` signed by its own trustee: a dishonest trustee signs what it publishes."""
    return sign_message(config, trustee_key(message.signer), message)


def _decrypts(
    result: dkg.CeremonyResult, shares: dict[str, threshold.TrusteeShare], present: list[str]
) -> None:
    group = result.config.group
    cts = [encrypt(result.joint_key, m) for m in (0, 1, 5)]
    partials = [threshold.partial_decrypt(CONTEXT, shares[t], cts) for t in present]
    plain = threshold.threshold_decrypt(CONTEXT, result, cts, partials)
    assert [dlog(group, e, 10) for e in plain] == [0, 1, 5]


class Ceremony:
    """Drives the rounds by hand so a test can interfere between them."""

    def __init__(self, config: CeremonyConfig) -> None:
        self.config = config
        self.trustees = {t: Trustee.new(config, t, trustee_key(t)) for t in config.trustees}
        self.commitments = [t.commitment() for t in self.trustees.values()]
        self.shares = [s for t in self.trustees.values() for s in t.deal(self.commitments)]
        self.complaints: list[Complaint] = []
        self.answers: list[ComplaintAnswer] = []

    def receive(self) -> None:
        self.complaints = [
            c for t in self.trustees.values() for c in t.receive(self.commitments, self.shares)
        ]

    def answer(self, *, silent: tuple[str, ...] = ()) -> None:
        self.answers = [
            a for name, t in self.trustees.items() if name not in silent for a in t.answer(self.complaints)
        ]

    def finish(self, name: str) -> tuple[dkg.CeremonyResult, threshold.TrusteeShare]:
        return self.trustees[name].finish(self.commitments, self.complaints, self.answers)

    def replace_share(self, dealer: str, recipient: str, share: EncryptedShare | None) -> None:
        kept = [s for s in self.shares if (s.dealer, s.recipient) != (dealer, recipient)]
        self.shares = kept if share is None else [*kept, share]

    def share(self, dealer: str, recipient: str) -> EncryptedShare:
        return next(s for s in self.shares if (s.dealer, s.recipient) == (dealer, recipient))


def test_every_subset_of_three_or_more_decrypts_and_two_cannot(group: Group) -> None:
    result, shares = local_ceremony(_config(group))
    assert result.qualified == ROSTER and not result.disqualified
    for t in ROSTER:
        assert shares[t].verification_key() == result.verification_keys[t]
    cts = [encrypt(result.joint_key, m) for m in (0, 1, 2, 7)]
    partials = {t: threshold.partial_decrypt(CONTEXT, shares[t], cts) for t in ROSTER}
    expected = None
    for size in (3, 4, 5):
        for subset in itertools.combinations(ROSTER, size):
            plain = threshold.threshold_decrypt(CONTEXT, result, cts, [partials[t] for t in subset])
            expected = expected or plain
            assert plain == expected, subset
    assert [dlog(group, e, 10) for e in expected or []] == [0, 1, 2, 7]
    for pair in itertools.combinations(ROSTER, 2):
        with pytest.raises(RuleViolation) as info:
            threshold.threshold_decrypt(CONTEXT, result, cts, [partials[t] for t in pair])
        assert info.value.rule is Rule.NOT_ENOUGH_TRUSTEES


def test_joint_key_is_the_product_of_the_constant_commitments() -> None:
    group = get_group("ristretto255")
    c = Ceremony(_config(group))
    c.receive()
    result, share = c.finish("alice")
    assert c.complaints == []
    assert result.joint_key.h == group.product(m.commitments[0] for m in c.commitments)
    # x = Σ_i a_{i,0}: the secret nobody holds, reconstructed here only to check the algebra.
    x = sum(t._coefficients[0] for t in c.trustees.values()) % group.order
    assert group.exp_g(x) == result.joint_key.h
    assert share.verification_key() == result.verification_keys["alice"]


def test_a_bad_share_is_detected_and_its_dealer_disqualified_when_it_cannot_justify_it() -> None:
    group = get_group("ristretto255")
    c = Ceremony(_config(group))
    mallory = c.trustees["erin"]
    # erin deals bob a share of a different polynomial, and later reveals that wrong value.
    original = mallory._coefficients
    mallory._coefficients = (original[0] + 1, *original[1:])
    bad = mallory.deal(c.commitments)
    c.replace_share("erin", "bob", next(s for s in bad if s.recipient == "bob"))
    c.receive()
    assert c.complaints == [Complaint("bob", "erin", ComplaintReason.INVALID_SHARE)]
    c.answer()
    result, _ = c.finish("alice")
    assert result.qualified == ("alice", "bob", "carol", "dave")
    assert "does not match its commitments" in result.disqualified["erin"]
    shares = {t: c.finish(t)[1] for t in result.qualified}
    _decrypts(result, shares, ["alice", "bob", "dave"])
    with pytest.raises(RuleViolation) as info:
        c.finish("erin")
    assert info.value.rule is Rule.DISQUALIFIED


def test_a_dealer_that_does_not_answer_a_complaint_is_disqualified() -> None:
    c = Ceremony(_config(get_group("secp256k1")))
    c.replace_share("carol", "dave", None)
    c.receive()
    assert c.complaints == [Complaint("dave", "carol", ComplaintReason.MISSING)]
    c.answer(silent=("carol",))
    result, _ = c.finish("dave")
    assert "carol" not in result.qualified
    assert result.disqualified["carol"] == "did not answer the complaint of dave"


def test_a_dealer_that_answers_with_the_right_share_is_cleared() -> None:
    c = Ceremony(_config(get_group("ristretto255")))
    damaged = c.share("alice", "carol")
    c.replace_share("alice", "carol", dataclasses.replace(damaged, ciphertext=bytes(len(damaged.ciphertext))))
    c.receive()
    assert c.complaints == [Complaint("carol", "alice", ComplaintReason.UNDECRYPTABLE)]
    c.answer()
    result, carol_share = c.finish("carol")
    assert result.qualified == ROSTER
    shares = {t: c.finish(t)[1] for t in ROSTER}
    assert shares["carol"] == carol_share
    _decrypts(result, shares, ["carol", "dave", "erin"])


def test_a_false_complaint_costs_the_honest_dealer_nothing() -> None:
    c = Ceremony(_config(get_group("ristretto255")))
    c.receive()
    c.complaints = [_signed(c.config, Complaint("bob", "alice", ComplaintReason.INVALID_SHARE))]
    c.answer()
    result, _ = c.finish("alice")
    assert result.qualified == ROSTER


def test_a_dealer_with_an_invalid_proof_is_disqualified_without_complaints() -> None:
    group = get_group("ristretto255")
    c = Ceremony(_config(group))
    index = next(i for i, m in enumerate(c.commitments) if m.trustee_id == "bob")
    bob = c.commitments[index]
    forged = schnorr.SchnorrProof(bob.proofs[1].A, (bob.proofs[1].v + 1) % group.order)
    c.commitments[index] = _signed(
        c.config, dataclasses.replace(bob, proofs=(bob.proofs[0], forged, bob.proofs[2]))
    )
    c.receive()
    assert all(complaint.accused != "bob" for complaint in c.complaints)
    result, _ = c.finish("alice")
    assert result.disqualified == {"bob": "proof of knowledge for coefficient 1 does not verify"}


def test_commitment_proofs_are_batched_and_a_bad_one_is_still_named() -> None:
    """Two dealers cheat differently among five; the batch fails and the fallback names each exactly."""
    group = get_group("ristretto255")
    c = Ceremony(_config(group))
    assert dkg.check_commitments(c.config, c.commitments) == [None] * len(ROSTER)
    by_id = {m.trustee_id: i for i, m in enumerate(c.commitments)}
    bob, dave = c.commitments[by_id["bob"]], c.commitments[by_id["dave"]]
    p = bob.proofs[2]
    bent = schnorr.SchnorrProof(p.A * group.generator(), p.v)  # another commitment, same response
    c.commitments[by_id["bob"]] = _signed(c.config, dataclasses.replace(bob, proofs=(*bob.proofs[:2], bent)))
    # dave swaps two proofs: each is a valid proof, but of the other coefficient and context.
    c.commitments[by_id["dave"]] = _signed(
        c.config, dataclasses.replace(dave, proofs=(dave.proofs[1], dave.proofs[0], dave.proofs[2]))
    )
    ids = [m.trustee_id for m in c.commitments]
    checked = dict(zip(ids, dkg.check_commitments(c.config, c.commitments), strict=True))
    assert {t for t, failed in checked.items() if failed is not None} == {"bob", "dave"}
    assert checked["bob"] is not None and checked["dave"] is not None
    assert (checked["bob"].check, checked["bob"].subject) == ("dkg-commitment", "bob")
    assert checked["bob"].detail == "proof of knowledge for coefficient 2 does not verify"
    assert checked["dave"].detail == "proof of knowledge for coefficient 0 does not verify"
    with pytest.raises(VerificationFailed, match="coefficient 2"):
        dkg.check_commitment(c.config, c.commitments[by_id["bob"]])
    result = dkg.finalize(c.config, c.commitments)
    assert result.qualified == ("alice", "carol", "erin")
    assert list(result.disqualified) == ["bob", "dave"]


def test_missing_and_duplicated_commitments_disqualify() -> None:
    c = Ceremony(_config(get_group("ristretto255")))
    erin = next(m for m in c.commitments if m.trustee_id == "erin")
    other = Trustee.new(c.config, "erin", trustee_key("erin")).commitment()
    commitments = [m for m in c.commitments if m.trustee_id not in ("dave",)] + [other]
    result = dkg.finalize(c.config, commitments)
    assert result.disqualified == {
        "dave": "published no commitments",
        "erin": "published two different sets of commitments",
    }
    assert erin in commitments


def test_fewer_than_t_qualified_trustees_is_a_rule_violation() -> None:
    c = Ceremony(_config(get_group("ristretto255")))
    with pytest.raises(RuleViolation) as info:
        dkg.finalize(c.config, c.commitments[:2])
    assert info.value.rule is Rule.NOT_ENOUGH_TRUSTEES
    assert "only 2 of 5" in str(info.value)


def test_a_commitment_for_another_trustee_or_coefficient_does_not_verify() -> None:
    group = get_group("ristretto255")
    config = _config(group)
    alice = Trustee.new(config, "alice", trustee_key("alice")).commitment()
    as_bob = dataclasses.replace(alice, trustee_id="bob")
    with pytest.raises(VerificationFailed) as info:
        dkg.check_commitment(config, as_bob)
    assert info.value.subject == "bob"
    swapped = dataclasses.replace(alice, commitments=alice.commitments[::-1], proofs=alice.proofs[::-1])
    with pytest.raises(VerificationFailed):
        dkg.check_commitment(config, swapped)
    with pytest.raises(VerificationFailed, match="identity"):
        dkg.check_commitment(
            config, dataclasses.replace(alice, commitments=(group.identity(), *alice.commitments[1:]))
        )
    with pytest.raises(VerificationFailed, match="expected 3"):
        dkg.check_commitment(config, dataclasses.replace(alice, proofs=alice.proofs[:2]))
    other = test_config("e-2027", group, 3, ROSTER)
    with pytest.raises(VerificationFailed):
        dkg.check_commitment(other, alice)


def test_config_validation() -> None:
    group = get_group("ristretto255")
    with pytest.raises(InvalidInput, match="threshold"):
        test_config("e", group, 6, ROSTER)
    with pytest.raises(InvalidInput, match="threshold"):
        test_config("e", group, 0, ROSTER)
    key = bytes(trustee_key("a").verify_key)
    with pytest.raises(InvalidInput, match="twice"):
        CeremonyConfig("e", group, 1, ("a", "a"), (key, bytes(trustee_key("b").verify_key)))
    with pytest.raises(InvalidInput, match="same signing key"):
        CeremonyConfig("e", group, 1, ("a", "b"), (key, key))  # one party posing as two trustees
    with pytest.raises(InvalidInput, match="2 signing keys for 1"):
        CeremonyConfig("e", group, 1, ("a",), (key, key))
    with pytest.raises(InvalidInput, match="32 bytes"):
        CeremonyConfig("e", group, 1, ("a",), (key[:31],))
    roster = test_config("e", group, 1, ("a",)).to_json()
    with pytest.raises(InvalidInput, match="trustees\\[0\\]"):
        CeremonyConfig.from_json({**roster, "trustees": ["a"]})
    with pytest.raises(InvalidInput, match="trustee id"):
        test_config("e", group, 1, ("a b",))
    with pytest.raises(InvalidInput):
        _config(group).index("mallory")
    config = _config(group)
    assert CeremonyConfig.from_json(json.loads(json.dumps(config.to_json()))) == config
    assert _config(group, t=2).digest() != config.digest()
    with pytest.raises(UnsupportedFormat):
        CeremonyConfig.from_json({**config.to_json(), "group": "p384"})
    with pytest.raises(InvalidInput):
        CeremonyConfig.from_json({**config.to_json(), "threshold": True})


def test_complaint_about_oneself_is_invalid() -> None:
    with pytest.raises(InvalidInput):
        Complaint("alice", "alice", ComplaintReason.MISSING)


def _roundtrip(cls: type, config: CeremonyConfig, message: object) -> object:
    text = json.dumps(message.to_json(config))  # type: ignore[attr-defined]
    return cls.from_json(config, json.loads(text))  # type: ignore[attr-defined]


# Only registered groups: a configuration names its group, and the toy group is not registered.
@pytest.mark.parametrize("name", GROUP_NAMES)
def test_every_message_survives_json_and_is_bound_to_its_ceremony(name: str) -> None:
    group = get_group(name)
    c = Ceremony(_config(group))
    c.replace_share("alice", "bob", None)
    c.receive()
    c.answer()
    config = c.config
    other = test_config("e-other", group, 3, ROSTER)
    messages = [
        (dkg.TrusteeCommitment, c.commitments[0]),
        (EncryptedShare, c.shares[0]),
        (Complaint, c.complaints[0]),
        (ComplaintAnswer, c.answers[0]),
    ]
    for cls, message in messages:
        assert _roundtrip(cls, config, message) == message
        with pytest.raises(InvalidInput, match="another ceremony"):
            cls.from_json(other, message.to_json(config))
        with pytest.raises(InvalidInput):
            cls.from_json(config, {**message.to_json(config), "extra": 1})
    result, _ = c.finish("alice")
    assert dkg.CeremonyResult.from_json(config, json.loads(json.dumps(result.to_json()))) == result


def test_a_commitment_outside_the_group_is_refused_on_decoding() -> None:
    group = get_group("secp256k1")
    config = _config(group)
    obj = Trustee.new(config, "alice", trustee_key("alice")).commitment().to_json(config)
    obj["commitments"][1] = "04" + "00" * 32  # type: ignore[index]
    with pytest.raises(InvalidInput, match=r"commitments\[1\]"):
        dkg.TrusteeCommitment.from_json(config, obj)


def test_a_ceremony_across_machines_through_json_and_sealed_state() -> None:
    """Each round reads and writes only JSON; each trustee is sealed between rounds."""
    group = get_group("ristretto255")
    config = _config(group, t=2, roster=("alice", "bob", "carol"))
    n = 2**14
    saved = {t: Trustee.new(config, t, trustee_key(t)).save(f"pw-{t}", scrypt_n=n) for t in config.trustees}

    def run(name: str, step: str, *args: object) -> object:
        me = Trustee.load(saved[name], f"pw-{name}")
        out = getattr(me, step)(*args)
        saved[name] = me.save(f"pw-{name}", scrypt_n=n)
        return out

    def wire(messages: list, cls: type) -> list:  # type: ignore[type-arg]
        return [cls.from_json(config, json.loads(json.dumps(m.to_json(config)))) for m in messages]

    commitments = wire([run(t, "commitment") for t in config.trustees], dkg.TrusteeCommitment)
    shares = wire([s for t in config.trustees for s in run(t, "deal", commitments)], EncryptedShare)  # type: ignore[attr-defined]
    complaints = [c for t in config.trustees for c in run(t, "receive", commitments, shares)]  # type: ignore[attr-defined]
    assert complaints == []
    outcomes = {t: run(t, "finish", commitments) for t in config.trustees}
    results = {r.to_json()["joint_key"] for r, _ in outcomes.values()}  # type: ignore[misc]
    assert len(results) == 1
    result = outcomes["alice"][0]  # type: ignore[index]
    sealed = {t: s.save("share-pw", scrypt_n=n) for t, (_, s) in outcomes.items()}  # type: ignore[misc]
    restored = {t: threshold.TrusteeShare.load(data, "share-pw") for t, data in sealed.items()}
    _decrypts(result, restored, ["alice", "carol"])


def test_two_dealers_whose_proof_errors_would_cancel_are_both_named() -> None:
    """bob shifts a response by +d and dave the same coefficient's by −d: each has its own weight."""
    group = get_group("ristretto255")
    config = _config(group)
    messages = [Trustee.new(config, t, trustee_key(t)).commitment() for t in ROSTER]
    d = group.random_nonzero_scalar()
    for i, sign in ((1, 1), (3, -1)):  # bob, dave
        p = messages[i].proofs[1]
        bent = schnorr.SchnorrProof(p.A, (p.v + sign * d) % group.order)
        messages[i] = dataclasses.replace(
            messages[i], proofs=(messages[i].proofs[0], bent, messages[i].proofs[2])
        )
    checked = dkg.check_commitments(config, messages)
    named = {m.trustee_id: f.detail for m, f in zip(messages, checked, strict=True) if f is not None}
    assert named == {t: "proof of knowledge for coefficient 1 does not verify" for t in ("bob", "dave")}


def test_a_message_its_trustee_did_not_sign_is_refused_naming_trustee_and_message() -> None:
    """The board (or anyone) forges a complaint by bob against alice, and an answer by carol."""
    c = Ceremony(_config(get_group("ristretto255")))
    c.receive()
    forged = Complaint("bob", "alice", ComplaintReason.INVALID_SHARE)  # unsigned
    by_erin = dataclasses.replace(forged, signature=trustee_key("erin").sign(b"x").signature)
    for bad in (forged, by_erin):
        with pytest.raises(VerificationFailed) as info:
            c.trustees["alice"].answer([bad])
        assert info.value.check == "trustee-signature"
        assert info.value.subject == "dkg-complaint of bob against alice"
        with pytest.raises(VerificationFailed, match="dkg-complaint of bob against alice"):
            dkg.finalize(c.config, c.commitments, [bad])
    alice = next(m for m in c.commitments if m.trustee_id == "alice")
    moved = dataclasses.replace(alice, encryption_key=bytes(32))  # changed after alice signed it
    with pytest.raises(VerificationFailed, match="dkg-commitment of alice: signature does not verify"):
        c.trustees["bob"].receive([moved, *c.commitments[1:]], c.shares)
    answer = dkg.ComplaintAnswer("carol", "dave", 5)
    with pytest.raises(VerificationFailed, match="dkg-answer of carol to dave"):
        dkg.finalize(c.config, c.commitments, [], [answer])
    with pytest.raises(InvalidInput, match="roster key of bob"):
        sign_message(c.config, trustee_key("erin"), forged)
    signed = dkg.finalize(c.config, c.commitments, [_signed(c.config, forged)])  # bob's own, unanswered
    assert signed.disqualified == {"alice": "did not answer the complaint of bob"}


def test_sealed_state_keeps_the_signing_key() -> None:
    config = _config(get_group("ristretto255"))
    me = Trustee.new(config, "bob", trustee_key("bob"))
    again = Trustee.load(me.save("pw", scrypt_n=2**14), "pw")
    assert again.commitment().signature  # signs with the restored key, under bob's roster key
    dkg.check_signatures(config, [again.commitment()])
    with pytest.raises(InvalidInput, match="roster key of bob"):
        Trustee.new(config, "bob", trustee_key("carol"))
