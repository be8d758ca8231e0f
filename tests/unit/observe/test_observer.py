"""The observer follows a box as it writes, checks every entry once, resumes, and names every fault."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from degcore.ballot import PlaintextBallot, encrypt_ballot, open_ballot
from degcore.board import BallotBox, sign_ballot
from degcore.encoding import canonical_json
from degcore.errors import InvalidInput
from degcore.observe import check_proof
from degcore.observe.state import STATE
from degcore.parallel import mp_context
from tests.record_fixtures import BOX_KEY, DURING, ENDS, credential, issuer_key
from tests.unit.observe.conftest import World, log_rows, rewrite

Observe = Callable[..., tuple[object, list[dict[str, object]]]]


def _batches(events: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(e["first"], e["last"]) for e in events if e["event"] == "batch"]


def _problems(observer: object) -> list[tuple[int, str]]:
    return [(p.position, p.check) for p in observer.state.problems]  # type: ignore[attr-defined]


def _box_process(  # noqa: PLR0917 - what a spawned process needs, in order
    location: str, context: object, pems: dict[str, bytes], casts: list[object], half: object, go_on: object
) -> None:
    """The box, in its own process: four ballots, wait, the rest, close."""
    keys = {s: serialization.load_pem_public_key(p) for s, p in pems.items()}
    box = BallotBox(location, context, keys, BOX_KEY)  # type: ignore[arg-type]
    try:
        for c in casts[:4]:
            box.cast(c, now=DURING)  # type: ignore[arg-type]
        half.set()  # type: ignore[attr-defined]
        go_on.wait(120)  # type: ignore[attr-defined]
        for c in casts[4:]:
            box.cast(c, now=DURING)  # type: ignore[arg-type]
        box.close_voting(now=ENDS)
    finally:
        box.close()


def _pems() -> dict[str, bytes]:
    return {
        s: issuer_key(s)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        for s in ("a", "b")
    }


def test_follows_a_box_writing_from_another_process(
    world: World, observe: Observe, store_location: str, tmp_path: Path
) -> None:
    context = mp_context()
    half, go_on = context.Event(), context.Event()
    # The issuer keys are cached per process: the box's process gets this one's as PEM.
    box = context.Process(
        target=_box_process, args=(store_location, world.context, _pems(), world.casts[:8], half, go_on)
    )
    box.start()
    try:
        while not half.wait(0.1):
            assert box.is_alive(), "the box's process failed"
        observer, events = observe(store_location, tmp_path / "state")
        assert observer.poll() == 4  # type: ignore[attr-defined]
        go_on.set()
        while box.is_alive():  # follow while the box writes
            observer.poll()  # type: ignore[attr-defined]
            box.join(0.05)
        observer.poll()  # type: ignore[attr-defined]
    finally:
        go_on.set()
        box.join(120)
    assert box.exitcode == 0
    assert observer.checked == 9 and observer.state.position == 9  # type: ignore[attr-defined]
    assert observer.closed and _problems(observer) == []  # type: ignore[attr-defined]
    # Each entry was checked exactly once, batch after batch.
    ranges = _batches(events)
    assert [p for first, last in ranges for p in range(first, last + 1)] == list(range(1, 10))  # type: ignore[call-overload]


def test_a_restart_resumes_exactly_and_checks_nothing_twice(
    world: World, observe: Observe, open_box: Callable[[str], BallotBox], tmp_path: Path
) -> None:
    location, state = str(tmp_path / "box.sqlite"), tmp_path / "state"
    box = open_box(location)
    for c in world.casts[:3]:
        box.cast(c, now=DURING)
    first, _ = observe(location, state)
    assert first.poll() == 3  # type: ignore[attr-defined]
    for c in world.casts[3:6]:
        box.cast(c, now=DURING)
    box.close_voting(now=ENDS)
    again, events = observe(location, state)  # a new run over the same state
    assert again.poll() == 4  # type: ignore[attr-defined]
    assert _batches(events) == [(4, 7)] and events[0] == {
        "event": "start",
        "position": 3,
        "head": events[0]["head"],
    }
    assert again.closed and _problems(again) == []  # type: ignore[attr-defined]
    third, events = observe(location, state)
    assert third.poll() == 0 and _batches(events) == []  # type: ignore[attr-defined]


def test_a_state_is_re_read_strictly(
    world: World, observe: Observe, open_box: Callable[[str], BallotBox], tmp_path: Path
) -> None:
    location, state = str(tmp_path / "box.sqlite"), tmp_path / "state"
    box = open_box(location)
    for c in world.casts[:3]:
        box.cast(c, now=DURING)
    observer, _ = observe(location, state)
    observer.poll()  # type: ignore[attr-defined]
    saved = (state / STATE).read_bytes()
    obj = json.loads(saved)
    obj["position"] = 2  # edited without its hash
    (state / STATE).write_bytes(canonical_json(obj))
    with pytest.raises(InvalidInput, match="state_sha256"):
        observe(location, state)
    # Edited with the hash recomputed: the mirror's last line is not the entry it names.
    obj["hash"] = "00" * 32
    body = {k: v for k, v in obj.items() if k != "state_sha256"}
    obj["state_sha256"] = hashlib.sha256(canonical_json(body)).hexdigest()
    (state / STATE).write_bytes(canonical_json(obj))
    with pytest.raises(InvalidInput, match="last line"):
        observe(location, state)
    (state / STATE).write_bytes(saved)
    observe(location, state)


def test_a_tampered_row_is_named_by_the_check_it_fails(
    world: World, observe: Observe, open_box: Callable[[str], BallotBox], tmp_path: Path
) -> None:
    location = str(tmp_path / "box.sqlite")
    box = open_box(location)
    for c in world.casts[:5]:
        box.cast(c, now=DURING)
    box.close_voting(now=ENDS)
    rows = log_rows(location)
    # The box swaps the credential of ballot 3 for another one issued to nobody who voted, and
    # re-chains and re-signs the log from there: only the voter's signature gives it away.
    payload = json.loads(rows[2][2])
    payload["credential"] = credential("b").credential.to_json()
    changed = [(k, p, a) for _, k, p, a in rows]
    changed[2] = ("ballot", canonical_json(payload), rows[2][3])
    rewrite(location, changed[2:], from_position=3)
    observer, events = observe(location, tmp_path / "state")
    observer.poll()  # type: ignore[attr-defined]
    assert _problems(observer) == [(3, "V6")]
    assert [e["position"] for e in events if e["event"] == "problem"] == [3]
    assert observer.closed and observer.state.position == 6  # type: ignore[attr-defined]


def test_a_reordered_log_is_named_where_time_runs_backwards(
    world: World, observe: Observe, open_box: Callable[[str], BallotBox], tmp_path: Path
) -> None:
    location = str(tmp_path / "box.sqlite")
    box = open_box(location)
    for i, c in enumerate(world.casts[:5]):
        box.cast(c, now=DURING + timedelta(minutes=i))
    rows = log_rows(location)
    entries = [(k, p, a) for _, k, p, a in rows]
    entries[2], entries[3] = entries[3], entries[2]  # re-chained and re-signed in the new order
    rewrite(location, entries[2:], from_position=3)
    observer, _ = observe(location, tmp_path / "state")
    observer.poll()  # type: ignore[attr-defined]
    assert _problems(observer) == [(4, "V5")]
    assert "earlier" in observer.state.problems[0].reason  # type: ignore[attr-defined]


def test_a_history_rewritten_after_it_was_observed_is_proved(
    world: World, observe: Observe, open_box: Callable[[str], BallotBox], store_location: str, tmp_path: Path
) -> None:
    location, state = store_location, tmp_path / "state"
    box = open_box(location)
    for c in world.casts[:5]:
        box.cast(c, now=DURING)
    observer, _ = observe(location, state)
    observer.poll()  # type: ignore[attr-defined]
    rows = log_rows(location)
    entries = [(k, p, a) for _, k, p, a in rows]
    entries[1], entries[2] = entries[2], entries[1]  # the same ballots, reordered, all re-signed
    rewrite(location, entries[1:], from_position=2)
    again, events = observe(location, state)
    assert again.poll() == 0  # type: ignore[attr-defined]
    assert again.diverged.position == 2  # type: ignore[attr-defined]
    proof_path = Path(str(next(e for e in events if e["event"] == "diverged")["proof"]))
    assert proof_path == state / "equivocation-2.json"
    proof = check_proof(proof_path.read_bytes())
    assert proof.position == 2 and proof.box_key == bytes(BOX_KEY.verify_key)


def test_a_truncated_log_is_named_at_the_first_missing_entry(
    world: World, observe: Observe, open_box: Callable[[str], BallotBox], store_location: str, tmp_path: Path
) -> None:
    location, state = store_location, tmp_path / "state"
    box = open_box(location)
    for c in world.casts[:6]:
        box.cast(c, now=DURING)
    observer, _ = observe(location, state)
    observer.poll()  # type: ignore[attr-defined]
    rows = log_rows(location)
    rewrite(location, [(k, p, a) for _, k, p, a in rows[3:4]], from_position=4)  # entries 5 and 6 gone
    again, _ = observe(location, state)
    again.poll()  # type: ignore[attr-defined]
    assert again.diverged.position == 5 and again.diverged.proof is None  # type: ignore[attr-defined]
    assert "ends before position 5" in again.diverged.reason  # type: ignore[attr-defined]


def test_a_second_ballot_of_a_credential_is_named(
    world: World, observe: Observe, open_box: Callable[[str], BallotBox], tmp_path: Path
) -> None:
    location = str(tmp_path / "box.sqlite")
    box = open_box(location)
    for c in world.casts[:3]:
        box.cast(c, now=DURING)
    rows = log_rows(location)
    # The box logs ballot 2 again (policy "first": it must have refused it), re-signing the chain.
    rewrite(location, [(k, p, a) for _, k, p, a in [*rows[2:3], rows[1]]], from_position=3)
    observer, _ = observe(location, tmp_path / "state", batch=2)
    observer.poll()  # type: ignore[attr-defined]
    assert _problems(observer) == [(4, "V7")]


def test_a_row_changed_in_the_middle_after_it_was_observed_is_found_by_the_audit(
    world: World, observe: Observe, open_box: Callable[[str], BallotBox], tmp_path: Path
) -> None:
    location, state = str(tmp_path / "box.sqlite"), tmp_path / "state"
    box = open_box(location)
    for c in world.casts[:5]:
        box.cast(c, now=DURING)
    observer, _ = observe(location, state)
    observer.poll()  # type: ignore[attr-defined]
    # The box swaps the payload of entry 2 behind its own back: the chain there no longer holds,
    # and the head is unchanged, so only re-reading the history shows it.
    rows = log_rows(location)
    conn = sqlite3.connect(location)
    with conn:
        conn.execute("UPDATE log SET payload = ? WHERE position = 2", (rows[2][2],))
    conn.close()
    box.cast(world.casts[5], now=DURING)
    assert observer.poll() == 1  # type: ignore[attr-defined]  # the same run: the head still holds
    again, events = observe(location, state)
    assert again.poll() == 0  # type: ignore[attr-defined]  # a restart re-reads everything
    diverged = next(e for e in events if e["event"] == "diverged")
    assert diverged["position"] == 2 and diverged["proof"] is None
    assert "not box-signed" in str(diverged["reason"])
    box.close_voting(now=ENDS)
    # A fresh observer checks the changed entry itself: its hash no longer matches (V5).
    fresh, _ = observe(location, tmp_path / "fresh")
    fresh.poll()  # type: ignore[attr-defined]
    assert (2, "V5") in _problems(fresh)


def test_a_challenged_ballot_cast_later_in_the_same_batch_is_named(
    world: World, observe: Observe, open_box: Callable[[str], BallotBox], tmp_path: Path
) -> None:
    location = str(tmp_path / "box.sqlite")
    box = open_box(location)
    box.cast(world.casts[0], now=DURING)
    wallet = credential("b")
    ballot, nonces = encrypt_ballot(
        world.context, PlaintextBallot("b", {"mayor": {"m1": 1}}), wallet.credential.public_key
    )
    box.challenge(open_ballot(world.context, ballot, nonces), now=DURING)
    rows = log_rows(location)
    # The box logs the challenged ballot as cast as well (it must refuse it: ballot_challenged).
    cast = sign_ballot(world.context, ballot, wallet)
    payload = canonical_json(cast.to_json(world.context))
    rewrite(
        location, [*[(k, p, a) for _, k, p, a in rows[1:]], ("ballot", payload, rows[1][3])], from_position=2
    )
    observer, _ = observe(location, tmp_path / "state")
    observer.poll()  # type: ignore[attr-defined]
    assert _problems(observer) == [(3, "V8")]
