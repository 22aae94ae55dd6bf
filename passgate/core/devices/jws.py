"""Compact JWS (RFC 7515) with ES256 only, the little the device protocol needs: device proofs (signed by the
device's key) and offline records (signed by Passgate's token-signing key). Pure ``cryptography``, no JOSE
library, so the agent and the server verify the same way."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from passgate.core.devices.keys import b64url, b64url_decode

SIGNATURE_BYTES = 64


def sign(key: ec.EllipticCurvePrivateKey, header: Mapping[str, Any], claims: Mapping[str, Any]) -> str:
    signing_input = ".".join(b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
    r, s = decode_dss_signature(key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@dataclass(frozen=True, slots=True)
class Parsed:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _json_part(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(text))
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"its {what} is not base64url JSON.") from None
    if not isinstance(value, dict):
        raise ValueError(f"its {what} is not a JSON object.")
    return value


def parse(token: object, *, max_length: int) -> Parsed:
    """Split and decode (no signature check); ValueError with a reason for the caller's message."""
    if not isinstance(token, str) or not 0 < len(token) <= max_length or not token.isascii():
        raise ValueError(f"send a compact JWS of at most {max_length} characters.")
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("a compact JWS has three parts.")
    header, claims = _json_part(parts[0], "header"), _json_part(parts[1], "claims")
    try:
        signature = b64url_decode(parts[2])
    except ValueError:
        raise ValueError("its signature is not base64url.") from None
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError("an ES256 signature is 64 bytes.")
    return Parsed(header=header, claims=claims, signing_input=f"{parts[0]}.{parts[1]}".encode("ascii"),
                  signature=signature)


def verifies(parsed: Parsed, key: ec.EllipticCurvePublicKey) -> bool:
    r = int.from_bytes(parsed.signature[:32], "big")
    s = int.from_bytes(parsed.signature[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), parsed.signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
