"""The signed issuance log: chain, retries, close, time order and coarsening, lines, voter references."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from degcore.chain import ChainEntry, verify_chain
from degcore.encoding import canonical_json
from degcore.errors import (
    DegcoreError,
    InvalidInput,
    NonCanonical,
    Rule,
    RuleViolation,
    UnsupportedFormat,
    VerificationFailed,
)
from degcore.issuance import (
    IssuanceReceipt,
    Issuer,
    check_issuance_receipt,
    issuance_line,
    parse_issuance_line,
    request_credential,
    voter_reference,
)
from degcore.issuance.log import ISSUANCE_TAG, Closed, Issued, coarsen, parse_payload
from tests.unit.issuance.common import (
    ELECTION,
    NOW,
    issue,
    keys,
    later,
    log_key,
    make_issuer,
    obtain,
    request_hash,
    signed,
    voter_ref,
)

STYLE = "district-1"


def _lines(issuer: Issuer) -> list[bytes]:
    return [canonical_json(issuance_line(e)) + b"\n" for e in issuer.log()]


def _request(style: str = STYLE) -> tuple[bytes, object]:
    request = request_credential(keys()[style].public_key(), ELECTION, style)
    return request.blinded_msg, request


@pytest.fixture
def issuer(tmp_path: Path) -> Issuer:
    return make_issuer(tmp_path / "issuer.sqlite")


def test_the_log_is_a_signed_chain_with_one_entry_per_credential(issuer: Issuer) -> None:
    blinded, _ = _request()
    issue(issuer, "voter-1", STYLE, blinded, now=NOW)
    issue(issuer, "voter-1", STYLE, blinded, now=later(5))  # a retry appends nothing
    obtain(issuer, "voter-2", STYLE, later(10))
    obtain(issuer, "voter-3", "district-2", later(70))
    entries = list(issuer.log())
    assert verify_chain(ISSUANCE_TAG, entries, issuer.log_public_key) == 3
    with pytest.raises(VerificationFailed) as other_tag:  # tags separate chains
        verify_chain(b"degcore/4/board", entries, issuer.log_public_key)
    assert other_tag.value.subject == "entry 1" and "hash" in other_tag.value.detail
    payloads = [parse_payload(e.kind, e.payload) for e in entries]
    assert all(isinstance(p, Issued) for p in payloads)
    first = payloads[0]
    assert isinstance(first, Issued) and first.request_sha256 == request_hash(blinded)
    assert json.loads(entries[0].payload) == {
        "type": "issued",
        "voter_ref": first.voter_ref.hex(),
        "ballot_style": STYLE,
        "request_sha256": request_hash(blinded).hex(),
        "voter_signature": signed("voter-1", STYLE, blinded).hex(),
    }
    assert len({p.voter_ref for p in payloads if isinstance(p, Issued)}) == 3
    assert issuer.issued_count() == {"district-1": 2, "district-2": 1}


def test_close_counts_every_style_and_ends_issuance(issuer: Issuer) -> None:
    blinded, _ = _request()
    issue(issuer, "voter-1", STYLE, blinded, now=NOW)
    obtain(issuer, "voter-2", STYLE)
    close = issuer.close_log(later(90))
    assert close.kind == "close" and close.position == 3
    assert json.loads(close.payload) == {"type": "close", "issued": {"district-1": 2, "district-2": 0}}
    assert parse_payload("close", close.payload) == Closed({"district-1": 2, "district-2": 0})
    assert list(issuer.log())[-1] == close
    assert verify_chain(ISSUANCE_TAG, issuer.log(), issuer.log_public_key) == 3
    for attempt in (
        lambda: obtain(issuer, "voter-3", "district-2", later(91)),
        lambda: issue(issuer, "voter-1", STYLE, blinded, now=later(91)),  # not even a retry
        lambda: issuer.close_log(later(92)),
    ):
        with pytest.raises(RuleViolation) as refused:
            attempt()
        assert refused.value.rule is Rule.ISSUANCE_CLOSED
    assert len(list(issuer.log())) == 3
    assert issuer.issued_count() == {"district-1": 2, "district-2": 0}


def test_an_empty_log_closes_with_zeros(issuer: Issuer) -> None:
    close = issuer.close_log(NOW)
    assert close.position == 1
    assert parse_payload("close", close.payload) == Closed({"district-1": 0, "district-2": 0})


def test_times_are_coarsened_and_never_decrease(tmp_path: Path) -> None:
    issuer = make_issuer(tmp_path / "i.sqlite")
    obtain(issuer, "voter-1", STYLE, datetime(2026, 9, 18, 9, 59, 59, 999999, tzinfo=UTC))
    obtain(issuer, "voter-2", STYLE, datetime(2026, 9, 18, 10, 0, tzinfo=UTC))
    obtain(issuer, "voter-3", "district-2", datetime(2026, 9, 18, 10, 0, tzinfo=UTC))  # equal is fine
    with pytest.raises(RuleViolation) as refused:  # a clock that went back …
        obtain(issuer, "voter-10", STYLE, datetime(2026, 9, 18, 9, 59, tzinfo=UTC))
    assert refused.value.rule is Rule.TIME_ORDER
    with pytest.raises(RuleViolation) as refused:  # … also for the closing entry
        issuer.close_log(datetime(2026, 9, 18, 9, 0, tzinfo=UTC))
    assert refused.value.rule is Rule.TIME_ORDER
    issuer.close_log(datetime(2026, 9, 18, 10, 30, tzinfo=UTC))
    assert [e.at for e in issuer.log()] == ["2026-09-18T09:00:00Z"] + ["2026-09-18T10:00:00Z"] * 3
    assert issuer.issued_count()[STYLE] == 2


def test_the_published_time_stays_inside_the_window(tmp_path: Path) -> None:
    """Rounding down never moves an entry before the window opens (05:20 would give 05:00)."""
    opens = datetime(2026, 9, 18, 5, 20, tzinfo=UTC)
    issuer = make_issuer(tmp_path / "i.sqlite", window=(opens, opens + timedelta(days=1)))
    obtain(issuer, "voter-1", STYLE, opens + timedelta(minutes=3))
    obtain(issuer, "voter-2", STYLE, opens + timedelta(minutes=50))
    assert [e.at for e in issuer.log()] == ["2026-09-18T05:20:00Z", "2026-09-18T06:00:00Z"]


def test_the_granularity_is_a_setting(tmp_path: Path) -> None:
    issuer = make_issuer(tmp_path / "i.sqlite", granularity=timedelta(minutes=15))
    obtain(issuer, "voter-1", STYLE, datetime(2026, 9, 18, 9, 44, 59, tzinfo=UTC))
    assert next(issuer.log()).at == "2026-09-18T09:30:00Z"
    assert coarsen(datetime(2026, 9, 18, 12, 44, tzinfo=UTC), timedelta(days=1)) == datetime(
        2026, 9, 18, tzinfo=UTC
    )
    with pytest.raises(InvalidInput):
        coarsen(datetime(2026, 9, 18, 12, 44), timedelta(hours=1))


# --- record lines ------------------------------------------------------------------------------
@pytest.fixture
def closed_log(issuer: Issuer) -> list[bytes]:
    obtain(issuer, "voter-1", STYLE)
    obtain(issuer, "voter-3", "district-2")
    issuer.close_log(later(60))
    return _lines(issuer)


def test_lines_round_trip(issuer: Issuer, closed_log: list[bytes]) -> None:
    parsed = [parse_issuance_line(line) for line in closed_log]
    assert [entry for entry, _ in parsed] == list(issuer.log())
    assert parse_issuance_line(closed_log[0].decode().rstrip("\n"))[0] == parsed[0][0]
    assert isinstance(parsed[-1][1], Closed)
    line = json.loads(closed_log[0])
    assert set(line) == {"format", "type", "position", "kind", "at", "payload", "prev", "hash", "signature"}
    assert (line["format"], line["type"], line["kind"]) == ("degcore/4", "issuance-entry", "issued")
    entries = [entry for entry, _ in parsed]
    assert verify_chain(ISSUANCE_TAG, entries, issuer.log_public_key) == 3


def _edit(line: bytes, change: object) -> bytes:
    obj = json.loads(line)
    change(obj)  # type: ignore[operator]
    return canonical_json(obj)


@pytest.mark.parametrize(
    ("index", "change", "error"),
    [
        (0, lambda o: o.update(extra=1), InvalidInput),
        (0, lambda o: o.pop("prev"), InvalidInput),
        (0, lambda o: o.update(format="degcore/1"), UnsupportedFormat),
        (0, lambda o: o.update(type="log-entry"), InvalidInput),
        (0, lambda o: o.update(position=True), InvalidInput),
        (0, lambda o: o.update(position=0), InvalidInput),
        (0, lambda o: o.update(position="1"), InvalidInput),
        (0, lambda o: o.update(kind="ballot"), InvalidInput),
        (0, lambda o: o.update(kind="close"), InvalidInput),
        (0, lambda o: o.update(at=o["at"].replace("Z", "+00:00")), NonCanonical),
        (0, lambda o: o.update(hash=o["hash"].upper()), NonCanonical),
        (0, lambda o: o.update(signature=o["signature"][:-2]), NonCanonical),
        (0, lambda o: o["payload"].update(extra="x"), InvalidInput),
        (0, lambda o: o["payload"].update(type="close"), InvalidInput),
        (0, lambda o: o["payload"].update(voter_ref="00" * 32), VerificationFailed),
        (0, lambda o: o["payload"].update(ballot_style="district-2"), VerificationFailed),
        (0, lambda o: o["payload"].update(request_sha256="ab" * 31), NonCanonical),
        (0, lambda o: o.update(at="2026-09-18T09:00:01Z"), VerificationFailed),
        (2, lambda o: o["payload"]["issued"].update({"district-2": True}), InvalidInput),
        (2, lambda o: o["payload"]["issued"].update({"district-2": -1}), InvalidInput),
        (2, lambda o: o["payload"]["issued"].update({"bad style": 1}), InvalidInput),
        (2, lambda o: o["payload"].update(issued=[1, 0]), InvalidInput),
        (2, lambda o: o["payload"]["issued"].update({"district-1": 7}), VerificationFailed),
    ],
)
def test_a_tampered_line_is_refused(
    closed_log: list[bytes], index: int, change: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        parse_issuance_line(_edit(closed_log[index], change))


@pytest.mark.parametrize(
    "spelling",
    [
        lambda b: b.replace(b'","', b'", "', 1),  # a space
        lambda b: b + b"\n\n",
        lambda b: b"\xef\xbb\xbf" + b,  # a byte-order mark
        lambda b: json.dumps(json.loads(b), sort_keys=False).encode(),
        lambda b: b.replace(b'"position":1', b'"position":1.0'),
        lambda b: b[:-1] + b',"kind":"issued"}',  # a duplicate key
        lambda b: b"[" + b + b"]",
        lambda b: b"\xff",
    ],
)
def test_only_the_canonical_bytes_parse(closed_log: list[bytes], spelling: object) -> None:
    with pytest.raises(InvalidInput):
        parse_issuance_line(spelling(closed_log[0].rstrip(b"\n")))  # type: ignore[operator]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the log is only read
@given(data=st.data())
def test_every_single_byte_change_is_caught(closed_log: list[bytes], data: st.DataObject) -> None:
    """Soundness: change one byte of one line; the parser or the chain check refuses the log."""
    index = data.draw(st.integers(0, len(closed_log) - 1))
    line = closed_log[index].rstrip(b"\n")
    at = data.draw(st.integers(0, len(line) - 1))
    byte = data.draw(st.integers(0x20, 0x7E).filter(lambda b: b != line[at]))
    changed = [*closed_log]
    changed[index] = line[:at] + bytes([byte]) + line[at + 1 :]
    try:
        entries = [parse_issuance_line(x)[0] for x in changed]
    except DegcoreError:
        return
    with pytest.raises(VerificationFailed):
        verify_chain(ISSUANCE_TAG, entries, bytes(log_key().verify_key))


def test_a_forged_signature_is_caught_by_the_chain_check(issuer: Issuer, closed_log: list[bytes]) -> None:
    entry, _ = parse_issuance_line(closed_log[0])
    forged = dataclasses.replace(entry, signature=bytes(64))
    entries = [forged, *(parse_issuance_line(x)[0] for x in closed_log[1:])]
    with pytest.raises(VerificationFailed) as info:
        verify_chain(ISSUANCE_TAG, entries, issuer.log_public_key)
    assert (info.value.subject, info.value.detail) == ("entry 1", "signature does not verify")


# --- the voter's reference and receipt ---------------------------------------------------------
def test_the_voter_finds_her_own_entry(issuer: Issuer) -> None:
    request = request_credential(keys()[STYLE].public_key(), ELECTION, STYLE)
    issue(issuer, "voter-1", STYLE, request.blinded_msg, now=NOW)
    obtain(issuer, "voter-2", STYLE)
    receipt = issuer.receipt("voter-1")
    issue(issuer, "voter-1", STYLE, request.blinded_msg, now=later(1))
    assert issuer.receipt("voter-1") == receipt  # stable across retries
    assert IssuanceReceipt.from_json(json.loads(canonical_json(receipt.to_json()))) == receipt
    mine, sig = voter_ref("voter-1"), signed("voter-1", STYLE, request.blinded_msg)
    check_issuance_receipt(request, receipt, mine, sig, issuer.log_public_key)  # on her device
    assert receipt.voter_ref == mine
    published = [parse_issuance_line(line)[0] for line in _lines(issuer)]
    assert published[receipt.position - 1] == receipt.entry(request_hash(request.blinded_msg), sig)
    other = request_credential(keys()[STYLE].public_key(), ELECTION, STYLE)
    for wrong in (
        lambda: check_issuance_receipt(request, receipt, voter_ref("voter-2"), sig, issuer.log_public_key),
        lambda: check_issuance_receipt(request, receipt, mine, sig, bytes(log_key().verify_key)[::-1]),
        lambda: check_issuance_receipt(other, receipt, mine, sig, issuer.log_public_key),
        lambda: check_issuance_receipt(request, receipt, mine, bytes(64), issuer.log_public_key),
        lambda: check_issuance_receipt(
            request, dataclasses.replace(receipt, ballot_style="district-2"), mine, sig, issuer.log_public_key
        ),
        lambda: check_issuance_receipt(
            request, dataclasses.replace(receipt, at="2026-09-18T10:00:00Z"), mine, sig, issuer.log_public_key
        ),
    ):
        with pytest.raises(VerificationFailed):
            wrong()
    with pytest.raises(InvalidInput):
        issuer.receipt("voter-3")


def test_voter_references_are_salted_and_framed(tmp_path: Path) -> None:
    salt = bytes(range(32))
    ref = voter_reference(ELECTION, "voter-1", salt)
    assert ref != voter_reference(ELECTION, "voter-1", bytes(32))
    assert ref != voter_reference("duma-2031", "voter-1", salt)
    assert voter_reference("ab", "c", salt) != voter_reference("a", "bc", salt)  # length-prefixed
    with pytest.raises(InvalidInput):
        voter_reference(ELECTION, "voter-1", salt[:16])
    with pytest.raises(InvalidInput):
        voter_reference(ELECTION, "voter 1", salt)
    issuer = make_issuer(tmp_path / "a.sqlite")
    obtain(issuer, "voter-1", STYLE)  # the issuer logs the registry's reference, never a salt
    assert issuer.receipt("voter-1").voter_ref == voter_ref("voter-1")


def test_receipt_json_is_strict(issuer: Issuer) -> None:
    obtain(issuer, "voter-1", STYLE)
    obj = issuer.receipt("voter-1").to_json()
    for bad in (
        {**obj, "extra": "1"},
        {k: v for k, v in obj.items() if k != "voter_ref"},
        {**obj, "salt": "00" * 32},
        {**obj, "position": True},
        {**obj, "voter_ref": str(obj["voter_ref"]).upper()},
        {**obj, "at": "yesterday"},
        {**obj, "type": "receipt"},
    ):
        with pytest.raises(InvalidInput):
            IssuanceReceipt.from_json(bad)


def test_entries_are_chain_entries(issuer: Issuer) -> None:
    obtain(issuer, "voter-1", STYLE)
    assert all(isinstance(e, ChainEntry) for e in issuer.log())


def test_payload_bytes_are_read_strictly(issuer: Issuer) -> None:
    obtain(issuer, "voter-1", STYLE)
    payload = next(issuer.log()).payload
    assert isinstance(parse_payload("issued", payload), Issued)
    for kind, raw in (
        ("issued", payload.replace(b",", b", ", 1)),
        ("issued", b"\xff"),
        ("issued", b"[]"),
        ("close", payload),
        ("ballot", payload),
    ):
        with pytest.raises(InvalidInput):
            parse_payload(kind, raw)
