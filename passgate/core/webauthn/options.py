"""Ceremony options as JSON-ready dicts (WebAuthn L3 ``PublicKeyCredential*OptionsJSON``).

Binary values are base64url without padding, so the browser can pass them to
``PublicKeyCredential.parseCreationOptionsFromJSON()`` / ``parseRequestOptionsFromJSON()``.
The caller supplies the random challenge (this module has no randomness) and stores it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from passgate.core.errors import InvalidInput
from passgate.core.webauthn._parse import PUBLIC_KEY, b64url_encode
from passgate.core.webauthn.types import MIN_CHALLENGE_LENGTH, CredentialDescriptor, RelyingParty, UserEntity

ATTESTATION_PREFERENCES = frozenset({"none", "indirect", "direct", "enterprise"})
MAX_USER_HANDLE_LENGTH = 64  # WebAuthn L3 §5.4.3 user.id: at most 64 bytes


def _check_challenge(challenge: bytes) -> None:
    if not isinstance(challenge, bytes) or len(challenge) < MIN_CHALLENGE_LENGTH:
        raise InvalidInput(f"challenge must be at least {MIN_CHALLENGE_LENGTH} random bytes")


def _user_verification(rp: RelyingParty) -> str:
    return "required" if rp.require_user_verification else "preferred"


def _descriptors(credentials: Sequence[CredentialDescriptor]) -> list[dict[str, Any]]:
    descriptors: list[dict[str, Any]] = []
    for credential in credentials:
        descriptor: dict[str, Any] = {"type": PUBLIC_KEY, "id": b64url_encode(credential.id)}
        if credential.transports:
            descriptor["transports"] = list(credential.transports)
        descriptors.append(descriptor)
    return descriptors


def registration_options(
    *,
    rp: RelyingParty,
    user: UserEntity,
    challenge: bytes,
    exclude: Sequence[CredentialDescriptor] = (),
    attestation: str = "none",
) -> dict[str, Any]:
    """``PublicKeyCredentialCreationOptionsJSON`` for a discoverable (resident) passkey."""
    _check_challenge(challenge)
    if not 1 <= len(user.handle) <= MAX_USER_HANDLE_LENGTH:
        raise InvalidInput(f"user handle must be 1 to {MAX_USER_HANDLE_LENGTH} bytes")
    if attestation not in ATTESTATION_PREFERENCES:
        raise InvalidInput(f"attestation must be one of {sorted(ATTESTATION_PREFERENCES)}")
    return {
        "rp": {"id": rp.id, "name": rp.name},
        "user": {"id": b64url_encode(user.handle), "name": user.name, "displayName": user.display_name},
        "challenge": b64url_encode(challenge),
        "pubKeyCredParams": [{"type": PUBLIC_KEY, "alg": alg} for alg in rp.allowed_algorithms],
        "timeout": rp.timeout_ms,
        "excludeCredentials": _descriptors(exclude),
        "authenticatorSelection": {
            "residentKey": "required",
            "requireResidentKey": True,
            "userVerification": _user_verification(rp),
        },
        "attestation": attestation,
        "extensions": {"credProps": True},
    }


def authentication_options(
    *,
    rp: RelyingParty,
    challenge: bytes,
    allow: Sequence[CredentialDescriptor] = (),
) -> dict[str, Any]:
    """``PublicKeyCredentialRequestOptionsJSON``; ``allowCredentials`` only when ``allow`` is given."""
    _check_challenge(challenge)
    options: dict[str, Any] = {
        "challenge": b64url_encode(challenge),
        "rpId": rp.id,
        "timeout": rp.timeout_ms,
        "userVerification": _user_verification(rp),
    }
    if allow:
        options["allowCredentials"] = _descriptors(allow)
    return options


_B64URL = {"type": "string", "pattern": "^[A-Za-z0-9_-]*$"}
# What registration_options answers, as JSON Schema (the OpenAPI document publishes it).
CREATION_OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object", "title": "PublicKeyCredentialCreationOptionsJSON", "additionalProperties": False,
    "required": ["rp", "user", "challenge", "pubKeyCredParams", "timeout", "excludeCredentials",
                 "authenticatorSelection", "attestation", "extensions"],
    "properties": {
        "rp": {"type": "object", "required": ["id", "name"], "additionalProperties": False,
               "properties": {"id": {"type": "string"}, "name": {"type": "string"}}},
        "user": {"type": "object", "required": ["id", "name", "displayName"], "additionalProperties": False,
                 "properties": {"id": _B64URL, "name": {"type": "string"}, "displayName": {"type": "string"}}},
        "challenge": _B64URL,
        "pubKeyCredParams": {"type": "array", "items": {
            "type": "object", "required": ["type", "alg"], "additionalProperties": False,
            "properties": {"type": {"const": PUBLIC_KEY}, "alg": {"type": "integer"}}}},
        "timeout": {"type": "integer"},
        "excludeCredentials": {"type": "array", "items": {
            "type": "object", "required": ["type", "id"], "additionalProperties": False,
            "properties": {"type": {"const": PUBLIC_KEY}, "id": _B64URL,
                           "transports": {"type": "array", "items": {"type": "string"}}}}},
        "authenticatorSelection": {
            "type": "object", "required": ["residentKey", "requireResidentKey", "userVerification"],
            "additionalProperties": False,
            "properties": {"residentKey": {"const": "required"}, "requireResidentKey": {"const": True},
                           "userVerification": {"type": "string", "enum": ["required", "preferred", "discouraged"]}}},
        "attestation": {"type": "string", "enum": sorted(ATTESTATION_PREFERENCES)},
        "extensions": {"type": "object", "required": ["credProps"], "additionalProperties": False,
                       "properties": {"credProps": {"const": True}}},
    },
}
