"""Passgate's token-signing key (``apps.keys``) as the device protocol uses it: ES256 for offline records and
provisioning packages, and the public keys (by kid) to check them."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec

from passgate.apps.keys import jwks, signing_key_current
from passgate.core.devices.keys import public_key_from_jwk


def es256_signer() -> tuple[str, ec.EllipticCurvePrivateKey]:
    kid, jwk = signing_key_current("ES256")
    key = jwk.private_key
    if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - ES256 keys are EC keys
        raise TypeError("the ES256 signing key is not an EC key")
    return kid, key


def es256_public_keys() -> dict[str, ec.EllipticCurvePublicKey]:
    """Every published ES256 key by kid (current and retired-but-published), as /oidc/jwks lists them."""
    return {k["kid"]: public_key_from_jwk({n: k[n] for n in ("kty", "crv", "x", "y")})
            for k in jwks()["keys"] if k.get("alg") == "ES256" and k.get("crv") == "P-256"}
