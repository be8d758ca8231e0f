"""Secret exponents reach only the constant-time operations; verification uses only the public ones.

The call-site rule of docs/protocol.md §1.2, checked by watching the group while the real provers
and verifiers run: every scalar the provers draw (nonces, coefficients, keys) and every trustee
share is a secret, and no ``*_vartime`` call may receive one of them (or its negation). The
verifiers, which see only public values, must not pay for the constant-time routines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from degcore import mixnet
from degcore.elgamal import disjunctive, dleq, encrypt_revealable, keygen, schnorr
from degcore.elgamal.dleq import DleqStatement
from degcore.groups import Group, get_group
from degcore.groups._toy import TOY
from degcore.parallel import SERIAL
from degcore.trustees import threshold
from tests.trustee_keys import local_ceremony, test_config

CONTEXT = bytes(range(32))


class _Watch:
    def __init__(self) -> None:
        self.secrets: set[int] = set()
        self.public_exponents: list[int] = []


@contextmanager
def _watch_secrets(group: Group, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Watch]:
    """Record every drawn scalar and every exponent given to a variable-time operation."""
    watch = _Watch()

    def drawing(draw: Callable[[], int]) -> Callable[[], int]:
        def recorded() -> int:
            k = draw()
            watch.secrets.add(k)
            return k

        return recorded

    def public(name: str, position: int) -> None:
        original = getattr(group, name)

        def recorded(*args: Any) -> Any:
            watch.public_exponents.append(args[position])
            return original(*args)

        monkeypatch.setattr(group, name, recorded)

    monkeypatch.setattr(group, "random_scalar", drawing(group.random_scalar))
    monkeypatch.setattr(group, "random_nonzero_scalar", drawing(group.random_nonzero_scalar))
    public("exp_vartime", 1)
    public("exp_g_vartime", 0)
    yield watch
    monkeypatch.undo()


def _leaked(group: Group, watch: _Watch) -> list[int]:
    q = group.order
    secret = {k % q for k in watch.secrets} | {(-k) % q for k in watch.secrets}
    return [k for k in watch.public_exponents if k % q in secret]


@pytest.fixture
def group() -> Group:
    return get_group("secp256k1")


def test_provers_keep_secrets_on_constant_time_paths(group: Group, monkeypatch: pytest.MonkeyPatch) -> None:
    with _watch_secrets(group, monkeypatch) as watch:
        pair = keygen(group)
        pk = pair.public
        schnorr.prove(group, pair.secret.x, CONTEXT)
        cts, nonces = zip(*(encrypt_revealable(pk, m) for m in (1, 0, 1)), strict=True)
        for ct, m, r in zip(cts, (1, 0, 1), nonces, strict=True):
            disjunctive.prove(pk, ct, m, r, hi=1, context=CONTEXT)
        disjunctive.prove_sum(pk, cts, 2, sum(nonces), lo=1, hi=3, context=CONTEXT)
        x = group.random_nonzero_scalar()
        st = DleqStatement(group.generator(), group.exp_g(x), cts[0].a, cts[0].a ** x)
        dleq.prove(group, x, st, CONTEXT)
        result, shares = local_ceremony(test_config("e", group, 2, ("t1", "t2", "t3")))
        watch.secrets.update(share.x for share in shares.values())
        threshold.partial_decrypt(CONTEXT, shares["t2"], list(cts), executor=SERIAL)
        rows = [(ct,) for ct in cts]
        out, witness = mixnet.shuffle(result.joint_key, rows, executor=SERIAL)
        mixnet.prove(result.joint_key, rows, out, witness, CONTEXT, executor=SERIAL)
    assert len(watch.secrets) > 50
    assert _leaked(group, watch) == []


def test_the_watch_sees_a_secret_on_a_public_path(group: Group, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: a nonce handed to exp_g_vartime is caught."""
    with _watch_secrets(group, monkeypatch) as watch:
        group.exp_g_vartime(group.random_scalar())
    assert len(_leaked(group, watch)) == 1


def test_verifiers_use_only_public_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    group = TOY  # a modp backend: its public paths never fall back on the secret ones
    pair = keygen(group)
    pk = pair.public
    pok = schnorr.prove(group, pair.secret.x, CONTEXT)
    cts, nonces = zip(*(encrypt_revealable(pk, m) for m in (1, 0)), strict=True)
    proofs = [
        disjunctive.prove(pk, ct, m, r, hi=1, context=CONTEXT)
        for ct, m, r in zip(cts, (1, 0), nonces, strict=True)
    ]
    total = disjunctive.prove_sum(pk, cts, 1, sum(nonces), lo=0, hi=2, context=CONTEXT)
    st = DleqStatement(group.generator(), pk.h, cts[0].a, cts[0].a ** pair.secret.x)
    dproof = dleq.prove(group, pair.secret.x, st, CONTEXT)
    rows = [(ct,) for ct in cts]
    out, witness = mixnet.shuffle(pk, rows, executor=SERIAL)
    sproof = mixnet.prove(pk, rows, out, witness, CONTEXT, executor=SERIAL)

    def refuse(*args: object) -> object:
        raise AssertionError("a verifier used a constant-time (secret) exponentiation")

    monkeypatch.setattr(group, "exp", refuse)
    monkeypatch.setattr(group, "exp_g", refuse)
    schnorr.verify(group, pk.h, pok, CONTEXT)
    for ct, proof in zip(cts, proofs, strict=True):
        disjunctive.verify(pk, ct, proof, hi=1, context=CONTEXT)
    disjunctive.verify_sum(pk, cts, total, lo=0, hi=2, context=CONTEXT)
    dleq.verify(group, st, dproof, CONTEXT)
    mixnet.verify(pk, rows, out, sproof, CONTEXT, executor=SERIAL)
