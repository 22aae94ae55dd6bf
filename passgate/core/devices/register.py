"""Registering a security key from a joined computer with a Temporary Access Pass (``passgate-device key
register``): a new employee goes from a pass to security-key sign-in without a browser. The request bodies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from passgate.core.devices.errors import DeviceReason, DeviceRejected

MAX_DISPLAY_NAME = 256


def _bad(message: str) -> DeviceRejected:
    return DeviceRejected(DeviceReason.REGISTER_REQUEST_INVALID, message)


@dataclass(frozen=True)
class BeginRequest:
    user_name: str
    temporary_access_pass: str


def read_begin(body: object) -> BeginRequest:
    """``{"userName": "alice@contoso.com", "temporaryAccessPass": "…"}``."""
    if not isinstance(body, dict) or set(body) != {"userName", "temporaryAccessPass"}:
        raise _bad('The body must be {"userName": "…", "temporaryAccessPass": "…"}.')
    name, tap = body["userName"], body["temporaryAccessPass"]
    if not isinstance(name, str) or not isinstance(tap, str) or not name.strip() or not tap.strip():
        raise _bad("'userName' and 'temporaryAccessPass' must be non-empty strings.")
    return BeginRequest(user_name=name, temporary_access_pass=tap)


@dataclass(frozen=True)
class CompleteRequest:
    registration_id: uuid.UUID
    credential: dict[str, Any]
    display_name: str


def read_complete(body: object) -> CompleteRequest:
    """``{"registrationId": "<from begin>", "credential": <PublicKeyCredential JSON>, "displayName": "…"}``."""
    if not isinstance(body, dict) or set(body) != {"registrationId", "credential", "displayName"}:
        raise _bad('The body must be {"registrationId": "…", "credential": {…}, "displayName": "…"}.')
    try:
        registration_id = uuid.UUID(str(body["registrationId"]))
    except ValueError:
        raise DeviceRejected(DeviceReason.REGISTER_UNKNOWN, "This registration is unknown: start again.") from None
    name = body["displayName"]
    if not isinstance(body["credential"], dict):
        raise _bad("'credential' must be the new credential as a PublicKeyCredential JSON object.")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_DISPLAY_NAME:
        raise _bad(f"'displayName' must be 1 to {MAX_DISPLAY_NAME} characters: the name the key gets in Security "
                   "info.")
    return CompleteRequest(registration_id=registration_id, credential=body["credential"],
                           display_name=name.strip())
