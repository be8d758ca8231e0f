"""ElGamal keys, ciphertexts and the bounded discrete log."""

from __future__ import annotations

import dataclasses

import pytest

from degcore.elgamal import (
    Ciphertext,
    PublicKey,
    SecretKey,
    add,
    decrypt_to_element,
    disjunctive,
    dleq,
    dlog,
    encrypt,
    encrypt_revealable,
    keygen,
    reencrypt,
    schnorr,
    verify_opening,
)
from degcore.elgamal.batch import Batch
from degcore.elgamal.dlog import DiscreteLogTable
from degcore.errors import InvalidInput, NonCanonical, VerificationFailed
from degcore.groups import Group, get_group
from degcore.groups._toy import TOY


def test_encrypt_add_reencrypt_decrypt(group: Group) -> None:
    pair = keygen(group)
    votes = [3, 0, 1, 5]
    cts = [encrypt(pair.public, m) for m in votes]
    total = add(group, cts)
    assert dlog(group, decrypt_to_element(pair.secret, total), 100) == 9
    fresh = reencrypt(pair.public, cts[0])
    assert fresh != cts[0]
    assert dlog(group, decrypt_to_element(pair.secret, fresh), 10) == 3
    assert dlog(group, decrypt_to_element(pair.secret, cts[1]), 10) == 0
    assert decrypt_to_element(pair.secret, cts[1]) == group.identity()  # a count of zero
    empty = add(group, [])
    assert (empty.a, empty.b) == (group.identity(), group.identity())


def test_ciphertext_decoding_checks_both_halves(group: Group) -> None:
    pair = keygen(group)
    ct = encrypt(pair.public, 1)
    assert Ciphertext.decode(group, bytes(ct)) == ct
    with pytest.raises(InvalidInput):
        Ciphertext.decode(group, bytes(ct)[:-1])
    n = group.element_bytes
    bad_half = b"\xff" * n
    with pytest.raises(InvalidInput):
        Ciphertext.decode(group, bytes(ct)[:n] + bad_half)
    with pytest.raises(InvalidInput):
        Ciphertext.decode(group, bad_half + bytes(ct)[n:])


def test_opening_a_ciphertext(group: Group) -> None:
    pk = keygen(group).public
    ct, r = encrypt_revealable(pk, 1)
    verify_opening(pk, ct, 1, r)
    with pytest.raises(VerificationFailed):
        verify_opening(pk, ct, 0, r)
    with pytest.raises(VerificationFailed):
        verify_opening(pk, ct, 1, r + 1)


def test_keys_are_validated(group: Group) -> None:
    with pytest.raises(InvalidInput):
        PublicKey(group, group.identity())
    with pytest.raises(InvalidInput):
        PublicKey.decode(group, b"\x01" * (group.element_bytes - 1))
    with pytest.raises(InvalidInput):
        SecretKey(group, 0)
    with pytest.raises(InvalidInput):
        SecretKey(group, group.order)
    pair = keygen(group)
    assert "hidden" in repr(pair.secret)
    assert str(pair.secret.x) not in repr(pair.secret)
    assert PublicKey.decode(group, bytes(pair.public)) == pair.public


def test_prover_refuses_values_outside_the_range() -> None:
    pk = keygen(TOY).public
    ct, r = encrypt_revealable(pk, 2)
    with pytest.raises(InvalidInput):
        disjunctive.prove(pk, ct, 2, r, hi=1, context=bytes(32))
    with pytest.raises(InvalidInput):
        disjunctive.prove_sum(pk, [ct], 2, r, lo=0, hi=1, context=bytes(32))
    with pytest.raises(InvalidInput):
        disjunctive.prove(pk, ct, 2, r, lo=3, hi=1, context=bytes(32))


def test_proof_decoding_is_strict() -> None:
    group = get_group("ristretto255")
    a = bytes(group.generator())
    q = group.order.to_bytes(32, "little")
    assert schnorr.SchnorrProof.from_bytes(group, a + bytes(32)) == schnorr.SchnorrProof(group.generator(), 0)
    for data in [bytes(96), a + bytes(31), a + bytes(33), bytes(64)[:63]]:  # wrong lengths
        with pytest.raises(InvalidInput):
            schnorr.SchnorrProof.from_bytes(group, data)
    for data in [bytes(63), a + a + bytes(31), a + a + bytes(32) + b"\0", a + bytes(32)]:
        with pytest.raises(InvalidInput):
            dleq.DleqProof.from_bytes(group, data)
    with pytest.raises(InvalidInput):
        disjunctive.RangeProof.from_bytes(group, bytes(64))  # no width has 2 fields
    with pytest.raises(InvalidInput):
        disjunctive.RangeProof.from_bytes(group, b"\xff" * 32 + bytes(64))  # not a point
    with pytest.raises(NonCanonical):
        schnorr.SchnorrProof.from_bytes(group, a + q)  # v = q is not reduced
    with pytest.raises(InvalidInput):
        schnorr.SchnorrProof.from_bytes(group, b"\xff" * 32 + bytes(32))  # A is not an element
    with pytest.raises(InvalidInput):
        dleq.DleqProof.from_bytes(group, a + b"\xff" * 32 + bytes(32))  # A2 is not an element


def test_dlog_bounds_and_failures(group: Group) -> None:
    g = group.generator()
    assert dlog(group, group.identity(), 0) == 0
    assert dlog(group, g**37, 37) == 37
    with pytest.raises(VerificationFailed):
        dlog(group, g**38, 37)
    with pytest.raises(VerificationFailed):
        dlog(group, group.hash_to_element(b"x", b"degcore/4/test"), 50)
    with pytest.raises(InvalidInput):
        dlog(group, g, -1)


def test_dlog_up_to_10_to_the_8() -> None:
    group = get_group("secp256k1")
    for m in (0, 1, 10**4, 99_999_999, 10**8):
        assert dlog(group, group.exp_g(m), 10**8) == m


def test_dlog_table_boundaries() -> None:
    table = DiscreteLogTable(TOY, 10)
    for m in range(0, 120):
        assert table.find(TOY.exp_g(m), 119) == m
    with pytest.raises(VerificationFailed):
        table.find(TOY.exp_g(120), 119)


def test_a_range_proof_whose_errors_cancel_between_its_equations_is_refused(group: Group) -> None:
    """A dishonest voter proves 2 ∈ [0, 1] by making two of its proof's equations false by opposite
    amounts: A_j = g^u_j, B_j = h^u_j, then c_0 = −c and c_1 = 2c (the challenges are not hashed,
    only the commitments). Both A equations hold; B[0] is off by g^(2c), B[1] by g^(−2c). A verifier
    that weighed a proof's equations alike would accept; each equation has its own weight."""
    pk = keygen(group).public
    q, g = group.order, group.generator()
    r = group.random_scalar()
    ct = Ciphertext(group.exp_g(r), pk.fixed_base.exp_mul(r, g, 2))  # encrypts 2
    context = b"voter-proof-context"
    u = [group.random_scalar(), group.random_scalar()]
    commitments = (group.exp_g(u[0]), pk.fixed_base.exp(u[0]), group.exp_g(u[1]), pk.fixed_base.exp(u[1]))
    transcript = disjunctive._range_transcript(pk, ct, context, 0, 1)  # the voter's own transcript
    c = transcript.elements("commitments", commitments).challenge(group)
    c0, c1 = -c % q, 2 * c % q
    responses = ((u[0] - c0 * r) % q, (u[1] - c1 * r) % q)
    forged = disjunctive.RangeProof(commitments, (c0,), responses)
    with pytest.raises(VerificationFailed, match=r"B\[0\] does not hold"):
        disjunctive.verify(pk, ct, forged, hi=1, context=context)
    honest_ct, honest_r = encrypt_revealable(pk, 1)
    honest = disjunctive.prove(pk, honest_ct, 1, honest_r, hi=1, context=context)
    batch = Batch(group)
    disjunctive.equations(pk, honest_ct, honest, hi=1, context=context, batch=batch)
    disjunctive.equations(pk, ct, forged, hi=1, context=context, subject="forged", batch=batch)
    assert not batch.holds()
    assert [label[1:] for label in batch.failing()] == [("forged", "B[0]"), ("forged", "B[1]")]


def test_a_range_proof_read_from_bytes_writes_them_back_and_a_changed_copy_does_not(group: Group) -> None:
    """to_bytes answers from the bytes a proof was read from; a proof changed with replace() is
    written from its fields (the copy must not keep the bytes of the original)."""
    kp = keygen(group)
    ct, r = encrypt_revealable(kp.public, 1)
    proof = disjunctive.prove(kp.public, ct, 1, r, hi=1, context=b"ctx")
    data = proof.to_bytes(group)
    proof_type = disjunctive.RangeProof
    reads = [proof_type.from_bytes(group, data), *proof_type.many_from_bytes(group, [data])]
    for read in reads:
        assert read == proof
        assert read.to_bytes(group) == data
        bumped = (read.responses[0], (read.responses[1] + 1) % group.order)
        changed = dataclasses.replace(read, responses=bumped)
        assert changed.to_bytes(group) != data
        assert disjunctive.RangeProof.from_bytes(group, changed.to_bytes(group)) == changed


@pytest.mark.parametrize("bad", ["element", "scalar", "length"])
def test_proofs_decoded_together_equal_one_by_one_and_a_bad_one_is_named(group: Group, bad: str) -> None:
    """proofs_from_hex decodes a list in one call (DLEQ and Schnorr); what it returns is what
    from_bytes gives for each, and a bad proof anywhere in the list is refused by its index."""
    from degcore.elgamal._codec import proofs_from_hex  # noqa: PLC0415 - a private codec

    g = group.generator()
    dleqs, schnorrs = [], []
    for _ in range(4):
        x = group.random_scalar()
        a = group.exp_g(group.random_scalar())
        st = dleq.DleqStatement(g, group.exp_g(x), a, group.exp(a, x))
        dleqs.append(dleq.prove(group, x, st, b"ctx"))
        schnorrs.append(schnorr.prove(group, x, b"ctx"))
    for proofs, cls in ((dleqs, dleq.DleqProof), (schnorrs, schnorr.SchnorrProof)):
        hexes = [p.to_bytes(group).hex() for p in proofs]
        assert proofs_from_hex(cls, group, hexes, "proofs") == tuple(proofs)
        assert cls.many_from_bytes(group, [bytes.fromhex(h) for h in hexes]) == proofs
        data = bytearray(bytes.fromhex(hexes[2]))
        if bad == "element":
            data[: group.element_bytes] = b"\xff" * group.element_bytes
        elif bad == "scalar":
            data[-group.scalar_bytes :] = b"\xff" * group.scalar_bytes
        else:
            data = data[:-1]
        with pytest.raises(InvalidInput, match=r"proofs\[2\]"):
            proofs_from_hex(cls, group, [*hexes[:2], bytes(data).hex(), hexes[3]], "proofs")
