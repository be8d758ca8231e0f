"""What one service hands another survives the trip as JSON or a file; the stores close with `with`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from nacl.signing import SigningKey

from degcore.board import load_signing_key, save_signing_key
from degcore.errors import InvalidInput, WrongPassphrase
from degcore.issuance import (
    CredentialRequest,
    Enrollment,
    Issuer,
    StaticEligibility,
    authorise_request,
    check_issuance_receipt,
    finish_credential,
    load_issuer_public_key,
    public_key_pem,
    request_credential,
    rsabssa,
)
from degcore.issuance.log import IssuanceReceipt
from degcore.trustees._sealed import MIN_SCRYPT_N
from tests.record_fixtures import issuer_key

NOW = datetime(2026, 9, 1, 12, tzinfo=UTC)
DEVICE = SigningKey(bytes(range(100, 132)))
ENROLLED = Enrollment(bytes(range(32)), bytes(DEVICE.verify_key), "d1")


def _issuer(folder: Path) -> Issuer:
    return Issuer(
        folder / "issuer.sqlite", "duma-2026", {"d1": issuer_key("a")},
        StaticEligibility({"voter-1": ENROLLED}), log_key=SigningKey(bytes(range(32))),
        window=(NOW - timedelta(hours=1), NOW + timedelta(days=1)),
    )  # fmt: skip


def test_a_pending_credential_request_is_kept_as_json_and_finished_later(tmp_path: Path) -> None:
    with _issuer(tmp_path) as issuer:
        # The device gets the issuer's key as the setup publishes it: PEM text.
        key = load_issuer_public_key(public_key_pem(issuer.public_keys()["d1"]).decode())
        request = request_credential(key, "duma-2026", "d1")
        stored = json.dumps(request.to_json())  # the device saves it until the signature comes
        signature = authorise_request(request, DEVICE, ENROLLED.voter_ref)
        blind_signature = issuer.issue(
            "voter-1", "d1", request.blinded_msg, request_signature=signature, now=NOW
        )
        receipt = IssuanceReceipt.from_json(json.loads(json.dumps(issuer.receipt("voter-1").to_json())))
        log_key = issuer.log_public_key
    again = CredentialRequest.from_json(json.loads(stored))
    assert again.to_json() == request.to_json() and "secret" in repr(again)
    check_issuance_receipt(again, receipt, ENROLLED.voter_ref, signature, log_key)
    finish_credential(again, blind_signature, key).credential.verify(key)


def test_a_request_whose_message_is_not_its_keys_is_refused() -> None:
    key = issuer_key("a").public_key()
    obj = request_credential(key, "duma-2026", "d1").to_json()
    other = request_credential(key, "duma-2026", "d1").to_json()
    with pytest.raises(InvalidInput, match="not this key's"):
        CredentialRequest.from_json({**obj, "prepared": other["prepared"]})
    with pytest.raises(InvalidInput):
        CredentialRequest.from_json({**obj, "inv": obj["inv"][:-2]})


def test_only_an_rsa_issuer_key_of_2048_bits_or_more_loads() -> None:
    with pytest.raises(InvalidInput, match="RSA key of at least"):
        load_issuer_public_key(public_key_pem(ec.generate_private_key(ec.SECP256R1()).public_key()))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="not a PEM"):
        load_issuer_public_key(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    key = issuer_key("a").public_key()
    assert load_issuer_public_key(public_key_pem(key)).public_numbers() == key.public_numbers()
    assert rsabssa.MIN_MODULUS_BITS == 2048


def test_the_box_key_is_saved_sealed_and_loads_only_with_its_passphrase(tmp_path: Path) -> None:
    key = SigningKey.generate()
    path = tmp_path / "box.key"
    path.write_bytes(save_signing_key(key, "box passphrase", scrypt_n=MIN_SCRYPT_N))
    assert bytes(key) not in path.read_bytes() and bytes(key).hex() not in path.read_text()
    assert bytes(load_signing_key(path.read_bytes(), "box passphrase")) == bytes(key)
    with pytest.raises(WrongPassphrase):
        load_signing_key(path.read_bytes(), "another")


def test_the_issuer_closes_its_store_at_the_end_of_a_with_block(tmp_path: Path) -> None:
    with _issuer(tmp_path) as issuer:
        assert issuer.public_keys()
    with pytest.raises(Exception):  # noqa: B017 - the closed store's own error
        issuer.issue("voter-1", "d1", b"\0" * 256, request_signature=bytes(64), now=NOW)
