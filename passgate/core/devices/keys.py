"""A device's own key pair: ES256 (ECDSA on P-256 with SHA-256). The device makes it, keeps the private key
(file mode 0600 today; a TPM-held key later: only the public JWK and signatures cross the wire, so the server side
does not change), and registers the public key, as a JWK, when it joins.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric import ec

from passgate.core.devices.errors import DeviceReason, DeviceRejected

_MEMBERS = frozenset({"kty", "crv", "x", "y", "alg", "use", "kid"})
_COORDINATE_BYTES = 32


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: object) -> bytes:
    """Strict base64url without padding (RFC 7515 §2); ValueError otherwise."""
    if not isinstance(text, str) or "=" in text or any(c not in _B64URL for c in text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:  # non-canonical trailing bits
        raise ValueError("not canonical base64url")
    return data


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _bad(why: str) -> DeviceRejected:
    return DeviceRejected(DeviceReason.KEY_INVALID, f"The device's public key is not usable: {why}")


def public_key_from_jwk(jwk: object) -> ec.EllipticCurvePublicKey:
    """The P-256 public key a JWK describes; refused with ``device_key_invalid`` if it is anything else (another
    curve or type, private members, a point not on the curve)."""
    if not isinstance(jwk, Mapping):
        raise _bad("send it as a JSON Web Key object.")
    if "d" in jwk:
        raise _bad("it holds the private key. Send only the public key: the private key never leaves the device.")
    unknown = set(jwk) - _MEMBERS
    if unknown:
        raise _bad(f"unexpected members {sorted(unknown)}.")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or jwk.get("alg", "ES256") != "ES256":
        raise _bad("Passgate takes device keys on P-256 (kty EC, crv P-256, alg ES256).")
    try:
        x, y = b64url_decode(jwk.get("x")), b64url_decode(jwk.get("y"))
    except ValueError:
        raise _bad("x and y must be base64url.") from None
    if len(x) != _COORDINATE_BYTES or len(y) != _COORDINATE_BYTES:
        raise _bad("x and y must be 32 bytes each.")
    try:
        return ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                             ec.SECP256R1()).public_key()
    except ValueError:
        raise _bad("the point is not on the P-256 curve.") from None


def jwk_of(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(_COORDINATE_BYTES, "big")),
            "y": b64url(numbers.y.to_bytes(_COORDINATE_BYTES, "big"))}


def thumbprint(key: ec.EllipticCurvePublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): the key's id in proofs and in the registry."""
    canonical = json.dumps(jwk_of(key), separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode("ascii")).digest())
