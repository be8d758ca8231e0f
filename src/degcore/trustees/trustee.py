"""One trustee's side of the key ceremony: its secrets, its rounds, its share (docs/trustees.md).

A :class:`Trustee` holds the secret polynomial f_i and an X25519 key for receiving shares. Its
rounds turn public messages into public messages (:mod:`degcore.trustees.dkg`); between rounds
it is saved sealed under a passphrase, so the rounds may be days and machines apart.

Share encryption (docs/protocol.md §6.3): k = HKDF-SHA256(X25519(sk_dealer, pk_recipient),
salt = ceremony digest, info = "degcore/4/dkg-share" ‖ u32(i) ‖ u32(j), 32 bytes); the share is
AES-256-GCM(k, nonce, scalar(s_{i,j}), aad = ceremony digest ‖ u32(i) ‖ u32(j)) with a random
96-bit nonce. The static–static key means only dealer i and recipient j can make or read it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from nacl.signing import SigningKey

from degcore.elgamal import schnorr
from degcore.elgamal._codec import json_list
from degcore.encoding import JsonValue, from_hex
from degcore.errors import InvalidInput, Rule, RuleViolation, VerificationFailed
from degcore.groups import Group
from degcore.ids import check_id
from degcore.trustees._sealed import DEFAULT_SCRYPT_N, seal, unseal
from degcore.trustees.dkg import (
    CeremonyConfig,
    CeremonyResult,
    Complaint,
    ComplaintAnswer,
    ComplaintReason,
    EncryptedShare,
    TrusteeCommitment,
    check_commitments,
    check_signatures,
    coefficient_context,
    finalize,
    share_matches,
)
from degcore.trustees.signing import sign_message
from degcore.trustees.threshold import TrusteeShare

__all__ = ["Trustee", "local_config", "run_local_ceremony"]


def _pair_bytes(config: CeremonyConfig, dealer: str, recipient: str) -> bytes:
    return config.index(dealer).to_bytes(4, "big") + config.index(recipient).to_bytes(4, "big")


def _share_key(
    config: CeremonyConfig, own: X25519PrivateKey, peer: bytes, dealer: str, recipient: str
) -> bytes:
    shared = own.exchange(X25519PublicKey.from_public_bytes(peer))  # ValueError on a low-order peer key
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=config.digest(),
        info=b"degcore/4/dkg-share" + _pair_bytes(config, dealer, recipient),
    )
    return hkdf.derive(shared)


class Trustee:
    """A trustee's secret state during the ceremony. Never published; saved only sealed."""

    __slots__ = ("_coefficients", "_encryption_key", "_received", "_signing_key", "config", "trustee_id")

    def __init__(
        self,
        config: CeremonyConfig,
        trustee_id: str,
        coefficients: Sequence[int],
        encryption_key: X25519PrivateKey,
        *,
        signing_key: SigningKey,
        received: dict[str, int] | None = None,
    ) -> None:
        if bytes(signing_key.verify_key) != config.signing_key(trustee_id):
            raise InvalidInput(f"this signing key is not the roster key of {trustee_id}")
        if len(coefficients) != config.threshold:
            raise InvalidInput(f"a trustee's polynomial has t = {config.threshold} coefficients")
        self.config = config
        self.trustee_id = trustee_id
        self._coefficients = tuple(c % config.group.order for c in coefficients)
        self._encryption_key = encryption_key
        self._signing_key = signing_key
        self._received: dict[str, int] = dict(received or {})

    @classmethod
    def new(cls, config: CeremonyConfig, trustee_id: str, signing_key: SigningKey) -> Trustee:
        """Draw a fresh polynomial (a_0 ≠ 0) and X25519 key; ``signing_key``: the roster key's secret."""
        group = config.group
        coefficients = [group.random_nonzero_scalar() for _ in range(config.threshold)]
        return cls(config, trustee_id, coefficients, X25519PrivateKey.generate(), signing_key=signing_key)

    def __repr__(self) -> str:
        return f"Trustee({self.trustee_id}, <secrets hidden>)"

    def _f(self, index: int) -> int:
        q = self.config.group.order
        acc = 0
        for c in reversed(self._coefficients):
            acc = (acc * index + c) % q
        return acc

    # --- round 1 --------------------------------------------------------------------------
    def commitment(self) -> TrusteeCommitment:
        """The public commitments A_k = g^{a_k}, a proof of knowledge for each, and the X25519 key."""
        group, config = self.config.group, self.config
        commitments = tuple(group.exp_g(a) for a in self._coefficients)
        proofs = tuple(
            schnorr.prove(group, a, coefficient_context(config, self.trustee_id, k))
            for k, a in enumerate(self._coefficients)
        )
        public = self._encryption_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        message = TrusteeCommitment(self.trustee_id, public, commitments, proofs)
        return sign_message(config, self._signing_key, message)

    # --- round 2 --------------------------------------------------------------------------
    def deal(self, commitments: Sequence[TrusteeCommitment]) -> list[EncryptedShare]:
        """s_{i,j} = f_i(j) encrypted to every other trustee that published an encryption key."""
        config = self.config
        out = []
        for message in commitments:
            recipient = message.trustee_id
            if recipient == self.trustee_id:
                continue
            try:
                key = _share_key(
                    config, self._encryption_key, message.encryption_key, self.trustee_id, recipient
                )
            except ValueError:
                continue  # an unusable key: the recipient will complain and get its share in public
            nonce = secrets.token_bytes(12)
            plain = config.group.encode_scalar(self._f(config.index(recipient)))
            body = AESGCM(key).encrypt(
                nonce, plain, config.digest() + _pair_bytes(config, self.trustee_id, recipient)
            )
            out.append(EncryptedShare(self.trustee_id, recipient, nonce, body))
        return out

    # --- round 3 --------------------------------------------------------------------------
    def receive(
        self, commitments: Sequence[TrusteeCommitment], shares: Sequence[EncryptedShare]
    ) -> list[Complaint]:
        """Decrypt and check the shares addressed to this trustee; a complaint for each missing or bad one.

        Dealers whose commitments do not verify get no complaint: :func:`finalize` disqualifies them.
        """
        config, me = self.config, self.trustee_id
        check_signatures(config, commitments)  # a message its trustee did not sign is refused
        valid: dict[str, TrusteeCommitment] = {}
        for message, failed in zip(commitments, check_commitments(config, commitments), strict=True):
            if failed is None:
                valid[message.trustee_id] = message
        mine: dict[str, list[EncryptedShare]] = {}
        for share in shares:
            if share.recipient == me:
                mine.setdefault(share.dealer, []).append(share)
        complaints = []
        for dealer, message in valid.items():
            if dealer == me:
                continue
            received = mine.get(dealer, [])
            if len(received) != 1:
                reason = ComplaintReason.MISSING if not received else ComplaintReason.INVALID_SHARE
                complaints.append(Complaint(me, dealer, reason))
                continue
            value = self._open(message, received[0])
            if value is None:
                complaints.append(Complaint(me, dealer, ComplaintReason.UNDECRYPTABLE))
            elif not share_matches(config, message.commitments, me, value):
                complaints.append(Complaint(me, dealer, ComplaintReason.INVALID_SHARE))
            else:
                self._received[dealer] = value
        return [sign_message(config, self._signing_key, c) for c in complaints]

    def _open(self, dealer: TrusteeCommitment, share: EncryptedShare) -> int | None:
        config = self.config
        try:
            key = _share_key(
                config, self._encryption_key, dealer.encryption_key, dealer.trustee_id, self.trustee_id
            )
            aad = config.digest() + _pair_bytes(config, dealer.trustee_id, self.trustee_id)
            plain = AESGCM(key).decrypt(share.nonce, share.ciphertext, aad)
            return config.group.decode_scalar(plain)
        except (ValueError, InvalidTag, InvalidInput):
            return None

    # --- round 4 --------------------------------------------------------------------------
    def answer(self, complaints: Sequence[Complaint]) -> list[ComplaintAnswer]:
        """Reveal in public the share owed to each trustee that complained about this one.

        Only complaints signed by their accusers are answered: a forged one is refused, naming it.
        """
        config = self.config
        check_signatures(config, [], complaints)
        return [
            sign_message(
                config,
                self._signing_key,
                ComplaintAnswer(self.trustee_id, c.accuser, self._f(config.index(c.accuser))),
            )
            for c in complaints
            if c.accused == self.trustee_id
        ]

    # --- the end --------------------------------------------------------------------------
    def finish(
        self,
        commitments: Sequence[TrusteeCommitment],
        complaints: Sequence[Complaint] = (),
        answers: Sequence[ComplaintAnswer] = (),
    ) -> tuple[CeremonyResult, TrusteeShare]:
        """The public result and this trustee's share x_j = Σ_{i∈QUAL} s_{i,j}.

        Raises RuleViolation(DISQUALIFIED) if this trustee is not in QUAL.
        """
        result = finalize(self.config, commitments, complaints, answers)
        me = self.trustee_id
        if me not in result.qualified:
            raise RuleViolation(Rule.DISQUALIFIED, f"{me} was disqualified: {result.disqualified.get(me)}")
        revealed = {a.accused: a.share for a in answers if a.accuser == me}
        q = self.config.group.order
        x = 0
        for dealer in result.qualified:
            if dealer == me:
                value = self._f(self.config.index(me))
            elif dealer in self._received:
                value = self._received[dealer]
            elif dealer in revealed:
                value = revealed[dealer]  # finalize checked it against the dealer's commitments
            else:
                raise InvalidInput(f"{me} holds no share from {dealer}: run receive() on its shares first")
            x = (x + value) % q
        share = TrusteeShare(self.config, me, x, self._signing_key)
        if share.verification_key() != result.verification_keys[me]:
            raise VerificationFailed(
                "dkg-share", me, "the summed share does not match the public verification key"
            )
        return result, share

    # --- at rest --------------------------------------------------------------------------
    def save(self, passphrase: str | bytes, *, scrypt_n: int = DEFAULT_SCRYPT_N) -> bytes:
        """The trustee's state sealed under ``passphrase`` (scrypt + AES-256-GCM)."""
        group = self.config.group
        payload: JsonValue = {
            "config": self.config.to_json(),
            "trustee": self.trustee_id,
            "coefficients": [group.encode_scalar(a).hex() for a in self._coefficients],
            "encryption_key": self._encryption_key.private_bytes(
                Encoding.Raw, PrivateFormat.Raw, NoEncryption()
            ).hex(),
            "received": {d: group.encode_scalar(s).hex() for d, s in sorted(self._received.items())},
            "signing_key": bytes(self._signing_key).hex(),
        }
        return seal(payload, "dkg-trustee", passphrase, scrypt_n=scrypt_n)

    @classmethod
    def load(cls, data: bytes, passphrase: str | bytes) -> Trustee:
        """Open :meth:`save` output; a wrong passphrase raises WrongPassphrase."""
        payload = unseal(data, "dkg-trustee", passphrase)
        keys = {"config", "trustee", "coefficients", "encryption_key", "received", "signing_key"}
        if not isinstance(payload, dict) or set(payload) != keys or not isinstance(payload["received"], dict):
            raise InvalidInput("sealed trustee state: unexpected contents")
        config = CeremonyConfig.from_json(payload["config"])
        group = config.group

        def scalar(value: object, what: str) -> int:
            return group.decode_scalar(from_hex(value, group.scalar_bytes, what))

        coefficients = [scalar(v, "coefficient") for v in json_list(payload["coefficients"], "coefficients")]
        received = {
            str(check_id(d, "dealer")): scalar(v, "received share") for d, v in payload["received"].items()
        }
        key = X25519PrivateKey.from_private_bytes(from_hex(payload["encryption_key"], 32, "encryption_key"))
        signing = SigningKey(from_hex(payload["signing_key"], 32, "signing_key"))
        trustee = str(check_id(payload["trustee"], "trustee"))
        return cls(config, trustee, coefficients, key, signing_key=signing, received=received)


def local_config(
    election_id: str, group: Group, threshold: int, trustees: Sequence[str]
) -> tuple[CeremonyConfig, dict[str, SigningKey]]:
    """A configuration with a fresh signing key per trustee, and those keys (demos and tests)."""
    keys = {t: SigningKey.generate() for t in trustees}
    roster = {t: bytes(k.verify_key) for t, k in keys.items()}
    return CeremonyConfig.of(election_id, group, threshold, roster), keys


def run_local_ceremony(
    config: CeremonyConfig, signing_keys: Mapping[str, SigningKey]
) -> tuple[CeremonyResult, dict[str, TrusteeShare]]:
    """All n trustees in this process (demos and tests): the result and every trustee's share."""
    trustees = [Trustee.new(config, t, signing_keys[t]) for t in config.trustees]
    commitments = [t.commitment() for t in trustees]
    shares = [s for t in trustees for s in t.deal(commitments)]
    complaints = [c for t in trustees for c in t.receive(commitments, shares)]
    answers = [a for t in trustees for a in t.answer(complaints)]
    outcomes = [t.finish(commitments, complaints, answers) for t in trustees]
    return outcomes[0][0], {share.trustee_id: share for _, share in outcomes}
