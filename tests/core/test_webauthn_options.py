"""Options builders: JSON-ready PublicKeyCredentialCreationOptionsJSON / RequestOptionsJSON."""

from __future__ import annotations

import dataclasses
import json

import pytest

from passgate.core.errors import InvalidInput
from passgate.core.webauthn import (
    DEFAULT_ALGORITHMS,
    EDDSA,
    ES256,
    RS256,
    CredentialDescriptor,
    UserEntity,
    authentication_options,
    registration_options,
)

from .softauthn import RP, b64

USER = UserEntity(handle=b"\x0a" * 32, name="ada@example.com", display_name="Ada Lovelace")
CHALLENGE = b"\x5a" * 32


def test_registration_options_shape() -> None:
    options = registration_options(rp=RP, user=USER, challenge=CHALLENGE)
    assert options == {
        "rp": {"id": "login.example.com", "name": "Example"},
        "user": {"id": b64(USER.handle), "name": "ada@example.com", "displayName": "Ada Lovelace"},
        "challenge": b64(CHALLENGE),
        "pubKeyCredParams": [{"type": "public-key", "alg": alg} for alg in DEFAULT_ALGORITHMS],
        "timeout": RP.timeout_ms,
        "excludeCredentials": [],
        "authenticatorSelection": {
            "residentKey": "required",
            "requireResidentKey": True,
            "userVerification": "required",
        },
        "attestation": "none",
        "extensions": {"credProps": True},
    }
    assert "hints" not in options
    assert json.loads(json.dumps(options)) == options  # JSON-ready
    assert "=" not in options["challenge"] + options["user"]["id"]


def test_pub_key_cred_params_keep_the_rp_preference_order() -> None:
    rp = dataclasses.replace(RP, allowed_algorithms=(RS256, EDDSA, ES256))
    params = registration_options(rp=rp, user=USER, challenge=CHALLENGE)["pubKeyCredParams"]
    assert [p["alg"] for p in params] == [RS256, EDDSA, ES256]
    assert {p["type"] for p in params} == {"public-key"}


def test_exclude_credentials_carry_their_transports() -> None:
    exclude = [
        CredentialDescriptor(id=b"\x01\x02\x03", transports=("usb", "nfc")),
        CredentialDescriptor(id=b"\xff" * 3),
    ]
    options = registration_options(rp=RP, user=USER, challenge=CHALLENGE, exclude=exclude)
    assert options["excludeCredentials"] == [
        {"type": "public-key", "id": "AQID", "transports": ["usb", "nfc"]},
        {"type": "public-key", "id": "____"},
    ]


@pytest.mark.parametrize(("require_uv", "expected"), [(True, "required"), (False, "preferred")])
def test_user_verification_follows_the_rp(require_uv: bool, expected: str) -> None:
    rp = dataclasses.replace(RP, require_user_verification=require_uv)
    assert registration_options(rp=rp, user=USER, challenge=CHALLENGE)["authenticatorSelection"][
        "userVerification"
    ] == (expected)
    assert authentication_options(rp=rp, challenge=CHALLENGE)["userVerification"] == expected


@pytest.mark.parametrize("attestation", ["none", "indirect", "direct", "enterprise"])
def test_attestation_preference(attestation: str) -> None:
    assert registration_options(rp=RP, user=USER, challenge=CHALLENGE, attestation=attestation)["attestation"] == (
        attestation
    )


def test_unknown_attestation_preference_is_invalid() -> None:
    with pytest.raises(InvalidInput):
        registration_options(rp=RP, user=USER, challenge=CHALLENGE, attestation="Direct")


@pytest.mark.parametrize("challenge", [b"", b"\x00" * 15])
def test_challenge_must_be_at_least_16_bytes(challenge: bytes) -> None:
    with pytest.raises(InvalidInput):
        registration_options(rp=RP, user=USER, challenge=challenge)
    with pytest.raises(InvalidInput):
        authentication_options(rp=RP, challenge=challenge)


def test_a_16_byte_challenge_is_enough() -> None:
    assert registration_options(rp=RP, user=USER, challenge=b"\x00" * 16)["challenge"] == "AAAAAAAAAAAAAAAAAAAAAA"


@pytest.mark.parametrize("handle", [b"", b"\x01" * 65])
def test_user_handle_must_be_1_to_64_bytes(handle: bytes) -> None:
    with pytest.raises(InvalidInput):
        registration_options(rp=RP, user=dataclasses.replace(USER, handle=handle), challenge=CHALLENGE)


def test_authentication_options_shape() -> None:
    options = authentication_options(rp=RP, challenge=CHALLENGE)
    assert options == {
        "challenge": b64(CHALLENGE),
        "rpId": "login.example.com",
        "timeout": RP.timeout_ms,
        "userVerification": "required",
    }


def test_allow_credentials_only_when_given() -> None:
    allow = [CredentialDescriptor(id=b"\x01", transports=("internal",))]
    options = authentication_options(rp=RP, challenge=CHALLENGE, allow=allow)
    assert options["allowCredentials"] == [{"type": "public-key", "id": "AQ", "transports": ["internal"]}]
    assert "allowCredentials" not in authentication_options(rp=RP, challenge=CHALLENGE, allow=())
