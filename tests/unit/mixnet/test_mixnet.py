"""The mix-net: honest shuffles verify on every group and width; every dishonest one fails, by name."""

from __future__ import annotations

import collections
import dataclasses
import functools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from degcore import mixnet
from degcore.elgamal import (
    Ciphertext,
    PublicKey,
    decrypt_to_element,
    dlog,
    encrypt,
    keygen,
)
from degcore.errors import InvalidInput, VerificationFailed
from degcore.groups import Group, get_group
from degcore.mixnet.cascade import (
    _stages_hold,
    flatten,
    mix,
    stage_context,
    start_later_stages,
    unflatten,
    verify_cascade,
)
from degcore.mixnet.equations import ShuffleEquationFailed, _weighted_terms, check_shuffle, power_product
from degcore.mixnet.proof import _NAMES, _DegcoreTranscript, _Statement
from degcore.parallel import SERIAL
from degcore.tally.mixed import decrypt_rows
from degcore.trustees import threshold
from tests.conftest import group_by_name
from tests.record_fixtures import _ceremony, setup_for
from tests.trustee_keys import local_ceremony, test_config

CONTEXT = b"base hash of the election"


def _rows(pk: PublicKey, n: int, width: int) -> list[mixnet.Row]:
    return [tuple(encrypt(pk, (3 * i + k) % 11) for k in range(width)) for i in range(n)]


def _decrypt_rows(sk: object, rows: list[mixnet.Row]) -> collections.Counter[tuple[int, ...]]:

    return collections.Counter(
        tuple(dlog(ct.a.group, decrypt_to_element(sk, ct), 20) for ct in row) for row in rows
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("width", [1, 3, 8])
def test_an_honest_shuffle_verifies_and_keeps_the_plaintexts(group: Group, width: int) -> None:
    pair = keygen(group)
    rows = _rows(pair.public, 6, width)
    out, witness = mixnet.shuffle(pair.public, rows)
    proof = mixnet.prove(pair.public, rows, out, witness, CONTEXT, executor=SERIAL)
    mixnet.verify(pair.public, rows, out, proof, CONTEXT, executor=SERIAL)
    assert out != rows and set(out).isdisjoint(rows)  # re-encrypted: nothing left as it was
    assert _decrypt_rows(pair.secret, out) == _decrypt_rows(pair.secret, rows)
    if group.name != "toy-insecure":
        again = mixnet.ShuffleProof.from_json(group, json.loads(json.dumps(proof.to_json(group))))
        assert again == proof


def _fails(
    pk: PublicKey,
    rows_in: list[mixnet.Row],
    rows_out: list[mixnet.Row],
    proof: mixnet.ShuffleProof,
    context: bytes = CONTEXT,
) -> str:
    with pytest.raises((VerificationFailed, InvalidInput)) as info:
        mixnet.verify(pk, rows_in, rows_out, proof, context, executor=SERIAL)
    return str(info.value)


def test_dropped_duplicated_altered_or_replayed_shuffles_fail() -> None:
    group = get_group("ristretto255")
    pair = keygen(group)
    pk = pair.public
    rows = _rows(pk, 8, 2)
    out, witness = mixnet.shuffle(pk, rows)
    proof = mixnet.prove(pk, rows, out, witness, CONTEXT, executor=SERIAL)
    dropped = out[:-1]
    assert "input" in _fails(pk, rows, dropped, proof) or "output" in _fails(pk, rows, dropped, proof)
    duplicated = [out[0], *out[:-1]]
    assert "t" in _fails(pk, rows, duplicated, proof)
    altered = list(out)
    altered[4] = (altered[4][0] * Ciphertext(group.identity(), group.generator()), altered[4][1])  # +1 inside
    assert "does not hold" in _fails(pk, rows, altered, proof)
    other_rows = _rows(pk, 8, 2)
    assert "does not hold" in _fails(pk, other_rows, out, proof)  # the same proof on another input
    assert "does not hold" in _fails(pk, rows, out, proof, b"another election")
    with pytest.raises(InvalidInput, match="row 2"):
        mixnet.verify(pk, rows, [*out[:2], out[2][:1], *out[3:]], proof, CONTEXT, executor=SERIAL)


def test_a_proof_whose_parts_are_changed_names_the_equation() -> None:
    group = get_group("secp256k1")
    pk = keygen(group).public
    rows = _rows(pk, 5, 1)
    out, witness = mixnet.shuffle(pk, rows)
    proof = mixnet.prove(pk, rows, out, witness, CONTEXT, executor=SERIAL)
    q = group.order
    g = group.generator()
    cases = {
        "t1": dataclasses.replace(proof, s1=(proof.s1 + 1) % q),
        "t2": dataclasses.replace(proof, s2=(proof.s2 + 1) % q),
        "t3": dataclasses.replace(proof, s3=(proof.s3 + 1) % q),
        "t4[0]": dataclasses.replace(proof, s4=((proof.s4[0] + 1) % q,)),
        "t̂[2]": dataclasses.replace(
            proof, s_hat=(*proof.s_hat[:2], (proof.s_hat[2] + 1) % q, *proof.s_hat[3:])
        ),
        "sizes": dataclasses.replace(proof, t_hat=proof.t_hat[:-1]),
    }
    for name, bad in cases.items():
        assert name.split("[")[0] in _fails(pk, rows, out, bad), name
    # A changed commitment changes every challenge: the first equation fails.
    moved = dataclasses.replace(proof, commitments=(proof.commitments[0] * g, *proof.commitments[1:]))
    assert "does not hold" in _fails(pk, rows, out, moved)
    with pytest.raises(VerificationFailed, match="reduced"):
        mixnet.verify(pk, rows, out, dataclasses.replace(proof, s1=q), CONTEXT, executor=SERIAL)


def _bump_s_hat(proof: mixnet.ShuffleProof, i: int, q: int) -> mixnet.ShuffleProof:
    s_hat = list(proof.s_hat)
    s_hat[i] = (s_hat[i] + 1) % q
    return dataclasses.replace(proof, s_hat=tuple(s_hat))


def test_elements_outside_the_group_are_refused_when_a_proof_is_read() -> None:
    group = get_group("secp256k1")
    pk = keygen(group).public
    rows = _rows(pk, 3, 1)
    out, witness = mixnet.shuffle(pk, rows)
    obj = mixnet.prove(pk, rows, out, witness, CONTEXT, executor=SERIAL).to_json(group)
    obj["chain"][1] = "02" + "ff" * 32  # x ≥ p
    with pytest.raises(InvalidInput, match=r"chain\[1\]"):
        mixnet.ShuffleProof.from_json(group, obj)


def test_a_cascade_of_three_then_threshold_decryption() -> None:
    group = get_group("ristretto255")
    ceremony, shares = local_ceremony(test_config("mix", group, 3, ("t1", "t2", "t3", "t4", "t5")))
    pk = ceremony.joint_key
    rows = _rows(pk, 10, 3)
    stages, current = [], rows
    for k in (1, 2, 3):
        stage = mix(pk, current, CONTEXT, k, executor=SERIAL)
        stages.append(stage)
        current = list(stage.rows)
    verify_cascade(pk, rows, stages, CONTEXT, executor=SERIAL)
    with pytest.raises(VerificationFailed, match="stage 2"):
        verify_cascade(pk, rows, [stages[0], stages[2], stages[1]], CONTEXT, executor=SERIAL)
    with pytest.raises(VerificationFailed, match="stage 1"):
        verify_cascade(
            pk, rows, [dataclasses.replace(stages[0], proof=stages[1].proof), *stages[1:]], CONTEXT
        )
    assert stage_context(CONTEXT, 1) != stage_context(CONTEXT, 2)
    cts = flatten(current)
    partials = [
        threshold.partial_decrypt(CONTEXT, shares[t], cts, executor=SERIAL) for t in ("t2", "t4", "t5")
    ]
    values = [
        dlog(group, m, 20)
        for m in threshold.threshold_decrypt(CONTEXT, ceremony, cts, partials, executor=SERIAL)
    ]
    decrypted = collections.Counter(unflatten(values, 3))
    expected = collections.Counter(tuple((3 * i + k) % 11 for k in range(3)) for i in range(10))
    assert decrypted == expected


def _three_stages(n: int = 6) -> tuple[PublicKey, list, list]:
    group = get_group("ristretto255")
    pk = keygen(group).public
    rows = _rows(pk, n, 1)
    stages, current = [], rows
    for k in (1, 2, 3):
        stages.append(mix(pk, current, CONTEXT, k, executor=SERIAL))
        current = list(stages[-1].rows)
    return pk, rows, stages


def _bumped(values: tuple, j: int, delta: int, q: int) -> tuple:
    return (*values[:j], (values[j] + delta) % q, *values[j + 1 :])


def test_one_multi_exponentiation_for_every_stage_still_names_the_false_one() -> None:
    """A dishonest mix server (stage 2) changes its own proof's response ŝ_0 (not hashed, so only link
    0 is false); the whole cascade is checked in one MSM first, and the failure is named stage by
    stage, equation by equation."""
    pk, rows, stages = _three_stages()
    verify_cascade(pk, rows, stages, CONTEXT, executor=SERIAL)
    q = pk.group.order
    bad = dataclasses.replace(stages[1].proof, s_hat=_bumped(stages[1].proof.s_hat, 0, 1, q))
    with pytest.raises(ShuffleEquationFailed, match=r"stage 2.*link 0") as caught:
        verify_cascade(pk, rows, [stages[0], dataclasses.replace(stages[1], proof=bad), stages[2]], CONTEXT)
    assert caught.value.equation == "chain-link"


def test_errors_in_two_stages_that_cancel_without_weights_fail_the_shared_check() -> None:
    """Stage 1's server raises ŝ_0 by δ and stage 2's lowers it by δ: link 0 of each is off by g^δ
    and g^-δ, which cancel under one weight for both stages. Each stage's own weights refuse
    them in the shared MSM, and stage 1 is named."""
    pk, rows, stages = _three_stages()
    q, delta = pk.group.order, 12345
    one = dataclasses.replace(stages[0].proof, s_hat=_bumped(stages[0].proof.s_hat, 0, delta, q))
    two = dataclasses.replace(stages[1].proof, s_hat=_bumped(stages[1].proof.s_hat, 0, -delta, q))
    forged = [dataclasses.replace(stages[0], proof=one), dataclasses.replace(stages[1], proof=two), stages[2]]
    assert not _stages_hold(pk, [rows, *(s.rows for s in forged[:-1])], forged, CONTEXT)
    with pytest.raises(ShuffleEquationFailed, match=r"stage 1.*link 0"):
        verify_cascade(pk, rows, forged, CONTEXT, executor=SERIAL)


def test_a_malformed_stage_leaves_the_shared_check_to_the_stage_by_stage_one() -> None:
    pk, rows, stages = _three_stages()
    short = dataclasses.replace(stages[2].proof, s_hat=stages[2].proof.s_hat[:-1])
    forged = [*stages[:2], dataclasses.replace(stages[2], proof=short)]
    assert not _stages_hold(pk, [rows, *(s.rows for s in forged[:-1])], forged, CONTEXT)
    with pytest.raises(VerificationFailed, match=r"stage 3.*proof sizes"):
        verify_cascade(pk, rows, forged, CONTEXT, executor=SERIAL)


def test_later_stages_started_ahead_hold_together_and_a_false_one_is_named_in_order() -> None:
    """A verifier checks stages 2 and 3 ahead (their inputs are published) in one MSM. When stage
    3's server changes its own ŝ_0 (not hashed: only link 0 is false), the joint check fails, each
    stage is checked alone and stage 3 is named; when stage 2's server also changes its ŝ_1,
    verify_cascade reports stage 2, the first in order."""
    pk, rows, stages = _three_stages()
    started = start_later_stages(pk, stages, CONTEXT, SERIAL)
    assert sorted(started) == [2, 3] and all(f.result() is None for f in started.values())
    verify_cascade(pk, rows, stages, CONTEXT, executor=SERIAL, started=started)
    q = pk.group.order
    three = dataclasses.replace(stages[2].proof, s_hat=_bumped(stages[2].proof.s_hat, 0, 1, q))
    forged = [stages[0], stages[1], dataclasses.replace(stages[2], proof=three)]
    started = start_later_stages(pk, forged, CONTEXT, SERIAL)
    assert started[2].result() is None and started[3].exception() is not None
    with pytest.raises(ShuffleEquationFailed, match=r"stage 3.*link 0"):
        verify_cascade(pk, rows, forged, CONTEXT, executor=SERIAL, started=started)
    two = dataclasses.replace(stages[1].proof, s_hat=_bumped(stages[1].proof.s_hat, 1, 1, q))
    forged = [stages[0], dataclasses.replace(stages[1], proof=two), forged[2]]
    with pytest.raises(ShuffleEquationFailed, match=r"stage 2.*link 1"):
        verify_cascade(
            pk,
            rows,
            forged,
            CONTEXT,
            executor=SERIAL,
            started=start_later_stages(pk, forged, CONTEXT, SERIAL),
        )


def test_shuffling_and_proving_on_a_process_pool_gives_a_valid_proof() -> None:
    group = get_group("ristretto255")
    pk = keygen(group).public
    rows = _rows(pk, 80, 1)
    out, witness = mixnet.shuffle(pk, rows)
    proof = mixnet.prove(pk, rows, out, witness, CONTEXT)  # default executor: the process pool
    mixnet.verify(pk, rows, out, proof, CONTEXT)


def test_bad_inputs_are_refused() -> None:
    pk = keygen(get_group("ristretto255")).public
    with pytest.raises(InvalidInput, match="at least one row"):
        mixnet.shuffle(pk, [])
    rows = _rows(pk, 3, 2)
    with pytest.raises(InvalidInput, match="row 1"):
        mixnet.shuffle(pk, [rows[0], rows[1][:1], rows[2]])
    with pytest.raises(InvalidInput):
        unflatten([1, 2, 3], 2)
    assert "secret" in repr(mixnet.shuffle(pk, rows)[1])
    assert sorted(mixnet.permutation(50)) == list(range(50))


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_hypothesis_sizes_1_to_64(data: st.DataObject) -> None:
    group = group_by_name(data.draw(st.sampled_from(["ristretto255", "secp256k1", "toy"])))
    n = data.draw(st.integers(min_value=1, max_value=64), label="n")
    width = data.draw(st.integers(min_value=1, max_value=3), label="width")
    pk = keygen(group).public
    rows = _rows(pk, n, width)
    out, witness = mixnet.shuffle(pk, rows)
    proof = mixnet.prove(pk, rows, out, witness, CONTEXT, executor=SERIAL)
    mixnet.verify(pk, rows, out, proof, CONTEXT, executor=SERIAL)
    i = data.draw(st.integers(min_value=0, max_value=n - 1), label="i")
    k = data.draw(st.integers(min_value=0, max_value=width - 1), label="k")
    bad = list(out)
    row = list(bad[i])
    row[k] = Ciphertext(row[k].a, row[k].b * group.generator())
    bad[i] = tuple(row)
    with pytest.raises(VerificationFailed):
        mixnet.verify(pk, rows, bad, proof, CONTEXT, executor=SERIAL)


def test_chain_link_errors_that_cancel_without_weights_are_caught_and_named() -> None:
    """The dishonest prover shifts t̂_1 by g and t̂_2 by g⁻¹: an unweighted product would still hold."""
    group = get_group("secp256k1")
    pk = keygen(group).public
    rows = _rows(pk, 6, 1)
    out, witness = mixnet.shuffle(pk, rows)
    proof = mixnet.prove(pk, rows, out, witness, CONTEXT, executor=SERIAL)
    g = group.generator()
    t_hat = list(proof.t_hat)
    t_hat[1], t_hat[2] = t_hat[1] * g, t_hat[2] / g
    assert group.product(t_hat) == group.product(proof.t_hat)
    # t̂ is in the challenge, so the dishonest prover re-derives every response with it: here the
    # equations are checked directly with the honest challenge and u, as the batched check sees them.
    transcript = _DegcoreTranscript(_Statement(group, CONTEXT, pk, rows, out))
    gens = transcript.generators(len(rows))
    u = transcript.batching(proof.commitments)
    challenge = transcript.challenge(proof.commitments, proof.chain, proof.t, proof.t_hat)
    args = {"generators": gens, "u": u, "challenge": challenge, "names": _NAMES, "executor": SERIAL}
    check_shuffle(pk, rows, out, proof, **args)  # type: ignore[arg-type]
    with pytest.raises(ShuffleEquationFailed, match=r"t̂\[1\]") as info:
        check_shuffle(pk, rows, out, dataclasses.replace(proof, t_hat=tuple(t_hat)), **args)  # type: ignore[arg-type]
    assert info.value.equation == "chain-link"


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_any_changed_link_fails_the_batch_and_is_named(data: st.DataObject) -> None:
    """On a batching group, a t̂_i moved by any g^δ fails and the one-by-one fallback names link i."""
    group = group_by_name("toy")
    assert group.batches
    pk = keygen(group).public
    n = data.draw(st.integers(min_value=1, max_value=12))
    rows = _rows(pk, n, 1)
    out, witness = mixnet.shuffle(pk, rows, executor=SERIAL)
    proof = mixnet.prove(pk, rows, out, witness, CONTEXT, executor=SERIAL)
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    delta = data.draw(st.integers(min_value=1, max_value=group.order - 1))
    t_hat = list(proof.t_hat)
    t_hat[i] = t_hat[i] * group.exp_g(delta)
    transcript = _DegcoreTranscript(_Statement(group, CONTEXT, pk, rows, out))
    args = {
        "generators": transcript.generators(n),
        "u": transcript.batching(proof.commitments),
        "challenge": transcript.challenge(proof.commitments, proof.chain, proof.t, proof.t_hat),
        "names": _NAMES,
        "executor": SERIAL,
    }
    with pytest.raises(ShuffleEquationFailed, match=rf"t̂\[{i}\]"):
        check_shuffle(pk, rows, out, dataclasses.replace(proof, t_hat=tuple(t_hat)), **args)  # type: ignore[arg-type]


def test_secret_power_products_never_take_the_variable_time_product(monkeypatch: pytest.MonkeyPatch) -> None:
    """The prover's ∏ base^secret is multiplied by libsodium's constant-time addition; only public
    products may go through an accelerated (variable-time) ``product``."""
    group = get_group("ristretto255")
    items = [(group.exp_g(i + 2), group.random_scalar()) for i in range(6)]
    expected = group.product(group.exp(base, k) for base, k in items)

    def refuse(elements: object) -> object:
        raise AssertionError("a product of secret powers went through Group.product")

    monkeypatch.setattr(group, "product", refuse)
    assert power_product(group, items, secret=True, executor=SERIAL) == expected
    with pytest.raises(AssertionError):
        power_product(group, items, secret=False, executor=SERIAL)  # the public path may use it


def _fixed_transcript_args(group: Group, pk: PublicKey, rows: list, out: list, proof: object) -> dict:
    """The honest generators, u and challenge: the equations as the dishonest prover must meet them."""
    transcript = _DegcoreTranscript(_Statement(group, CONTEXT, pk, rows, out))
    return {
        "generators": transcript.generators(len(rows)),
        "u": transcript.batching(proof.commitments),  # type: ignore[attr-defined]
        "challenge": transcript.challenge(proof.commitments, proof.chain, proof.t, proof.t_hat),  # type: ignore[attr-defined]
    }


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_the_one_multi_exponentiation_holds_for_an_honest_proof_and_for_no_changed_part(
    data: st.DataObject,
) -> None:
    """check_shuffle's first, combined check: every part of the proof and of the output is in it."""
    group = group_by_name("toy")
    pk = keygen(group).public
    n, width = data.draw(st.integers(1, 8)), data.draw(st.integers(1, 3))
    rows = _rows(pk, n, width)
    out, witness = mixnet.shuffle(pk, rows, executor=SERIAL)
    proof = mixnet.prove(pk, rows, out, witness, CONTEXT, executor=SERIAL)
    args = _fixed_transcript_args(group, pk, rows, out, proof)
    h, hs = args["generators"]
    power = functools.partial(power_product, group, secret=False, executor=SERIAL)
    u_product = functools.reduce(lambda x, y: x * y % group.order, args["u"], 1)

    def holds(p: mixnet.ShuffleProof, rows_out: list) -> bool:
        terms = _weighted_terms(pk, rows, rows_out, p, h, hs, args["u"], u_product, args["challenge"])
        return group.is_identity(power([(base, k % group.order) for base, k in terms.items()]))

    assert holds(proof, out)
    q, g = group.order, group.generator()
    i, k = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, width - 1))
    delta = data.draw(st.integers(1, q - 1))

    def bump(values: tuple, j: int) -> tuple:
        return (*values[:j], (values[j] + delta) % q, *values[j + 1 :])

    def moved(values: tuple, j: int) -> tuple:
        return (*values[:j], values[j] * group.exp_g(delta), *values[j + 1 :])

    changed = {
        "s1": dataclasses.replace(proof, s1=(proof.s1 + delta) % q),
        "s2": dataclasses.replace(proof, s2=(proof.s2 + delta) % q),
        "s3": dataclasses.replace(proof, s3=(proof.s3 + delta) % q),
        "s4": dataclasses.replace(proof, s4=bump(proof.s4, k)),
        "s_hat": dataclasses.replace(proof, s_hat=bump(proof.s_hat, i)),
        "s_prime": dataclasses.replace(proof, s_prime=bump(proof.s_prime, i)),
        "t": dataclasses.replace(proof, t=moved(proof.t, data.draw(st.integers(0, 2 + 2 * width)))),
        "t_hat": dataclasses.replace(proof, t_hat=moved(proof.t_hat, i)),
        "chain": dataclasses.replace(proof, chain=moved(proof.chain, i)),
        "commitments": dataclasses.replace(proof, commitments=moved(proof.commitments, i)),
    }
    for name, bad in changed.items():
        assert not holds(bad, out), name
    row = list(out[i])
    side = data.draw(st.sampled_from("ab"))
    ct = row[k]
    row[k] = Ciphertext(ct.a * g, ct.b) if side == "a" else Ciphertext(ct.a, ct.b * g)
    assert not holds(proof, [*out[:i], tuple(row), *out[i + 1 :]])


def test_decrypted_rows_are_read_from_the_scaled_combination_and_a_non_vote_is_named() -> None:
    """decrypt_rows looks each g^(m·D) up among the contest's few values; anything else is no vote."""
    group = get_group("ristretto255")
    context, _ = setup_for(group)
    shares = _ceremony(group)[1]
    contest = context.manifest.contest("vote")
    width = len(contest.options)
    pk = context.public_key
    votes = [tuple(1 if k == i % width else 0 for k in range(width)) for i in range(5)]
    rows = [tuple(encrypt(pk, m) for m in row) for row in votes]

    def partials(cts_rows: list) -> list:  # type: ignore[type-arg]
        return [threshold.partial_decrypt(context, shares[t], flatten(cts_rows)) for t in ("t1", "t2", "t4")]

    assert decrypt_rows(context, "vote", rows, partials(rows), executor=SERIAL) == votes
    bad = [*rows[:3], (encrypt(pk, contest.max_per_option + 1), *rows[3][1:]), rows[4]]
    with pytest.raises(VerificationFailed, match="row 3") as info:
        decrypt_rows(context, "vote", bad, partials(bad), executor=SERIAL)
    assert info.value.check == "mixnet-decryption"


def test_generators_prepared_ahead_are_the_ones_derived_and_are_taken_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """prepare_generators keeps exactly what generators() derives, for one next call with the same
    arguments only; other arguments, and the call after, derive their own."""
    group = get_group("ristretto255")
    fresh = mixnet.proof.generators(group, CONTEXT, 5)
    mixnet.proof.prepare_generators(group, CONTEXT, 5)
    derived: list[int] = []
    real = group.independent_generators
    monkeypatch.setattr(group, "independent_generators", lambda n, *a: derived.append(n) or real(n, *a))
    assert mixnet.proof.generators(group, CONTEXT + b"!", 5) != fresh and derived == [6]
    assert mixnet.proof.generators(group, CONTEXT, 5) == fresh and derived == [6]  # the kept ones
    assert mixnet.proof.generators(group, CONTEXT, 5) == fresh and derived == [6, 6]  # taken once
