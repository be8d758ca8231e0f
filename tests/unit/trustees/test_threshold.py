"""Threshold decryption: tampered partials are rejected by name, Lagrange algebra, executors, sealing."""

from __future__ import annotations

import dataclasses
import json
import pickle
from concurrent.futures import ThreadPoolExecutor

import pytest

from degcore.elgamal import dleq, encrypt
from degcore.elgamal.dlog import dlog
from degcore.errors import InvalidInput, Rule, RuleViolation, VerificationFailed, WrongPassphrase
from degcore.groups import Group, get_group
from degcore.parallel import SERIAL
from degcore.trustees import threshold
from degcore.trustees._sealed import MIN_SCRYPT_N, seal, unseal
from degcore.trustees.dkg import CeremonyResult
from degcore.trustees.signing import sign_message
from degcore.trustees.threshold import PartialDecryption, ThresholdDecryption, TrusteeShare
from degcore.trustees.trustee import Trustee
from tests.trustee_keys import local_ceremony, test_config, trustee_key

ROSTER = ("t1", "t2", "t3", "t4", "t5")
CONTEXT = b"base hash"


@pytest.fixture(scope="module")
def ceremony() -> tuple[CeremonyResult, dict[str, TrusteeShare]]:
    return local_ceremony(test_config("e", get_group("ristretto255"), 3, ROSTER))


def _setup(
    ceremony: tuple[CeremonyResult, dict[str, TrusteeShare]], count: int = 6
) -> tuple[CeremonyResult, list, dict[str, PartialDecryption]]:  # type: ignore[type-arg]
    result, shares = ceremony
    cts = [encrypt(result.joint_key, m % 4) for m in range(count)]
    partials = {t: threshold.partial_decrypt(CONTEXT, shares[t], cts, executor=SERIAL) for t in ROSTER}
    return result, cts, partials


def _tampered(result: CeremonyResult, partial: PartialDecryption) -> dict[str, PartialDecryption]:
    group = result.config.group
    g = group.generator()
    v0, p0 = partial.values[0], partial.proofs[0]
    return {
        "value": dataclasses.replace(partial, values=(v0 * g, *partial.values[1:])),
        "commitment A1": dataclasses.replace(
            partial, proofs=(dleq.DleqProof(p0.A1 * g, p0.A2, p0.v), *partial.proofs[1:])
        ),
        "commitment A2": dataclasses.replace(
            partial, proofs=(dleq.DleqProof(p0.A1, p0.A2 * g, p0.v), *partial.proofs[1:])
        ),
        "response": dataclasses.replace(
            partial, proofs=(dleq.DleqProof(p0.A1, p0.A2, (p0.v + 1) % group.order), *partial.proofs[1:])
        ),
        "unreduced response": dataclasses.replace(
            partial, proofs=(dleq.DleqProof(p0.A1, p0.A2, p0.v + group.order), *partial.proofs[1:])
        ),
        "swapped": dataclasses.replace(partial, values=partial.values[::-1], proofs=partial.proofs[::-1]),
        "short": dataclasses.replace(partial, values=partial.values[:-1], proofs=partial.proofs[:-1]),
    }


def test_a_tampered_partial_is_rejected_naming_the_trustee_and_the_others_still_decrypt(ceremony) -> None:  # type: ignore[no-untyped-def]
    result, cts, partials = _setup(ceremony)
    for how, bad in _tampered(result, partials["t2"]).items():
        session = ThresholdDecryption(CONTEXT, result, cts, executor=SERIAL)
        with pytest.raises(VerificationFailed) as info:
            session.add(bad)
        assert info.value.check == "partial-decryption" and info.value.subject == "t2", how
        for t in ("t1", "t3", "t5"):
            session.add(partials[t])
        assert session.present == ("t1", "t3", "t5")
        assert [dlog(result.config.group, e, 10) for e in session.combine()] == [m % 4 for m in range(6)]


def test_a_dishonest_trustee_with_one_wrong_share_among_many_is_named_with_that_index(ceremony) -> None:  # type: ignore[no-untyped-def]
    """t2 holds its share x_2 and proves honestly, except that for ciphertext 13 it publishes a^r."""
    result, shares = ceremony
    group = result.config.group
    cts = [encrypt(result.joint_key, m % 4) for m in range(20)]
    honest = threshold.partial_decrypt(CONTEXT, shares["t2"], cts, executor=SERIAL)
    x2, key = shares["t2"].x, shares["t2"].verification_key()
    wrong = cts[13].a ** group.random_nonzero_scalar()
    lie = dleq.DleqStatement(group.generator(), key, cts[13].a, wrong)
    values, proofs = list(honest.values), list(honest.proofs)
    values[13], proofs[13] = wrong, dleq.prove(group, x2, lie, CONTEXT)  # the prover runs, the lie stays
    bad = sign_message(
        result.config,
        trustee_key("t2"),
        dataclasses.replace(honest, values=tuple(values), proofs=tuple(proofs)),
    )
    items = [(ct.a, m, p) for ct, m, p in zip(cts, bad.values, bad.proofs, strict=True)]
    assert threshold._check_chunk(group, key, CONTEXT, items) == [i != 13 for i in range(20)]
    session = ThresholdDecryption(CONTEXT, result, cts, executor=SERIAL)
    with pytest.raises(VerificationFailed) as info:
        session.add(bad)
    assert (info.value.check, info.value.subject) == ("partial-decryption", "t2")
    assert info.value.detail == "proof fails for 1 of 20 ciphertexts (index 13)"
    for t in ("t1", "t3", "t4"):
        session.add(threshold.partial_decrypt(CONTEXT, shares[t], cts, executor=SERIAL))
    assert [dlog(group, e, 10) for e in session.combine()] == [m % 4 for m in range(20)]


def test_a_partial_under_another_context_or_for_other_ciphertexts_fails(ceremony) -> None:  # type: ignore[no-untyped-def]
    result, cts, partials = _setup(ceremony)
    session = ThresholdDecryption(b"another election", result, cts, executor=SERIAL)
    with pytest.raises(VerificationFailed, match="6 of 6"):
        session.add(partials["t1"])
    others = [encrypt(result.joint_key, 0) for _ in cts]
    with pytest.raises(VerificationFailed):
        ThresholdDecryption(CONTEXT, result, others, executor=SERIAL).add(partials["t1"])


def test_unknown_duplicate_and_too_few_partials(ceremony) -> None:  # type: ignore[no-untyped-def]
    result, cts, partials = _setup(ceremony)
    session = ThresholdDecryption(CONTEXT, result, cts, executor=SERIAL)
    with pytest.raises(InvalidInput, match="not a qualified trustee"):
        session.add(dataclasses.replace(partials["t1"], trustee_id="mallory"))
    session.add(partials["t1"])
    with pytest.raises(InvalidInput, match="already accepted"):
        session.add(partials["t1"])
    session.add(partials["t4"])
    with pytest.raises(RuleViolation) as info:
        session.combine()
    assert info.value.rule is Rule.NOT_ENOUGH_TRUSTEES
    assert "t1, t4" in str(info.value)


def test_a_partial_presented_as_another_trustee_fails(ceremony) -> None:  # type: ignore[no-untyped-def]
    result, cts, partials = _setup(ceremony)
    with pytest.raises(VerificationFailed) as info:
        ThresholdDecryption(CONTEXT, result, cts).add(dataclasses.replace(partials["t1"], trustee_id="t2"))
    assert info.value.subject == "t2"


def test_partials_survive_json(ceremony) -> None:  # type: ignore[no-untyped-def]
    result, _, partials = _setup(ceremony)
    config = result.config
    obj = json.loads(json.dumps(partials["t3"].to_json(config)))
    assert PartialDecryption.from_json(config, obj) == partials["t3"]
    obj["values"][0] = "ff" * 32
    with pytest.raises(InvalidInput, match=r"values\[0\]"):
        PartialDecryption.from_json(config, obj)


def test_partial_proofs_decode_only_in_the_fixed_length_form_with_members(ceremony) -> None:  # type: ignore[no-untyped-def]
    result, _, partials = _setup(ceremony)
    config = result.config
    good = partials["t3"].to_json(config)
    proof = good["proofs"][1]
    assert len(proof) == 2 * (2 * 32 + 32)  # A1 ‖ A2 ‖ v, ristretto255
    for bad in [
        proof[:-2],  # one byte short
        proof + "00",
        proof[: 2 * 64],  # the old compact size (two scalars)
        "ff" * 32 + proof[64:],  # A1 not a group element
        proof[:64] + "ff" * 32 + proof[128:],  # A2 not a group element
        proof[:128] + "ff" * 32,  # v not reduced mod q
    ]:
        obj = json.loads(json.dumps(good))
        obj["proofs"][1] = bad
        with pytest.raises(InvalidInput, match=r"proofs\[1\]"):
            PartialDecryption.from_json(config, obj)


def test_lagrange_coefficients_interpolate_at_zero() -> None:
    q = 101
    # f(z) = 7 + 3z + 5z² mod q, sampled at 2, 4, 9.
    f = {j: (7 + 3 * j + 5 * j * j) % q for j in (2, 4, 9)}
    lambdas = threshold.lagrange_at_zero([2, 4, 9], q)
    assert sum(lam * f[j] for lam, j in zip(lambdas, (2, 4, 9), strict=True)) % q == 7
    assert threshold.lagrange_at_zero([5], q) == [1]
    with pytest.raises(InvalidInput):
        threshold.lagrange_at_zero([1, 1], q)
    with pytest.raises(InvalidInput):
        threshold.lagrange_at_zero([0, 1], q)


def test_integer_lagrange_coefficients_are_the_exact_fractions() -> None:
    q = get_group("ristretto255").order
    for indices in ([1, 2, 3], [1, 2, 4], [2, 4, 5], [1, 3, 5], [3], [1, 2, 3, 4, 5]):
        scale, numerators = threshold.lagrange_integers(indices)
        assert scale >= 1
        assert [n * pow(scale, -1, q) % q for n in numerators] == threshold.lagrange_at_zero(indices, q)
    assert threshold.lagrange_integers([1, 2, 4]) == (3, [8, -6, 1])  # 8/3, -2, 1/3
    with pytest.raises(InvalidInput):
        threshold.lagrange_integers([2, 2])


@pytest.mark.parametrize("present", [("t1", "t2", "t3"), ("t1", "t2", "t4"), ("t2", "t4", "t5")])
def test_the_scaled_combination_is_the_combination_raised_to_d(ceremony, present) -> None:  # type: ignore[no-untyped-def]
    result, cts, partials = _setup(ceremony)
    session = ThresholdDecryption(CONTEXT, result, cts, executor=SERIAL)
    for t in present:
        session.add(partials[t])
    scale, powers = session.combine_scaled()
    group = result.config.group
    assert powers == [group.exp_vartime(e, scale) for e in session.combine()]
    assert powers == [group.exp_g_vartime(scale * (m % 4)) for m in range(len(cts))]


@pytest.mark.parametrize("executor", [None, "threads"])
def test_executors_give_the_same_answer(ceremony, executor) -> None:  # type: ignore[no-untyped-def]
    """``None`` is the default process pool (used above 64 ciphertexts); results match the serial run."""
    result, shares = ceremony
    cts = [encrypt(result.joint_key, m % 3) for m in range(80)]
    pool = ThreadPoolExecutor(2) if executor == "threads" else None
    try:
        partials = [
            threshold.partial_decrypt(CONTEXT, shares[t], cts, executor=pool) for t in ("t1", "t2", "t3")
        ]
        plain = threshold.threshold_decrypt(CONTEXT, result, cts, partials, executor=pool)
    finally:
        if pool is not None:
            pool.shutdown()
    serial = threshold.threshold_decrypt(CONTEXT, result, cts, partials, executor=SERIAL)
    assert plain == serial
    assert [dlog(result.config.group, e, 3) for e in plain] == [m % 3 for m in range(80)]


def test_shares_and_trustee_state_seal_under_a_passphrase(ceremony, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, shares = ceremony
    share = shares["t2"]
    sealed = share.save("correct horse", scrypt_n=MIN_SCRYPT_N)
    path = tmp_path / "t2.share"
    path.write_bytes(sealed)
    assert TrusteeShare.load(path.read_bytes(), "correct horse") == share
    assert share.config.group.encode_scalar(share.x).hex() not in sealed.decode()
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        TrusteeShare.load(sealed, "correct horse ")
    assert "hidden" in repr(share)
    trustee = Trustee.new(share.config, "t1", trustee_key("t1"))
    with pytest.raises(InvalidInput, match="holds a 'dkg-trustee'"):
        TrusteeShare.load(trustee.save("pw", scrypt_n=MIN_SCRYPT_N), "pw")


def test_a_passphrase_in_another_unicode_form_opens_the_same_file() -> None:
    sealed = seal({"k": "v"}, "note", "е\u0301ж", scrypt_n=MIN_SCRYPT_N)  # NFD form
    assert unseal(sealed, "note", "\u0435\u0301\u0436") == {"k": "v"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "other"), ("scrypt_n", 2**15), ("salt", "00" * 16), ("nonce", "00" * 12)],
)
def test_an_altered_sealed_header_does_not_open(field: str, value: object) -> None:
    sealed = json.loads(seal({"k": "v"}, "note", "pw", scrypt_n=MIN_SCRYPT_N))
    sealed[field] = value
    with pytest.raises(InvalidInput):  # WrongPassphrase, or the kind check before it
        unseal(json.dumps(sealed).encode(), "other" if field == "kind" else "note", "pw")


def test_an_altered_ciphertext_or_weak_parameters_are_refused() -> None:
    sealed = json.loads(seal({"k": "v"}, "note", "pw", scrypt_n=MIN_SCRYPT_N))
    body = bytearray.fromhex(sealed["ciphertext"])
    body[0] ^= 1
    with pytest.raises(WrongPassphrase):
        unseal(json.dumps({**sealed, "ciphertext": body.hex()}).encode(), "note", "pw")
    with pytest.raises(InvalidInput, match="scrypt_n"):
        unseal(json.dumps({**sealed, "scrypt_n": 1024}).encode(), "note", "pw")
    with pytest.raises(InvalidInput, match="scrypt_n"):
        seal({}, "note", "pw", scrypt_n=1024)
    with pytest.raises(InvalidInput, match="non-empty"):
        seal({}, "note", "", scrypt_n=MIN_SCRYPT_N)
    with pytest.raises(InvalidInput, match="not a sealed"):
        unseal(b"garbage", "note", "pw")


def test_share_must_be_reduced(group: Group) -> None:
    config = test_config("e", group, 1, ("a",))
    with pytest.raises(InvalidInput):
        TrusteeShare(config, "a", group.order, trustee_key("a"))
    with pytest.raises(InvalidInput):
        TrusteeShare(config, "b", 1, trustee_key("b"))
    with pytest.raises(InvalidInput, match="roster key"):
        TrusteeShare(config, "a", 1, trustee_key("b"))


def test_a_trustee_whose_proof_errors_would_cancel_is_named_with_both_indices(ceremony) -> None:  # type: ignore[no-untyped-def]
    """The list holds one ciphertext twice; t2 shifts one copy's response by +d and the other's by −d.

    Both equations of the two proofs have the same bases (g, X, a, M), so under a shared weight
    their errors would cancel; with a weight per equation both indices are named.
    """
    result, shares = ceremony
    group = result.config.group
    cts = [encrypt(result.joint_key, m) for m in range(4)]
    cts.insert(1, cts[0])
    honest = threshold.partial_decrypt(CONTEXT, shares["t2"], cts, executor=SERIAL)
    d = group.random_nonzero_scalar()
    proofs = list(honest.proofs)
    for i, sign in ((0, 1), (1, -1)):
        proofs[i] = dleq.DleqProof(proofs[i].A1, proofs[i].A2, (proofs[i].v + sign * d) % group.order)
    bad = sign_message(result.config, trustee_key("t2"), dataclasses.replace(honest, proofs=tuple(proofs)))
    items = [(ct.a, m, p) for ct, m, p in zip(cts, bad.values, proofs, strict=True)]
    key = shares["t2"].verification_key()
    assert threshold._check_chunk(group, key, CONTEXT, items) == [False, False, True, True, True]
    session = ThresholdDecryption(CONTEXT, result, cts, executor=SERIAL)
    with pytest.raises(VerificationFailed) as info:
        session.add(bad)
    assert (info.value.subject, info.value.detail) == (
        "t2",
        "proof fails for 2 of 5 ciphertexts (index 0, 1)",
    )


def test_a_partial_not_signed_by_its_trustee_is_refused_naming_it(ceremony) -> None:  # type: ignore[no-untyped-def]
    """Whoever carries the partials (a board, a tallier) cannot pass off its own values as t2's."""
    result, shares = ceremony
    cts = [encrypt(result.joint_key, 1)]
    honest = threshold.partial_decrypt(CONTEXT, shares["t2"], cts, executor=SERIAL)
    forged = sign_message(result.config, trustee_key("t2"), honest)
    assert forged.signature == honest.signature  # Ed25519 is deterministic: the same bytes
    by_t3 = dataclasses.replace(honest, signature=trustee_key("t3").sign(b"x").signature)
    session = ThresholdDecryption(CONTEXT, result, cts, executor=SERIAL)
    with pytest.raises(VerificationFailed) as info:
        session.add(by_t3)
    assert (info.value.check, info.value.subject) == ("partial-decryption", "t2")
    assert "signature does not verify under t2's roster key" in info.value.detail
    with pytest.raises(InvalidInput, match="roster key of t2"):
        sign_message(result.config, trustee_key("t3"), honest)
    session.add(honest)


def test_a_partial_pickles_exactly_honest_or_forged(ceremony) -> None:  # type: ignore[no-untyped-def]
    """A partial crosses to and from workers as its encodings: every forged variant arrives as it
    left (an unreduced response too, which an encoding would reduce), and the honest one still verifies."""
    result, cts, partials = _setup(ceremony)
    honest = partials["t1"]
    for name, partial in {"honest": honest, **_tampered(result, honest)}.items():
        moved = pickle.loads(pickle.dumps(partial))  # noqa: S301 - our own object
        assert moved == partial and moved.signature == partial.signature, name
        assert [p.v for p in moved.proofs] == [p.v for p in partial.proofs], name
    session = ThresholdDecryption(CONTEXT, result, cts, executor=SERIAL)
    session.add(pickle.loads(pickle.dumps(honest)))  # noqa: S301 - our own object
    assert session.present == ("t1",)
    empty = dataclasses.replace(honest, values=(), proofs=())
    assert pickle.loads(pickle.dumps(empty)) == empty  # noqa: S301 - our own object


def test_proofs_checked_elsewhere_are_what_add_would_find(ceremony) -> None:  # type: ignore[no-untyped-def]
    """check_partial_proofs is add's proof check as a worker's task; add takes its outcome as is."""
    result, cts, partials = _setup(ceremony)
    group, keys = result.config.group, result.verification_keys
    honest, firsts = partials["t2"], [ct.a for ct in cts]
    assert threshold.check_partial_proofs(group, keys, CONTEXT, firsts, honest) == [True] * len(cts)
    forged = _tampered(result, honest)
    assert threshold.check_partial_proofs(group, keys, CONTEXT, firsts, forged["value"]) == [False] + [
        True
    ] * (len(cts) - 1)
    assert threshold.check_partial_proofs(group, keys, CONTEXT, firsts, forged["short"]) is None
    stranger = dataclasses.replace(honest, trustee_id="t9")
    assert threshold.check_partial_proofs(group, keys, CONTEXT, firsts, stranger) is None
    signed = sign_message(
        result.config, ceremony[1]["t2"].signing_key, dataclasses.replace(forged["value"], signature=b"")
    )
    session = ThresholdDecryption(CONTEXT, result, cts, executor=SERIAL)
    outcome = threshold.check_partial_proofs(group, keys, CONTEXT, firsts, signed)
    with pytest.raises(VerificationFailed, match=r"proof fails for 1 of 6 ciphertexts \(index 0\)"):
        session.add(signed, proofs_ok=outcome)
    session.add(honest, proofs_ok=threshold.check_partial_proofs(group, keys, CONTEXT, firsts, honest))
    assert session.present == ("t2",)


def test_a_signature_checked_elsewhere_is_taken_as_checked_and_only_then(ceremony) -> None:  # type: ignore[no-untyped-def]
    """add verifies the trustee's signature unless told a worker did (signature_checked)."""
    result, cts, partials = _setup(ceremony)
    unsigned = dataclasses.replace(partials["t1"], signature=bytes(64))
    session = ThresholdDecryption(CONTEXT, result, cts, executor=SERIAL)
    with pytest.raises(VerificationFailed, match="signature does not verify"):
        session.add(unsigned)
    session.add(partials["t1"], signature_checked=True)
    assert session.present == ("t1",)
