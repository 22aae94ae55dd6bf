"""core.devices: enrollment tokens, device keys, device proofs and join requests (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from passgate.core.devices import enrollment
from passgate.core.devices.errors import DeviceReason, DeviceRejected
from passgate.core.devices.join import TrustType, read_join_request
from passgate.core.devices.keys import b64url, b64url_decode, jwk_of, public_key_from_jwk, thumbprint
from passgate.core.devices.proof import ProofRequest, read_proof, sign_proof, verify_proof
from passgate.core.errors import InvalidInput

KEY = ec.generate_private_key(ec.SECP256R1())
OTHER = ec.generate_private_key(ec.SECP256R1())
NOW = 1_800_000_000
REQUEST = ProofRequest(audience="https://id.contoso.test", method="POST",
                       url="https://id.contoso.test/device/v1/sync", body=b'{"a":1}')
KEY_SECRET = b"k" * 32


def _reason(call: Any) -> DeviceReason:
    with pytest.raises(DeviceRejected) as refused:
        call()
    return refused.value.reason


# --- enrollment tokens ---------------------------------------------------------------------------------------------

def test_a_token_is_160_random_bits_shown_once_and_stored_as_a_keyed_hash() -> None:
    token = enrollment.generate(bytes(range(20)))
    assert token.startswith("PGD-") and len(token) == enrollment.TOKEN_LENGTH
    assert enrollment.digest(KEY_SECRET, token) == enrollment.digest(KEY_SECRET, f"  {token.lower()} ")
    assert enrollment.digest(KEY_SECRET, token) != enrollment.digest(b"x" * 32, token)
    with pytest.raises(InvalidInput):
        enrollment.generate(b"short")


@given(st.text(max_size=60))
def test_anything_not_shaped_like_a_token_matches_no_token(text: str) -> None:
    if enrollment.normalise(text) == "":
        assert enrollment.digest(KEY_SECRET, text) == enrollment.digest(KEY_SECRET, "")


def test_a_token_is_refused_when_unknown_revoked_expired_or_used_up() -> None:
    start = datetime(2026, 12, 4, tzinfo=UTC)
    record = enrollment.TokenRecord(created_at=start, lifetime_minutes=60, uses_left=1, revoked=False)
    enrollment.require_usable(record, now=start + timedelta(minutes=59))
    assert _reason(lambda: enrollment.require_usable(None, now=start)) is DeviceReason.ENROLLMENT_TOKEN_INVALID
    revoked = enrollment.TokenRecord(created_at=start, lifetime_minutes=60, uses_left=1, revoked=True)
    assert _reason(lambda: enrollment.require_usable(revoked, now=start)) is DeviceReason.ENROLLMENT_TOKEN_INVALID
    assert _reason(lambda: enrollment.require_usable(record, now=start + timedelta(minutes=60))) is (
        DeviceReason.ENROLLMENT_TOKEN_EXPIRED)
    used = enrollment.TokenRecord(created_at=start, lifetime_minutes=60, uses_left=0, revoked=False)
    assert _reason(lambda: enrollment.require_usable(used, now=start)) is DeviceReason.ENROLLMENT_TOKEN_USED


@pytest.mark.parametrize(("lifetime", "uses"), [(9, 1), (7 * 24 * 60 + 1, 1), (60, 0), (60, 1001), (True, 1),
                                                (60, "2"), (60.0, 1)])
def test_token_settings_out_of_bounds_are_refused(lifetime: object, uses: object) -> None:
    with pytest.raises(InvalidInput):
        enrollment.validate_issue(lifetime_minutes=lifetime, uses=uses)


# --- device keys ---------------------------------------------------------------------------------------------------

def test_a_p256_public_jwk_is_the_device_key_and_its_thumbprint_its_id() -> None:
    jwk = jwk_of(KEY.public_key())
    assert public_key_from_jwk(jwk).public_numbers() == KEY.public_key().public_numbers()
    assert thumbprint(public_key_from_jwk({**jwk, "alg": "ES256", "kid": "x"})) == thumbprint(KEY.public_key())
    assert thumbprint(KEY.public_key()) != thumbprint(OTHER.public_key())


def _with(jwk: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**jwk, **changes}


@pytest.mark.parametrize("make", [
    lambda jwk: _with(jwk, d=b64url(b"\x01" * 32)),  # the private key
    lambda jwk: _with(jwk, crv="P-384"),
    lambda jwk: _with(jwk, kty="RSA"),
    lambda jwk: _with(jwk, alg="ES384"),
    lambda jwk: _with(jwk, y=b64url(b"\x00" * 31 + b"\x01")),  # off the curve
    lambda jwk: _with(jwk, x=jwk["x"] + "="),  # padded
    lambda jwk: _with(jwk, x=jwk["x"][:-2]),  # short
    lambda jwk: _with(jwk, x=5),
    lambda jwk: _with(jwk, colour="blue"),
    lambda jwk: [jwk],
    lambda jwk: "not a key",
])
def test_anything_but_a_p256_public_key_is_refused(make: Any) -> None:
    bad = make(jwk_of(KEY.public_key()))
    assert _reason(lambda: public_key_from_jwk(bad)) is DeviceReason.KEY_INVALID


# --- device proofs -------------------------------------------------------------------------------------------------

def _proof(**changes: Any) -> str:
    return sign_proof(changes.pop("key", KEY), device_id="dev-1", request=changes.pop("request", REQUEST),
                      now=changes.pop("now", NOW), jti=changes.pop("jti", "abcdefghijklmnop"))


def test_a_proof_binds_one_request_to_the_device_key() -> None:
    proof = read_proof(_proof())
    assert (proof.device_id, proof.jti, proof.issued_at) == ("dev-1", "abcdefghijklmnop", NOW)
    assert proof.key_id == thumbprint(KEY.public_key())
    verify_proof(proof, key=KEY.public_key(), request=REQUEST, now=NOW + 100)


@pytest.mark.parametrize(("request_", "now"), [
    (ProofRequest(REQUEST.audience, "GET", REQUEST.url, REQUEST.body), NOW),
    (ProofRequest(REQUEST.audience, "POST", REQUEST.url + "?x=1", REQUEST.body), NOW),
    (ProofRequest(REQUEST.audience, "POST", REQUEST.url, b'{"a":2}'), NOW),
    (ProofRequest("https://evil.test", "POST", REQUEST.url, REQUEST.body), NOW),
])
def test_a_proof_for_another_request_is_refused(request_: ProofRequest, now: int) -> None:
    proof = read_proof(_proof())
    assert _reason(lambda: verify_proof(proof, key=KEY.public_key(), request=request_, now=now)) is (
        DeviceReason.PROOF_WRONG_REQUEST)


def test_an_old_or_future_proof_is_refused() -> None:
    proof = read_proof(_proof())
    for now in (NOW + 121, NOW - 31):
        assert _reason(lambda now=now: verify_proof(proof, key=KEY.public_key(), request=REQUEST, now=now)) is (
            DeviceReason.PROOF_EXPIRED)


def test_a_proof_from_another_device_or_with_a_changed_claim_is_refused() -> None:
    proof = read_proof(_proof(key=OTHER))
    assert _reason(lambda: verify_proof(proof, key=KEY.public_key(), request=REQUEST, now=NOW)) is (
        DeviceReason.PROOF_SIGNATURE)
    header, claims, signature = _proof().split(".")
    decoded = json.loads(b64url_decode(claims))
    forged = b64url(json.dumps({**decoded, "sub": "dev-2"}, separators=(",", ":")).encode())
    tampered = read_proof(f"{header}.{forged}.{signature}")
    assert _reason(lambda: verify_proof(tampered, key=KEY.public_key(), request=REQUEST, now=NOW)) is (
        DeviceReason.PROOF_SIGNATURE)


def _part(value: object) -> str:
    return b64url(json.dumps(value).encode())


@pytest.mark.parametrize("token", [
    "", "a.b", "a.b.c.d", "x" * 5000, "é.é.é", 5, None,
    f"{_part({'alg': 'none', 'typ': 'passgate-device-proof+jwt', 'kid': 'k'})}.{_part({})}.AA",
    f"{_part({'alg': 'ES256', 'typ': 'passgate-device-proof+jwt', 'kid': 'k', 'jwk': {}})}.{_part({})}.AA",
    f"{_part({'alg': 'ES256', 'typ': 'passgate-device-proof+jwt', 'kid': 'k'})}.{_part([])}.AA",
    f"{_part({'alg': 'ES256', 'typ': 'passgate-device-proof+jwt', 'kid': 'k'})}.{_part({'sub': 'x'})}.AA",
])
def test_malformed_proofs_are_refused_as_malformed(token: object) -> None:
    assert _reason(lambda: read_proof(token)) is DeviceReason.PROOF_MALFORMED


@given(st.text(max_size=300))
def test_no_string_gets_past_the_parser_with_anything_but_a_refusal(token: str) -> None:
    try:
        read_proof(token)
    except DeviceRejected as refused:
        assert refused.reason is DeviceReason.PROOF_MALFORMED


# --- join requests -------------------------------------------------------------------------------------------------

def _join(**changes: Any) -> dict[str, Any]:
    body = {"enrollmentToken": "PGD-X", "displayName": " build-07 ", "operatingSystem": "Linux",
            "operatingSystemVersion": "Debian 12", "publicKey": jwk_of(KEY.public_key())}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def test_a_join_request_is_read_with_defaults() -> None:
    request = read_join_request(_join())
    assert (request.display_name, request.trust_type, request.operating_system) == ("build-07", TrustType.JOINED,
                                                                                     "Linux")
    assert read_join_request(_join(trustType="hybrid")).trust_type.graph == "ServerAd"


@pytest.mark.parametrize("body", [
    _join(colour="blue"), _join(displayName=""), _join(displayName="a\x00b"), _join(displayName="a\ud800"),
    _join(displayName="x" * 257), _join(operatingSystem="Windows"), _join(trustType="workplace"),
    _join(enrollmentToken=5), {"displayName": "x"}, [],
])
def test_a_bad_join_request_is_refused_with_its_reason(body: Any) -> None:
    assert _reason(lambda: read_join_request(body)) is DeviceReason.JOIN_REQUEST_INVALID


def test_a_join_request_with_a_bad_key_says_the_key() -> None:
    assert _reason(lambda: read_join_request(_join(publicKey={"kty": "EC"}))) is DeviceReason.KEY_INVALID
