"""Provisioning packages: the setting "Use security keys for sign-in" for a computer no one manages, in a file an
administrator makes once (``passgate devices package``) and applies on the computer (``passgate-device package
apply FILE``), as Windows applies a provisioning package made in Configuration Designer.

The file is a compact JWS signed by Passgate's token-signing key (ES256; the public key is at ``/oidc/jwks``), so a
computer, and Passgate when the computer reports it, can tell it is genuine and unchanged. Header
``{"alg": "ES256", "typ": "passgate-provisioning+jwt", "kid"}``; claims ``iss`` (Passgate's origin), ``jti``,
``iat``, ``exp``, ``settings`` (``{"UseSecurityKeyForSignIn": 1 | 0}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from passgate.core.devices import jws
from passgate.core.devices.errors import DeviceReason, DeviceRejected

PACKAGE_TYPE = "passgate-provisioning+jwt"
SETTING = "UseSecurityKeyForSignIn"
MAX_PACKAGE_LENGTH = 8192
DEFAULT_VALID_DAYS = 365
MAX_VALID_DAYS = 3650
_CLAIMS = frozenset({"iss", "jti", "iat", "exp", "settings"})


@dataclass(frozen=True)
class Package:
    issuer: str
    package_id: str
    issued_at: int
    expires_at: int
    security_key_sign_in: bool


def issue(key: ec.EllipticCurvePrivateKey, kid: str, package: Package) -> str:
    claims = {"iss": package.issuer, "jti": package.package_id, "iat": package.issued_at, "exp": package.expires_at,
              "settings": {SETTING: 1 if package.security_key_sign_in else 0}}
    return jws.sign(key, {"alg": "ES256", "typ": PACKAGE_TYPE, "kid": kid}, claims)


def _refused(why: str) -> DeviceRejected:
    return DeviceRejected(DeviceReason.PACKAGE_INVALID, f"The provisioning package is not usable: {why}")


def verify(token: object, *, keys: Mapping[str, ec.EllipticCurvePublicKey], issuer: str, now: int) -> Package:
    """The package, if Passgate (``issuer``) signed it with one of ``keys`` (by kid) and it has not expired."""
    try:
        parsed = jws.parse(token.strip() if isinstance(token, str) else token, max_length=MAX_PACKAGE_LENGTH)
    except ValueError as exc:
        raise _refused(str(exc)) from None
    key = keys.get(str(parsed.header.get("kid")))
    if parsed.header.get("alg") != "ES256" or parsed.header.get("typ") != PACKAGE_TYPE or key is None:
        raise _refused("it was not signed by a key of this Passgate.")
    if not jws.verifies(parsed, key):
        raise _refused("its signature does not verify (the file was changed, or another server made it).")
    claims = parsed.claims
    settings = claims.get("settings")
    if (set(claims) != _CLAIMS or not isinstance(settings, dict) or set(settings) != {SETTING}
            or settings[SETTING] not in (0, 1) or isinstance(settings[SETTING], bool)
            or not all(isinstance(claims[n], int) and not isinstance(claims[n], bool) for n in ("iat", "exp"))
            or not all(isinstance(claims[n], str) for n in ("iss", "jti"))):
        raise _refused("its contents are not a provisioning package's.")
    if claims["iss"] != issuer:
        raise _refused("another Passgate made it.")
    if now >= claims["exp"]:
        raise _refused("it has expired: make a new one.")
    return Package(issuer=claims["iss"], package_id=claims["jti"], issued_at=claims["iat"],
                   expires_at=claims["exp"], security_key_sign_in=settings[SETTING] == 1)
