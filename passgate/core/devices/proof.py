"""The proof a joined device sends with each request to the device API: a compact JWS (RFC 7515), ES256, signed
with the device's key, in the ``Authorization: PassgateDevice <proof>`` header.

Header ``{"alg": "ES256", "typ": "passgate-device-proof+jwt", "kid": <the key's RFC 7638 thumbprint>}``; claims
``sub`` (the device id), ``aud`` (Passgate's origin), ``htm`` and ``htu`` (the request's method and URL, as in
DPoP, RFC 9449), ``bh`` (base64url SHA-256 of the body), ``iat`` (seconds) and ``jti`` (single use: the server
keeps the ids it has seen until they are too old to be accepted anyway). A proof therefore authorises exactly one
request, once, for ``MAX_AGE_SECONDS``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from passgate.core.devices import jws
from passgate.core.devices.errors import DeviceReason, DeviceRejected
from passgate.core.devices.keys import b64url, thumbprint

PROOF_TYPE = "passgate-device-proof+jwt"
SCHEME = "PassgateDevice"
MAX_PROOF_LENGTH = 4096
MAX_AGE_SECONDS = 120
MAX_FUTURE_SECONDS = 30  # clock skew allowed ahead of the server
_CLAIMS = frozenset({"sub", "aud", "htm", "htu", "bh", "iat", "jti"})
_SIGNATURE_BYTES = 64


@dataclass(frozen=True, slots=True)
class ProofRequest:
    """The request a proof must be bound to, as the server saw it."""

    audience: str
    method: str
    url: str
    body: bytes


@dataclass(frozen=True, slots=True)
class UnverifiedProof:
    """What a proof claims, before its signature is checked: enough to find the device's key."""

    device_id: str
    key_id: str
    issued_at: int
    jti: str
    claims: Mapping[str, Any]
    signing_input: bytes
    signature: bytes


def body_hash(body: bytes) -> str:
    return b64url(hashlib.sha256(body).digest())


def sign_proof(key: ec.EllipticCurvePrivateKey, *, device_id: str, request: ProofRequest, now: int,
               jti: str) -> str:
    """The device side: a proof for one request."""
    header = {"alg": "ES256", "typ": PROOF_TYPE, "kid": thumbprint(key.public_key())}
    claims = {"sub": device_id, "aud": request.audience, "htm": request.method, "htu": request.url,
              "bh": body_hash(request.body), "iat": now, "jti": jti}
    return jws.sign(key, header, claims)


def _malformed(why: str) -> DeviceRejected:
    return DeviceRejected(DeviceReason.PROOF_MALFORMED, f"The device proof is malformed: {why}")


def read_proof(token: object) -> UnverifiedProof:
    """Parse a proof (no signature check yet): shape, header and claim types."""
    try:
        parsed = jws.parse(token, max_length=MAX_PROOF_LENGTH)
    except ValueError as exc:
        raise _malformed(str(exc)) from None
    header, claims = parsed.header, parsed.claims
    if header != {"alg": "ES256", "typ": PROOF_TYPE, "kid": header.get("kid")} or not isinstance(header["kid"], str):
        raise _malformed(f"the header must be exactly alg ES256, typ {PROOF_TYPE} and kid.")
    if set(claims) != _CLAIMS:
        raise _malformed(f"the claims must be exactly {', '.join(sorted(_CLAIMS))}.")
    if not all(isinstance(claims[name], str) and claims[name] for name in _CLAIMS - {"iat"}):
        raise _malformed("sub, aud, htm, htu, bh and jti must be non-empty strings.")
    if isinstance(claims["iat"], bool) or not isinstance(claims["iat"], int):
        raise _malformed("iat must be a whole number of seconds.")
    if not 16 <= len(claims["jti"]) <= 64:
        raise _malformed("jti must be 16 to 64 characters.")
    return UnverifiedProof(device_id=claims["sub"], key_id=header["kid"], issued_at=claims["iat"], jti=claims["jti"],
                           claims=claims, signing_input=parsed.signing_input, signature=parsed.signature)


def verify_proof(proof: UnverifiedProof, *, key: ec.EllipticCurvePublicKey, request: ProofRequest,
                 now: int) -> None:
    """Check the signature with the device's registered key, then that the proof is for this request and fresh.
    Whether its ``jti`` was seen before is the caller's check (it keeps the ids)."""
    if proof.key_id != thumbprint(key):
        raise DeviceRejected(DeviceReason.PROOF_SIGNATURE, "The device proof was not made with this device's key.")
    if not jws.verifies(jws.Parsed(header={}, claims=dict(proof.claims), signing_input=proof.signing_input,
                                   signature=proof.signature), key):
        raise DeviceRejected(DeviceReason.PROOF_SIGNATURE, "The device proof's signature does not verify.")
    expected = {"aud": request.audience, "htm": request.method.upper(), "htu": request.url,
                "bh": body_hash(request.body)}
    wrong = sorted(name for name, value in expected.items() if proof.claims[name] != value)
    if wrong:
        raise DeviceRejected(DeviceReason.PROOF_WRONG_REQUEST,
                             f"The device proof was made for another request ({', '.join(wrong)} differ).")
    if not now - MAX_AGE_SECONDS <= proof.issued_at <= now + MAX_FUTURE_SECONDS:
        raise DeviceRejected(DeviceReason.PROOF_EXPIRED, "The device proof is too old or from the future: check "
                             "the computer's clock.")
