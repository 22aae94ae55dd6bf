"""Reading a join request: what a computer sends to become a device of the directory.

``{"enrollmentToken": "PGD-…", "displayName": "build-07", "operatingSystem": "Linux",
"operatingSystemVersion": "Debian 12", "trustType": "joined" | "hybrid", "publicKey": {JWK}}``. Every member is
required except ``trustType`` (``joined``); nothing else is taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum, unique
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from passgate.core.devices.errors import DeviceReason, DeviceRejected
from passgate.core.devices.keys import public_key_from_jwk
from passgate.core.text import first_unusable

MAX_DISPLAY_NAME = 256
MAX_OS_VERSION = 64
OPERATING_SYSTEMS = ("Linux",)


@unique
class TrustType(StrEnum):
    """How the device is joined. Graph's ``device.trustType`` says ``AzureAd`` for a joined device and ``ServerAd``
    for a hybrid one (also a member of an existing local domain)."""

    JOINED = "joined"
    HYBRID = "hybrid"

    @property
    def graph(self) -> str:
        return "AzureAd" if self is TrustType.JOINED else "ServerAd"


@dataclass(frozen=True)
class JoinRequest:
    enrollment_token: str
    display_name: str
    operating_system: str
    operating_system_version: str
    trust_type: TrustType
    public_key: ec.EllipticCurvePublicKey


_MEMBERS = frozenset({"enrollmentToken", "displayName", "operatingSystem", "operatingSystemVersion", "trustType",
                      "publicKey"})


def _bad(message: str) -> DeviceRejected:
    return DeviceRejected(DeviceReason.JOIN_REQUEST_INVALID, message)


def _text(body: dict[str, Any], name: str, limit: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"'{name}' is required: a non-empty string.")
    value = value.strip()
    if len(value) > limit:
        raise _bad(f"'{name}' may be at most {limit} characters long.")
    if first_unusable(value) is not None or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise _bad(f"'{name}' holds a control character or an unpaired surrogate.")
    return value


def read_join_request(body: object) -> JoinRequest:
    if not isinstance(body, dict):
        raise _bad("The join request must be a JSON object.")
    unknown = sorted(set(body) - _MEMBERS)
    if unknown:
        raise _bad(f"Unknown member(s) {', '.join(unknown)}; a join request has {', '.join(sorted(_MEMBERS))}.")
    token = body.get("enrollmentToken")
    if not isinstance(token, str) or not token:
        raise _bad("'enrollmentToken' is required: the device enrollment token from your administrator.")
    system = _text(body, "operatingSystem", 32)
    if system not in OPERATING_SYSTEMS:
        raise _bad(f"'operatingSystem' must be one of {', '.join(OPERATING_SYSTEMS)}: Passgate signs people in to "
                   "these with a security key.")
    trust = body.get("trustType", TrustType.JOINED.value)
    if trust not in [t.value for t in TrustType]:
        raise _bad("'trustType' must be joined or hybrid.")
    return JoinRequest(enrollment_token=token, display_name=_text(body, "displayName", MAX_DISPLAY_NAME),
                       operating_system=system,
                       operating_system_version=_text(body, "operatingSystemVersion", MAX_OS_VERSION),
                       trust_type=TrustType(trust), public_key=public_key_from_jwk(body.get("publicKey")))
