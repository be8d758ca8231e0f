"""ristretto255 against RFC 9496 Appendix A and RFC 9497 (HashToGroup, HashToScalar), on both paths.

Every test runs twice (tests/unit/groups/conftest.py): with the native extension serving the public
operations, and with libsodium alone.
"""

from __future__ import annotations

import pytest

from degcore.errors import InvalidInput
from degcore.groups import get_group
from degcore.groups.ristretto255 import Ristretto255
from tests.conftest import load_vector

G = get_group("ristretto255")

pytestmark = pytest.mark.usefixtures("ristretto_path")


def test_generator_multiples_rfc9496_a1() -> None:
    cases = load_vector("ristretto255/rfc9496_ristretto255_vectors.json")["generator_multiples"]
    assert len(cases) == 16
    g = G.generator()
    acc = G.identity()
    for case in cases:
        assert bytes(G.exp_g(case["k"])).hex() == case["encoding"]
        assert bytes(acc).hex() == case["encoding"]
        assert G.decode(bytes.fromhex(case["encoding"])) == acc
        acc = acc * g


def test_invalid_encodings_rfc9496_a2() -> None:
    cases = load_vector("ristretto255/rfc9496_ristretto255_vectors.json")["invalid_encodings"]
    assert len(cases) == 29
    for case in cases:
        with pytest.raises(InvalidInput):
            G.decode(bytes.fromhex(case["encoding"]))


def test_decode_many_accepts_and_refuses_what_decode_does() -> None:
    """RFC 9496's multiples decode together as one by one; an invalid one raises decode's own error."""
    data = load_vector("ristretto255/rfc9496_ristretto255_vectors.json")
    valid = [bytes.fromhex(c["encoding"]) for c in data["generator_multiples"]]
    assert G.decode_many(b"".join(valid)) == [G.decode(v) for v in valid]
    assert G.decode_many(b"") == []
    for case in data["invalid_encodings"]:
        bad = bytes.fromhex(case["encoding"])
        with pytest.raises(InvalidInput) as many:
            G.decode_many(valid[0] + bad + valid[1])
        with pytest.raises(InvalidInput) as one:
            G.decode(bad)
        assert str(many.value) == str(one.value)
    with pytest.raises(InvalidInput, match="whole number of elements"):
        G.decode_many(valid[0] + b"\x00")


def test_multi_exp_matches_its_terms() -> None:
    """The one-pass multi_exp: zero and unreduced scalars, repeated bases, no terms, the identity."""
    g, x = G.generator(), G.exp_g(12345)
    q = G.order
    bases = [g, x, g, G.identity(), x]
    scalars = [3, q + 5, 0, 7, -2]
    assert G.multi_exp(bases, scalars) == G.exp_g(3) * G.exp(x, 3)
    assert G.multi_exp([], []) == G.identity()
    assert G.multi_exp([x], [q]) == G.identity()
    with pytest.raises(InvalidInput):
        G.multi_exp([g, x], [1])


def test_from_uniform_bytes_rfc9496_a3() -> None:
    data = load_vector("ristretto255/rfc9496_ristretto255_vectors.json")
    assert isinstance(G, Ristretto255)
    for case in data["from_uniform_bytes"]:
        assert bytes(G.from_uniform_bytes(bytes.fromhex(case["input_bytes"]))).hex() == case["element"]
    equivalent = data["from_uniform_bytes_equivalent"]
    outputs = {bytes(G.from_uniform_bytes(bytes.fromhex(i))).hex() for i in equivalent["inputs"]}
    assert len(outputs) == 1


def _oprf_suites() -> list[dict[str, object]]:
    return list(load_vector("ristretto255/rfc9497_oprf_ristretto255_sha512.json"))


def test_hash_to_element_rfc9497_hash_to_group() -> None:
    suites = _oprf_suites()
    checked = 0
    for suite in suites:
        dst = bytes.fromhex(str(suite["groupDST"]))
        sk = G.decode_scalar(bytes.fromhex(str(suite["skSm"])))
        for vec in suite["vectors"]:  # type: ignore[attr-defined]
            if vec["Batch"] != 1:
                continue
            blind = G.decode_scalar(bytes.fromhex(vec["Blind"]))
            blinded = G.hash_to_element(bytes.fromhex(vec["Input"]), dst) ** blind
            assert bytes(blinded).hex() == vec["BlindedElement"]
            if suite["mode"] in (0, 1):  # POPRF (mode 2) evaluates under a tweaked key, not skSm
                assert bytes(blinded**sk).hex() == vec["EvaluationElement"]
            checked += 1
    assert checked >= 6


def test_hash_to_scalar_rfc9497_derive_key_pair() -> None:
    for suite in _oprf_suites():
        seed = bytes.fromhex(str(suite["seed"]))
        info = bytes.fromhex(str(suite["keyInfo"]))
        context = b"OPRFV1-" + bytes([int(str(suite["mode"]))]) + b"-" + str(suite["identifier"]).encode()
        derive_input = seed + len(info).to_bytes(2, "big") + info
        sk = G.hash_to_scalar(derive_input + b"\x00", b"DeriveKeyPair" + context)
        assert G.encode_scalar(sk).hex() == suite["skSm"]


def test_scalar_decoding_is_canonical() -> None:
    with pytest.raises(InvalidInput):
        G.decode_scalar(G.order.to_bytes(32, "little"))
    with pytest.raises(InvalidInput):
        G.decode_scalar(bytes(31))
    assert G.decode_scalar((G.order - 1).to_bytes(32, "little")) == G.order - 1


def test_top_bit_set_is_rejected() -> None:
    """RFC 9496 §4.3.1: only s < p (bit 255 clear) is canonical; libsodium < 1.0.19 ignores that bit."""
    cases = load_vector("ristretto255/rfc9496_ristretto255_vectors.json")["generator_multiples"]
    for case in cases:
        raw = bytearray.fromhex(case["encoding"])
        raw[31] |= 0x80
        with pytest.raises(InvalidInput):
            G.decode(bytes(raw))
    # 00…0080: the identity's encoding with bit 255 set, which would pass as a non-identity key.
    with pytest.raises(InvalidInput):
        G.decode(bytes.fromhex("00" * 31 + "80"))


def test_public_paths_give_the_secret_paths_results() -> None:
    """Whichever path serves the public operations, they agree with libsodium's constant-time ones."""
    h = G.exp_g(7)
    a = G.exp_g(11)
    for k in (0, 1, 3, G.order - 1, 2**251 + 1, -5, G.order + 2):
        assert G.exp_vartime(h, k) == G.exp(h, k) == G.fixed(h).exp_vartime(k)
        assert G.exp_g_vartime(k) == G.exp_g(k)
        assert G.exp_g_multi_vartime(k, [a], [k + 1]) == G.exp_g(k) * G.exp(a, k + 1)
        assert G.fixed(h).exp_multi_vartime(k, [a, h], [2, k]) == G.exp(h, 2 * k) * G.exp(a, 2)
    assert G.exp_g_multi_vartime(5, [], []) == G.exp_g(5)
    with pytest.raises(InvalidInput):
        G.exp_g_multi_vartime(5, [a], [])
