"""Offline records: what lets a computer unlock for a person without reaching Passgate.

After an online sign-in with a security key on a device, Passgate signs (ES256, with its token-signing key, whose
public half is at ``/oidc/jwks``) a record binding the person, the device, the credential and its public key,
with an expiry. Offline, the agent checks the record with the cached key set, then a fresh assertion from the key
against the public key in the record. Header ``{"alg": "ES256", "typ": "passgate-offline+jwt", "kid"}``; claims
``iss`` (Passgate's origin), ``sub`` (user object id), ``upn``, ``dev`` (deviceId), ``cid`` (credential id,
base64url), ``cpk`` (the credential's COSE public key, base64url), ``uid`` (POSIX uid), ``iat``, ``exp``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from passgate.core.devices import jws
from passgate.core.devices.errors import DeviceReason, DeviceRejected
from passgate.core.devices.keys import b64url, b64url_decode

RECORD_TYPE = "passgate-offline+jwt"
DEFAULT_DAYS = 7
MAX_DAYS = 30
MAX_RECORD_LENGTH = 8192
_CLAIMS = frozenset({"iss", "sub", "upn", "dev", "cid", "cpk", "uid", "iat", "exp"})


@dataclass(frozen=True)
class OfflineRecord:
    issuer: str
    user_id: str
    user_principal_name: str
    device_id: str
    credential_id: bytes
    credential_public_key: bytes  # COSE_Key
    uid: int
    issued_at: int
    expires_at: int


def issue(key: ec.EllipticCurvePrivateKey, kid: str, record: OfflineRecord) -> str:
    claims = {"iss": record.issuer, "sub": record.user_id, "upn": record.user_principal_name,
              "dev": record.device_id, "cid": b64url(record.credential_id), "cpk": b64url(record.credential_public_key),
              "uid": record.uid, "iat": record.issued_at, "exp": record.expires_at}
    return jws.sign(key, {"alg": "ES256", "typ": RECORD_TYPE, "kid": kid}, claims)


def _refused(why: str) -> DeviceRejected:
    return DeviceRejected(DeviceReason.OFFLINE_RECORD_INVALID, f"The offline sign-in record is not usable: {why}")


def verify(token: str, *, keys: dict[str, ec.EllipticCurvePublicKey], issuer: str, device_id: str,
           now: int) -> OfflineRecord:
    """The record, if Passgate signed it (``keys`` by kid), for this device, and not expired."""
    try:
        parsed = jws.parse(token, max_length=MAX_RECORD_LENGTH)
    except ValueError as exc:
        raise _refused(str(exc)) from None
    header, claims = parsed.header, parsed.claims
    key = keys.get(str(header.get("kid")))
    if header.get("alg") != "ES256" or header.get("typ") != RECORD_TYPE or key is None:
        raise _refused("it was not signed by a key this device knows for Passgate.")
    if not jws.verifies(parsed, key):
        raise _refused("its signature does not verify.")
    if set(claims) != _CLAIMS or not _typed(claims):
        raise _refused("its claims are not the ones Passgate writes.")
    if claims["iss"] != issuer or claims["dev"] != device_id:
        raise _refused("it was issued for another Passgate or another device.")
    if now >= claims["exp"]:
        raise DeviceRejected(DeviceReason.OFFLINE_RECORD_EXPIRED, "Offline sign-in with this key has expired on "
                             "this device: connect to the network and sign in once online.")
    return OfflineRecord(issuer=claims["iss"], user_id=claims["sub"], user_principal_name=claims["upn"],
                         device_id=claims["dev"], credential_id=b64url_decode(claims["cid"]),
                         credential_public_key=b64url_decode(claims["cpk"]), uid=claims["uid"],
                         issued_at=claims["iat"], expires_at=claims["exp"])


def _typed(claims: dict[str, Any]) -> bool:
    texts = all(isinstance(claims[n], str) and claims[n] for n in ("iss", "sub", "upn", "dev", "cid", "cpk"))
    numbers = all(isinstance(claims[n], int) and not isinstance(claims[n], bool) for n in ("uid", "iat", "exp"))
    if not (texts and numbers):
        return False
    try:
        b64url_decode(claims["cid"])
        b64url_decode(claims["cpk"])
    except ValueError:
        return False
    return True
