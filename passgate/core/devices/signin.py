"""Signing in to a joined computer with a security key: the request bodies of the device API and the rules that are
the device's own (the WebAuthn ceremony, the methods policy and Conditional Access are shared with the web).

Device sign-in is an app to Conditional Access, as Entra's "Windows Sign In" is: policies may include or exclude
``DEVICE_SIGNIN_APP_ID``. Only a device-bound passkey on a security key can sign in to a computer (a synced passkey
lives on a phone or in a password manager, which the computer cannot reach: Passgate has no hybrid transport).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Final

from passgate.core.devices.errors import DeviceReason, DeviceRejected
from passgate.core.text import first_unusable

DEVICE_SIGNIN_APP_ID: Final = "5d1ab452-f56b-5c5b-a929-f32fbd4aaa37"  # uuid5(URL, passgate.dev/apps/device-sign-in)
DEVICE_SIGNIN_APP_NAME: Final = "Passgate device sign-in"
MAX_USER_NAME = 113


def _bad(message: str) -> DeviceRejected:
    return DeviceRejected(DeviceReason.SIGNIN_REQUEST_INVALID, message)


def read_begin(body: object) -> str | None:
    """``{"userName": "alice@contoso.com" | null}``: the user name asked for, or None for the key's accounts."""
    if not isinstance(body, dict) or set(body) - {"userName"}:
        raise _bad('The body must be {"userName": "<user principal name>"} or {"userName": null}.')
    name = body.get("userName")
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_USER_NAME:
        raise _bad(f"'userName' must be a user principal name of at most {MAX_USER_NAME} characters, or null.")
    if first_unusable(name) is not None:
        raise _bad("'userName' holds a NUL or an unpaired surrogate.")
    return name.strip().lower()


@dataclass(frozen=True)
class CompleteRequest:
    sign_in_id: uuid.UUID
    credential: dict[str, Any]


def read_complete(body: object) -> CompleteRequest:
    """``{"signInId": "<from begin>", "credential": <PublicKeyCredential JSON>}``."""
    if not isinstance(body, dict) or set(body) != {"signInId", "credential"}:
        raise _bad('The body must be {"signInId": "…", "credential": {…}}.')
    try:
        sign_in_id = uuid.UUID(str(body["signInId"]))
    except ValueError:
        raise DeviceRejected(DeviceReason.SIGNIN_UNKNOWN, "This sign-in is unknown: start again.") from None
    if not isinstance(body["credential"], dict):
        raise _bad("'credential' must be the assertion as a PublicKeyCredential JSON object.")
    return CompleteRequest(sign_in_id=sign_in_id, credential=body["credential"])


def require_device_bound(*, backup_eligible: bool) -> None:
    if backup_eligible:
        raise DeviceRejected(DeviceReason.PASSKEY_NOT_DEVICE_BOUND, "Sign in to a computer with a security key: "
                             "this passkey is a synced one (on a phone or in a password manager).")
