"""Credential public keys (issue 9, finding 7): weak, invalid, unknown-curve and mislabelled COSE keys are refused
at registration, each with its own reason, and a stored key that breaks the rules is refused at sign-in.

Most keys here are COSE maps built by hand: with ``none`` attestation nothing signs with the credential key at
registration, so a refused key needs no private half (except where a test signs with it)."""

from __future__ import annotations

import dataclasses
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from passgate.core.errors import CeremonyRejected, InvalidInput, RejectReason
from passgate.core.keys import MAX_RSA_BITS, MIN_RSA_BITS
from passgate.core.webauthn import EDDSA, ES256, RS256, RegisteredCredential, verify_authentication, verify_registration
from passgate.core.webauthn._keys import SUPPORTED_ALGORITHMS, KeyRejected, decode_key

from .softauthn import (
    CHALLENGE,
    ES512,
    RP,
    SoftAuthenticator,
    SoftKey,
    eddsa_key,
    es256_key,
    es512_key,
    rs256_key,
    weak_rsa_key,
)

R = RejectReason
RP_ALL = dataclasses.replace(RP, allowed_algorithms=tuple(sorted(SUPPORTED_ALGORITHMS)))
KEY_REASONS = {R.CREDENTIAL_KEY_TOO_WEAK, R.CREDENTIAL_KEY_INVALID, R.UNSUPPORTED_CURVE, R.CREDENTIAL_KEY_ALG_MISMATCH}
P521_PRIME = 2**521 - 1


def register_key(cose_key: bytes, *, fmt: str = "none", key: SoftKey | None = None) -> RegisteredCredential:
    """A registration whose authenticator data carries ``cose_key`` (signed by ``key`` for packed self)."""
    authenticator = SoftAuthenticator(key=key or es256_key())
    auth_data = authenticator.registration_auth_data(cose_key=cose_key)
    credential = authenticator.register(auth_data=auth_data, fmt=fmt)
    return verify_registration(rp=RP_ALL, credential=credential, expected_challenge=CHALLENGE,
                               credential_id_registered=lambda _cid: False)


def refused(reason: RejectReason, cose_key: bytes, **kwargs: Any) -> CeremonyRejected:
    with pytest.raises(CeremonyRejected) as info:
        register_key(cose_key, **kwargs)
    assert info.value.reason is reason, info.value
    return info.value


def rsa_cose(n: int, e: int = 65537, alg: int = RS256) -> bytes:
    return cbor2.dumps({1: 3, 3: alg, -1: n.to_bytes((n.bit_length() + 7) // 8, "big"),
                        -2: e.to_bytes((e.bit_length() + 7) // 8, "big")})


def ec2_cose(crv: int, x: Any, y: Any, alg: int = ES256) -> bytes:
    return cbor2.dumps({1: 2, 3: alg, -1: crv, -2: x, -3: y})


def odd_modulus(bits: int) -> int:
    return (1 << (bits - 1)) | 0xF00D1


# --- RSA ------------------------------------------------------------------------------------------------------


def test_a_512_bit_rsa_key_is_too_weak_to_register() -> None:
    """The reviewed case: a real 512-bit RSA key, packed self attestation signed by it."""
    key = weak_rsa_key(512)
    error = refused(R.CREDENTIAL_KEY_TOO_WEAK, key.cose(), fmt="packed", key=key)
    assert "512-bit RSA key" in error.message and str(MIN_RSA_BITS) in error.message
    refused(R.CREDENTIAL_KEY_TOO_WEAK, key.cose())  # and with no attestation at all


def test_a_1024_bit_rsa_key_is_too_weak() -> None:
    refused(R.CREDENTIAL_KEY_TOO_WEAK, weak_rsa_key(1024).cose())


@pytest.mark.parametrize(("bits", "reason"), [
    (MIN_RSA_BITS - 1, R.CREDENTIAL_KEY_TOO_WEAK),
    (MIN_RSA_BITS, None),
    (MAX_RSA_BITS, None),
    (MAX_RSA_BITS + 1, R.CREDENTIAL_KEY_INVALID),
])
def test_rsa_modulus_size_bounds(bits: int, reason: RejectReason | None) -> None:
    if reason is None:
        assert register_key(rsa_cose(odd_modulus(bits))).algorithm == RS256
    else:
        refused(reason, rsa_cose(odd_modulus(bits)))


@pytest.mark.parametrize("e", [1, 2, 4, 65536, 2**256 + 1, 0])
def test_rsa_public_exponent_must_be_odd_and_at_least_3(e: int) -> None:
    cose = cbor2.dumps({1: 3, 3: RS256, -1: odd_modulus(2048).to_bytes(256, "big"), -2: e.to_bytes(33, "big")})
    refused(R.CREDENTIAL_KEY_INVALID, cose)


def test_an_exponent_of_3_is_accepted() -> None:
    assert register_key(rsa_cose(odd_modulus(2048), e=3)).algorithm == RS256


def test_an_even_rsa_modulus_is_invalid() -> None:
    refused(R.CREDENTIAL_KEY_INVALID, rsa_cose(1 << 2047))


def test_real_keys_of_every_default_kind_register() -> None:
    for key, alg in ((es256_key(), ES256), (eddsa_key(), EDDSA), (rs256_key(), RS256), (es512_key(), ES512)):
        assert register_key(key.cose(), fmt="packed", key=key).algorithm == alg


# --- EC2 --------------------------------------------------------------------------------------------------------


def _p256_point() -> tuple[bytes, bytes]:
    numbers = es256_key().private_key.public_key().public_numbers()
    return numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")


def test_a_point_off_the_curve_is_invalid() -> None:
    x, y = _p256_point()
    refused(R.CREDENTIAL_KEY_INVALID, ec2_cose(1, x, bytes([y[0] ^ 1]) + y[1:]))


def test_the_point_at_infinity_is_invalid() -> None:
    """(0, 0), the usual affine stand-in for the point at infinity, and all-zero coordinates of any curve."""
    refused(R.CREDENTIAL_KEY_INVALID, ec2_cose(1, bytes(32), bytes(32)))
    refused(R.CREDENTIAL_KEY_INVALID, ec2_cose(3, bytes(66), bytes(66), alg=ES512))


def test_a_coordinate_above_the_field_prime_is_invalid() -> None:
    """x + p names the same point once reduced; P-521's 66-byte coordinates leave room for it."""
    numbers = es512_key().private_key.public_key().public_numbers()
    y = numbers.y.to_bytes(66, "big")
    assert register_key(ec2_cose(3, numbers.x.to_bytes(66, "big"), y, alg=ES512)).algorithm == ES512
    refused(R.CREDENTIAL_KEY_INVALID, ec2_cose(3, (numbers.x + P521_PRIME).to_bytes(66, "big"), y, alg=ES512))


@pytest.mark.parametrize("change", ["short x", "long x", "short y", "compressed", "x is text", "no y"])
def test_coordinates_must_be_byte_strings_of_the_curve_size(change: str) -> None:
    x, y = _p256_point()
    values: dict[str, tuple[Any, Any]] = {
        "short x": (x[1:], y), "long x": (b"\x00" + x, y), "short y": (x, y[1:]), "compressed": (x, True),
        "x is text": (x.hex(), y), "no y": (x, None),
    }
    refused(R.CREDENTIAL_KEY_INVALID, ec2_cose(1, *values[change]))


@pytest.mark.parametrize(("kty", "crv"), [(2, 8), (2, 99), (2, 6), (2, -1), (1, 4), (1, 7), (1, 1)])
def test_an_unknown_curve_is_unsupported(kty: int, crv: int) -> None:
    """secp256k1 (8), an unassigned value, Ed25519 on an EC2 key, X25519 (4), Ed448 (7), P-256 on an OKP key."""
    x, y = _p256_point()
    alg = ES256 if kty == 2 else EDDSA
    refused(R.UNSUPPORTED_CURVE, cbor2.dumps({1: kty, 3: alg, -1: crv, -2: x, -3: y}))


@pytest.mark.parametrize(("alg", "crv"), [(ES256, 2), (ES256, 3), (ES512, 1)])
def test_an_ecdsa_algorithm_on_another_curve_is_a_mismatch(alg: int, crv: int) -> None:
    """ES256 names P-256 and ES512 names P-521 (RFC 9053 §2.1): e.g. ES256 on a P-384 key."""
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key().public_numbers()
    x, y = _p256_point()
    if crv == 2:
        x, y = p384.x.to_bytes(48, "big"), p384.y.to_bytes(48, "big")
    elif crv == 3:
        numbers = es512_key().private_key.public_key().public_numbers()
        x, y = numbers.x.to_bytes(66, "big"), numbers.y.to_bytes(66, "big")
    refused(R.CREDENTIAL_KEY_ALG_MISMATCH, ec2_cose(crv, x, y, alg=alg))


@pytest.mark.parametrize(("key", "alg"), [
    (es256_key, RS256), (es256_key, EDDSA), (eddsa_key, ES256), (rs256_key, ES256), (rs256_key, EDDSA),
])
def test_a_key_type_the_algorithm_does_not_name_is_a_mismatch(key: Any, alg: int) -> None:
    refused(R.CREDENTIAL_KEY_ALG_MISMATCH, key().cose(alg=alg))


# --- OKP --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 31, 33, 57])
def test_an_ed25519_key_must_be_32_bytes(size: int) -> None:
    refused(R.CREDENTIAL_KEY_INVALID, cbor2.dumps({1: 1, 3: EDDSA, -1: 6, -2: b"\x01" * size}))


# --- a stored key at sign-in ------------------------------------------------------------------------------------


def test_a_stored_key_that_breaks_the_rules_is_refused_at_sign_in() -> None:
    """A 512-bit key registered before the rules existed: refused even with a valid signature (it is forgeable)."""
    authenticator = SoftAuthenticator(key=weak_rsa_key(512))
    with pytest.raises(CeremonyRejected) as info:
        verify_authentication(rp=RP, credential=authenticator.assert_(), expected_challenge=CHALLENGE,
                              stored=authenticator.stored())
    assert info.value.reason is R.CREDENTIAL_KEY_TOO_WEAK


def test_a_stored_key_that_is_not_a_cose_key_stays_a_caller_error() -> None:
    authenticator = SoftAuthenticator()
    with pytest.raises(InvalidInput):
        verify_authentication(rp=RP, credential=authenticator.assert_(), expected_challenge=CHALLENGE,
                              stored=authenticator.stored(public_key=cbor2.dumps([1, 2])))


# --- properties -------------------------------------------------------------------------------------------------

COSE_PROPERTIES = settings(max_examples=300, deadline=None, database=None)
_member_values = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=8)
    | st.binary(max_size=70) | st.sampled_from([b"\x00" * 32, b"\xff" * 32, b"\x00" * 66, b"\xff" * 66])
    | st.lists(st.integers(), max_size=2)
)
_labels = st.sampled_from([1, 3, -1, -2, -3, 2, 4, -4, "kty"])
cose_maps = st.fixed_dictionaries(
    {},
    optional={
        1: st.sampled_from([1, 2, 3, 7, 0, 4, -1]) | _member_values,
        3: st.sampled_from([*sorted(SUPPORTED_ALGORITHMS), -35, -53, 0, 1]) | _member_values,
        -1: st.sampled_from([1, 2, 3, 6, 7, 8]) | _member_values,
        -2: _member_values,
        -3: _member_values,
    },
).flatmap(lambda fixed: st.dictionaries(_labels, _member_values, max_size=2).map(lambda extra: {**extra, **fixed}))


@st.composite
def one_member_changed(draw: Any) -> dict[Any, Any]:
    """A real key with one member replaced by anything (the near misses a random map rarely hits)."""
    key = draw(st.sampled_from([es256_key, eddsa_key, rs256_key, es512_key]))()
    members = cbor2.loads(key.cose())
    members[draw(st.sampled_from(sorted(members)))] = draw(_member_values)
    return dict(members)


@COSE_PROPERTIES
@given(st.one_of(cose_maps, one_member_changed(), st.sampled_from([es256_key, eddsa_key, rs256_key, es512_key]).map(
    lambda key: dict(cbor2.loads(key().cose())))))
def test_any_cose_key_map_registers_or_is_refused_with_a_reason(cose_key: dict[Any, Any]) -> None:
    """Never an untyped exception; a refusal names the key rule (or the map's shape); what registers verifies."""
    raw = cbor2.dumps(cose_key)
    try:
        registered = register_key(raw)
    except CeremonyRejected as exc:
        assert exc.reason in KEY_REASONS | {R.MALFORMED_ATTESTATION_OBJECT, R.ALGORITHM_NOT_ALLOWED}, exc
        with pytest.raises(KeyRejected):
            decode_key(raw)
        return
    assert registered.public_key == raw
    assert decode_key(raw).algorithm == cose_key[3]  # a registered key is one sign-in accepts


@COSE_PROPERTIES
@given(st.binary(max_size=300))
def test_any_bytes_as_a_credential_key_are_refused_with_a_reason(raw: bytes) -> None:
    try:
        decode_key(raw)
    except KeyRejected as exc:
        assert exc.reason in KEY_REASONS | {R.MALFORMED_ATTESTATION_OBJECT, R.ALGORITHM_NOT_ALLOWED}
